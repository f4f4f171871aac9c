import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { buildCharterIndex } from '../src/domain/charter.identity.js';
import { buildDemoCharter } from '../src/domain/demo/demo.charter.js';
import type { LoadedCharter, ServiceContext } from '../src/services/context.js';
import type { Database } from '../src/store/database.js';

/** The instant every benchmark's demo data is generated at, so runs are comparable. */
export const BENCH_NOW = new Date('2026-11-01T00:00:00Z');

export const demoCharter = (): LoadedCharter => {
  const charter = buildDemoCharter(42, BENCH_NOW);
  return { charter, index: buildCharterIndex(charter), path: 'demo', loadedAt: BENCH_NOW.toISOString() };
};

/** A service context on the demo charter with a silent logger; override what a benchmark needs. */
export const demoContext = (database: Database, overrides: Partial<ServiceContext> = {}): ServiceContext => {
  const loaded = demoCharter();
  return {
    database,
    logger: pino({ level: 'silent' }),
    clock: () => BENCH_NOW,
    newId: randomUUID,
    charter: () => loaded,
    ...overrides,
  };
};

/** Ids like the floor's (`prefix1`, `prefix2`, …) so both sides insert rows of the same shape. */
export const counterIds = (prefix: string): (() => string) => {
  let n = 0;
  return () => `${prefix}${++n}`;
};
