import type { LoggedEvent } from '../domain/event.js';
import { factsOf, FACT_KINDS } from '../domain/quality.facts.js';
import { setMetaInTx } from '../store/boundary.repository.js';
import { withTransaction, type Tx } from '../store/event.repository.js';
import { getMeta } from '../store/item.repository.js';
import { clearQualityFacts, insertDeploymentFacts, upsertPrFacts } from '../store/quality.repository.js';
import type { ServiceContext } from './context.js';

/**
 * Keeps `quality_pr` and `quality_deployment` (src/domain/quality.facts.ts)
 * in step with the log: new events in the append transaction, the whole log
 * once when a database predates the tables (or on demand).
 */

const FACTS_KEY = 'quality.facts';
const FACTS_VERSION = '1';
const BATCH = 5000;

/** Records the facts of newly stored events, inside the append's transaction. */
export const maintainQualityFacts = async (tx: Tx, stored: readonly LoggedEvent[]): Promise<void> => {
  const relevant = stored.filter((e) => (FACT_KINDS as readonly string[]).includes(e.kind));
  if (relevant.length === 0) return;
  const { prs, deployments } = factsOf(relevant);
  await upsertPrFacts(tx, prs);
  await insertDeploymentFacts(tx, deployments);
};

interface ScanRow {
  id: string;
  kind: string;
  occurred_at: string;
  item_key: string | null;
  data: string | null;
}

/** Pages of events of the given kinds: SQLite in rowid order (the table's own order), PostgreSQL by id. */
async function* scanEvents(tx: Tx, kinds: readonly string[]): AsyncGenerator<ScanRow[]> {
  if (tx.engine === 'sqlite' && tx.sqlite) {
    const statement = tx.sqlite.prepare(
      `SELECT rowid AS n, id, kind, occurred_at, item_key, data FROM event WHERE rowid > ? AND kind IN (${kinds.map(() => '?').join(', ')}) ORDER BY rowid LIMIT ${BATCH}`,
    );
    let after = 0;
    for (;;) {
      const rows = statement.all(after, ...kinds) as (ScanRow & { n: number })[];
      if (rows.length > 0) yield rows;
      if (rows.length < BATCH) return;
      after = rows[rows.length - 1]!.n;
    }
  }
  let after = '';
  for (;;) {
    const rows = await tx.trx
      .selectFrom('event')
      .select(['id', 'kind', 'occurred_at', 'item_key', 'data'])
      .where('kind', 'in', [...kinds])
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    if (rows.length > 0) yield rows;
    if (rows.length < BATCH) return;
    after = rows[rows.length - 1]!.id;
  }
}

const parse = (data: string | null): Record<string, unknown> | null => {
  if (data === null) return null;
  try {
    const v = JSON.parse(data) as unknown;
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
};

export interface FactsRebuild {
  events: number;
  ms: number;
}

/** Rebuilds both fact tables from the log in one transaction, a page of events at a time. */
export const rebuildQualityFacts = async (ctx: ServiceContext): Promise<FactsRebuild> => {
  const started = performance.now();
  const events = await withTransaction(ctx.database, async (tx) => {
    await clearQualityFacts(tx);
    let n = 0;
    for await (const page of scanEvents(tx, FACT_KINDS)) {
      n += page.length;
      const { prs, deployments } = factsOf(
        page.map((row) => ({
          id: row.id,
          kind: row.kind as LoggedEvent['kind'],
          occurredAt: row.occurred_at,
          itemKey: row.item_key,
          data: parse(row.data),
        })),
      );
      await upsertPrFacts(tx, prs);
      await insertDeploymentFacts(tx, deployments);
    }
    await setMetaInTx(tx, FACTS_KEY, FACTS_VERSION);
    return n;
  });
  return { events, ms: Math.round(performance.now() - started) };
};

/** Rebuilds the facts when this database has never had them built (it predates them). */
export const ensureQualityFacts = async (ctx: ServiceContext): Promise<FactsRebuild | null> =>
  (await getMeta(ctx.database, FACTS_KEY)) === FACTS_VERSION ? null : rebuildQualityFacts(ctx);
