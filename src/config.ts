import { join, resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from './domain/errors.js';

/** Default port of `lanes serve`: L-A-N-E on a phone keypad is 5263. */
export const DEFAULT_PORT = 5263;

const envSchema = z.object({
  LANES_DATA_DIR: z.string().min(1).default('.lanes'),
  LANES_DATABASE_URL: z.string().min(1).optional(),
  LANES_CHARTER: z.string().min(1).optional(),
  LANES_HOST: z.string().min(1).default('127.0.0.1'),
  LANES_PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORT),
  LANES_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .default(5 * 1024 * 1024),
  LANES_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  dataDir: string;
  /** `postgres://…` or the path of the SQLite file. */
  databaseUrl: string;
  charterPath: string;
  host: string;
  port: number;
  bodyLimit: number;
  logLevel: string;
}

/** Reads the environment once, validates it, and returns a frozen config. */
export const loadConfig = (env: NodeJS.ProcessEnv, cwd: string, overrides: Partial<Config> = {}): Readonly<Config> => {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('LANES_CONFIG_INVALID', `${issue.path.join('.')}: ${issue.message}`, {
      issues: parsed.error.issues,
    });
  }
  const e = parsed.data;
  const dataDir = resolve(cwd, e.LANES_DATA_DIR);
  return Object.freeze({
    dataDir,
    databaseUrl: e.LANES_DATABASE_URL ?? join(dataDir, 'lanes.db'),
    charterPath: resolve(cwd, e.LANES_CHARTER ?? 'lanes.yaml'),
    host: e.LANES_HOST,
    port: e.LANES_PORT,
    bodyLimit: e.LANES_BODY_LIMIT,
    logLevel: e.LANES_LOG_LEVEL,
    ...overrides,
  });
};
