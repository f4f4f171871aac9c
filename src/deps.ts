import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import type { LoadedCharter, ServiceContext } from './services/context.js';
import { openDatabase, type Database } from './store/database.js';

/** The one place where everything is wired together. */
export interface AppDeps extends ServiceContext {
  config: Readonly<Config>;
  setCharter(charter: LoadedCharter): void;
  close(): Promise<void>;
}

export const createLogger = (level: string): Logger =>
  pino({
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'],
      censor: '[redacted]',
    },
  });

export const createDeps = async (
  config: Readonly<Config>,
  options: { logger?: Logger; database?: Database; clock?: () => Date } = {},
): Promise<AppDeps> => {
  const logger = options.logger ?? createLogger(config.logLevel);
  const database = options.database ?? (await openDatabase({ url: config.databaseUrl, logger }));
  let current: LoadedCharter | undefined;
  return {
    config,
    database,
    logger,
    clock: options.clock ?? (() => new Date()),
    newId: randomUUID,
    charter: () => current,
    setCharter: (charter) => {
      current = charter;
    },
    close: () => database.close(),
  };
};
