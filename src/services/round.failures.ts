import type { ServiceContext } from './context.js';

/**
 * What a background loop (notifications, escalation e-mails, quality) does
 * after each round: back off while rounds fail, come back to its interval
 * when one works, and say so in the log without flooding it. The database
 * away or out of room is logged by the database's health (once per burst);
 * any other failure is logged when it starts and then at most once a minute.
 */
export interface RoundFailures {
  /** After a failed round: logs it as above and returns how long to wait (ms) before the next. */
  failed(error: unknown): number;
  /** After a round that worked: returns the loop's interval; logs a recovery after failures. */
  succeeded(): number;
}

export const createRoundFailures = (
  ctx: Pick<ServiceContext, 'database' | 'logger'>,
  what: string,
  options: { intervalMs: number; maxDelayMs?: number; logEveryMs?: number },
): RoundFailures => {
  const maxDelayMs = Math.max(options.intervalMs, options.maxDelayMs ?? 60_000);
  const logEveryMs = options.logEveryMs ?? 60_000;
  let failures = 0;
  let firstAt = 0;
  let lastLoggedAt = -Infinity;
  let unlogged = 0;
  return {
    failed: (error) => {
      const now = Date.now();
      if (failures === 0) firstAt = now;
      failures += 1;
      unlogged += 1;
      const database = ctx.database.health.recognise(error, ctx.logger);
      if (!database && now - lastLoggedAt >= logEveryMs) {
        ctx.logger.error({ err: error, failures: unlogged }, `${what} failed; retrying with backoff`);
        lastLoggedAt = now;
        unlogged = 0;
      }
      // Doubling from the interval up to the ceiling, with a little jitter so instances do not retry in step.
      const backoff = Math.min(maxDelayMs, options.intervalMs * 2 ** Math.min(failures, 16));
      return Math.round(backoff * (0.8 + Math.random() * 0.4));
    },
    succeeded: () => {
      if (failures > 0) {
        ctx.logger.info(
          { failures, seconds: Math.round((Date.now() - firstAt) / 1000) },
          `${what} works again after ${failures} failed round(s)`,
        );
        failures = 0;
        unlogged = 0;
      }
      return options.intervalMs;
    },
  };
};
