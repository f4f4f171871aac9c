import type { AppError } from '../domain/errors.js';
import { checkHealth, checkReadiness } from '../store/database.probe.js';
import type { ServiceContext } from './context.js';

/** What `/healthz` answers: the process is up; degraded, with the reason, when the database is away or out of room. */
export interface HealthReport {
  status: 'ok' | 'degraded';
  database: 'sqlite' | 'postgres';
  problem?: { code: string; message: string; since?: string };
}

const problemOf = (error: AppError): NonNullable<HealthReport['problem']> => {
  const since = (error.details as { since?: unknown } | undefined)?.since;
  return { code: error.code, message: error.message, ...(typeof since === 'string' ? { since } : {}) };
};

/** Liveness with a reason (reads only). */
export const reportHealth = async (ctx: ServiceContext): Promise<HealthReport> => {
  const problem = await checkHealth(ctx.database);
  return problem
    ? { status: 'degraded', database: ctx.database.engine, problem: problemOf(problem) }
    : { status: 'ok', database: ctx.database.engine };
};

/** Readiness: undefined when the database answers, has room and takes a write; else why not. */
export const readinessProblem = (ctx: ServiceContext): Promise<AppError | undefined> => checkReadiness(ctx.database);
