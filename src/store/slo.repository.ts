import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import { chunks, type Tx } from './event.repository.js';
import type { DB, SloAlertTable, SloTable } from './schema.js';

/** Storage of SLOs, their per-minute samples and their alert episodes (docs/slo.md). Queries only. */

type Q = Kysely<DB>;
const q = (from: Database | Pick<Tx, 'trx'>): Q => ('trx' in from ? from.trx : from.db);

export type SloRow = SloTable;
export type SloAlertRow = SloAlertTable;

const numberRow = (r: SloTable): SloTable => ({ ...r, target: Number(r.target), window_days: Number(r.window_days) });

export const listSloRows = async (from: Database | Pick<Tx, 'trx'>, team?: string): Promise<SloRow[]> => {
  let query = q(from).selectFrom('slo').selectAll();
  if (team !== undefined) query = query.where('team', '=', team);
  return (await query.orderBy('name').execute()).map(numberRow);
};

export const getSloRow = async (from: Database | Pick<Tx, 'trx'>, name: string): Promise<SloRow | undefined> => {
  const row = await q(from).selectFrom('slo').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? numberRow(row) : undefined;
};

/** Inserts or replaces SLO definitions; the event checkpoint is kept unless the service changed. */
export const upsertSloRows = async (tx: Tx, rows: readonly SloRow[]): Promise<void> => {
  for (const row of rows) {
    const existing = await getSloRow(tx, row.name);
    if (!existing) {
      await tx.trx.insertInto('slo').values(row).execute();
      continue;
    }
    await tx.trx
      .updateTable('slo')
      .set({
        team: row.team,
        component: row.component,
        service: row.service,
        target: row.target,
        window_days: row.window_days,
        spec: row.spec,
        source: row.source,
        updated_at: row.updated_at,
        events_checkpoint: existing.service === row.service ? existing.events_checkpoint : null,
      })
      .where('name', '=', row.name)
      .execute();
  }
};

/** Removes SLOs of a source that are no longer defined there, with their samples and alerts. */
export const deleteSlosOfSourceExcept = async (tx: Tx, source: string, keep: readonly string[]): Promise<string[]> => {
  const rows = await tx.trx.selectFrom('slo').select('name').where('source', '=', source).execute();
  const gone = rows.map((r) => r.name).filter((n) => !keep.includes(n));
  for (const part of chunks(gone)) {
    await tx.trx.deleteFrom('slo_sample').where('slo', 'in', part).execute();
    await tx.trx.deleteFrom('slo_sample_seen').where('slo', 'in', part).execute();
    await tx.trx.deleteFrom('slo_alert').where('slo', 'in', part).execute();
    await tx.trx.deleteFrom('slo').where('name', 'in', part).execute();
  }
  return gone;
};

export const setEventsCheckpoint = async (tx: Tx, name: string, receivedAt: string): Promise<void> => {
  await tx.trx.updateTable('slo').set({ events_checkpoint: receivedAt }).where('name', '=', name).execute();
};

export interface SampleToAdd {
  /** ISO minute, e.g. 2026-05-01T12:34:00.000Z. */
  bucket: string;
  good: number;
  total: number;
  /** Counted once per SLO; undefined: always counted. */
  id?: string | undefined;
}

/**
 * Adds samples to an SLO's minute buckets. A sample whose id was already
 * counted for this SLO is skipped (idempotent pushes and event re-reads).
 * Returns how many were added.
 */
