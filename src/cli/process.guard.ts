import type { AppDeps } from '../deps.js';
import { EXIT } from './io.js';

/**
 * `lanes serve` outlives its database. An error that reaches the process
 * outside any request — an unhandled rejection, or an 'error' event nobody
 * listened to — is logged either way: when it is the database away or out of
 * room it is logged once per burst by the database's health and the process
 * keeps serving (503s until the database is back); anything else is logged as
 * fatal and the process exits with code 1, for its supervisor to start afresh.
 * Returns a function that removes the handlers.
 */
export const guardProcess = (deps: Pick<AppDeps, 'database' | 'logger'>): (() => void) => {
  const handle = (kind: string) => (error: unknown) => {
    if (deps.database.health.recognise(error, deps.logger)) return;
    deps.logger.fatal({ err: error }, `${kind}: Lanes stops with exit code 1 for its supervisor to restart it`);
    process.exit(EXIT.failure);
  };
  const onRejection = handle('an unhandled promise rejection');
  const onException = handle('an uncaught exception');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
};