export const addSamples = async (tx: Tx, slo: string, samples: readonly SampleToAdd[]): Promise<number> => {
  let fresh: SampleToAdd[] = samples.filter((s) => s.id === undefined);
  const withId = new Map<string, SampleToAdd>();
  for (const s of samples) if (s.id !== undefined && !withId.has(s.id)) withId.set(s.id, s);
  for (const part of chunks([...withId.keys()], 500)) {
    const inserted = await tx.trx
      .insertInto('slo_sample_seen')
      .values(part.map((sample_id) => ({ slo, sample_id })))
      .onConflict((oc) => oc.columns(['slo', 'sample_id']).doNothing())
      .returning('sample_id')
      .execute();
    fresh = fresh.concat(inserted.map((r) => withId.get(r.sample_id)!));
  }
  const byBucket = new Map<string, { good: number; total: number }>();
  for (const s of fresh) {
    const sum = byBucket.get(s.bucket) ?? { good: 0, total: 0 };
    sum.good += s.good;
    sum.total += s.total;
    byBucket.set(s.bucket, sum);
  }
  const rows = [...byBucket].map(([bucket, sum]) => ({ slo, bucket, ...sum }));
  for (const part of chunks(rows, 500)) {
    await tx.trx
      .insertInto('slo_sample')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['slo', 'bucket']).doUpdateSet((eb) => ({
          good: eb(eb.ref('slo_sample.good'), '+', eb.ref('excluded.good')),
          total: eb(eb.ref('slo_sample.total'), '+', eb.ref('excluded.total')),
        })),
      )
      .execute();
  }
  return fresh.length;
};

export const listSamples = async (
  from: Database | Pick<Tx, 'trx'>,
  slo: string,
  since?: string,
): Promise<{ bucket: string; good: number; total: number }[]> => {
  let query = q(from).selectFrom('slo_sample').select(['bucket', 'good', 'total']).where('slo', '=', slo);
  if (since !== undefined) query = query.where('bucket', '>=', since);
  const rows = await query.orderBy('bucket').execute();
  return rows.map((r) => ({ bucket: r.bucket, good: Number(r.good), total: Number(r.total) }));
};

/** The SLO's earliest sample minute, or null without samples. */
export const firstSampleBucket = async (from: Database | Pick<Tx, 'trx'>, slo: string): Promise<string | null> => {
  const row = await q(from)
    .selectFrom('slo_sample')
    .select('bucket')
    .where('slo', '=', slo)
    .orderBy('bucket')
    .limit(1)
    .executeTakeFirst();
  return row?.bucket ?? null;
};

/** sli_sample events received at or after `since` (all when null), oldest first. */
export const listSliEventsSince = async (
  from: Database | Pick<Tx, 'trx'>,
  since: string | null,
): Promise<{ id: string; occurredAt: string; receivedAt: string; data: string | null }[]> => {
  let query = q(from)
    .selectFrom('event')
    .select(['id', 'occurred_at', 'received_at', 'data'])
    .where('kind', '=', 'sli_sample');
  if (since !== null) query = query.where('received_at', '>=', since);
  const rows = await query.orderBy('received_at').execute();
  return rows.map((r) => ({ id: r.id, occurredAt: r.occurred_at, receivedAt: r.received_at, data: r.data }));
};

export const listAlerts = async (
  from: Database | Pick<Tx, 'trx'>,
  slos?: readonly string[],
): Promise<SloAlertRow[]> => {
  let query = q(from).selectFrom('slo_alert').selectAll();
  if (slos !== undefined) {
    if (slos.length === 0) return [];
    query = query.where('slo', 'in', [...slos]);
  }
  const rows = await query.orderBy('slo').orderBy('fired_at').orderBy('rule').execute();
  return rows.map((r) => ({ ...r, burn_long: Number(r.burn_long), burn_short: Number(r.burn_short) }));
};

export const insertAlerts = async (tx: Tx, rows: readonly SloAlertRow[]): Promise<void> => {
  for (const part of chunks(rows, 500)) {
    await tx.trx
      .insertInto('slo_alert')
      .values(part)
      .onConflict((oc) => oc.columns(['slo', 'rule', 'fired_at']).doNothing())
      .execute();
  }
};

export const resolveAlert = async (
  tx: Tx,
  key: { slo: string; rule: string; fired_at: string },
  resolvedAt: string,
): Promise<void> => {
  await tx.trx
    .updateTable('slo_alert')
    .set({ resolved_at: resolvedAt })
    .where('slo', '=', key.slo)
    .where('rule', '=', key.rule)
    .where('fired_at', '=', key.fired_at)
    .execute();
};
