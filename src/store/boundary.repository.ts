import { CompiledQuery, sql } from 'kysely';
import type { BoundaryJudgement } from '../domain/boundary.js';
import type { LogFilter, MiddlemanSignal } from '../domain/boundary.evaluate.js';
import type { LoggedEvent } from '../domain/event.js';
import type { ItemState } from '../domain/item.projection.js';
import type { Database } from './database.js';
import { chunks, prepared, type Tx } from './event.repository.js';
import { EVENT_COLUMNS, rowToEvent, rowToItem } from './event.mapper.js';
import type {
  BoundaryDecisionTable,
  BoundaryWeekTable,
  EventTable,
  ItemTable,
  MiddlemanSignalTable,
  MiddlemanWeekTable,
} from './schema.js';

/** Storage of the boundary monitor: decisions, weekly counts, middleman signals. Queries only. */

export const decisionRowOf = (j: BoundaryJudgement, week: string): BoundaryDecisionTable => ({
  event_id: j.eventId,
  item_key: j.itemKey,
  occurred_at: j.occurredAt,
  week,
  team: j.team.id,
  domain: j.domain,
  rule: j.rule,
  actor_role: j.standing === 'bot' ? 'bot' : (j.actor.role ?? 'unknown'),
  standing: j.standing,
  via: j.via,
  direction: j.direction,
  crossing: j.crossing ? 1 : 0,
  sentence: j.sentence,
  owners: JSON.stringify(j.owners),
});

export const signalRowOf = (s: MiddlemanSignal): MiddlemanSignalTable => ({
  event_id: s.eventId,
  item_key: s.itemKey,
  occurred_at: s.occurredAt,
  week: s.week,
  team: s.team,
  person_id: s.personId,
  kind: s.kind,
});

/** Weekly counts to add (or, negative, to take away), keyed by their primary key. */
export class WeeklyDeltas {
  readonly decisions = new Map<string, BoundaryWeekTable>();
  readonly signals = new Map<string, MiddlemanWeekTable>();

  addDecision(
    row: Pick<BoundaryDecisionTable, 'team' | 'week' | 'domain' | 'actor_role' | 'standing' | 'direction'>,
    n = 1,
  ): void {
    const key = `${row.team}\u0001${row.week}\u0001${row.domain}\u0001${row.actor_role}\u0001${row.standing}\u0001${row.direction}`;
    const entry = this.decisions.get(key);
    if (entry) entry.decisions += n;
    else
      this.decisions.set(key, {
        team: row.team,
        week: row.week,
        domain: row.domain,
        actor_role: row.actor_role,
        standing: row.standing,
        direction: row.direction,
        decisions: n,
      });
  }

  addSignal(row: Pick<MiddlemanSignalTable, 'team' | 'week' | 'person_id' | 'kind'>, n = 1): void {
    const key = `${row.team}\u0001${row.week}\u0001${row.person_id}\u0001${row.kind}`;
    const entry = this.signals.get(key);
    if (entry) entry.signals += n;
    else
      this.signals.set(key, { team: row.team, week: row.week, person_id: row.person_id, kind: row.kind, signals: n });
  }
}

const INSERT_DECISION_SQLITE = `INSERT INTO boundary_decision (event_id, item_key, occurred_at, week, team, domain, rule, actor_role, standing, via, direction, crossing, sentence, owners) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`;
const INSERT_SIGNAL_SQLITE = `INSERT INTO middleman_signal (event_id, item_key, occurred_at, week, team, person_id, kind) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`;
const BUMP_WEEK_SQLITE = `INSERT INTO boundary_week (team, week, domain, actor_role, standing, direction, decisions) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (team, week, domain, actor_role, standing, direction) DO UPDATE SET decisions = boundary_week.decisions + excluded.decisions`;
const BUMP_SIGNAL_WEEK_SQLITE = `INSERT INTO middleman_week (team, week, person_id, kind, signals) VALUES (?, ?, ?, ?, ?) ON CONFLICT (team, week, person_id, kind) DO UPDATE SET signals = middleman_week.signals + excluded.signals`;

/** Stores decisions and signals; an event already judged is left as it is (and returned as not stored). */
export const insertBoundaryRows = async (
  tx: Tx,
  decisions: readonly BoundaryDecisionTable[],
  signals: readonly MiddlemanSignalTable[],
): Promise<void> => {
  if (tx.engine === 'sqlite') {
    const d = prepared(tx.sqlite!, INSERT_DECISION_SQLITE);
    for (const r of decisions)
      d.run(
        r.event_id,
        r.item_key,
        r.occurred_at,
        r.week,
        r.team,
        r.domain,
        r.rule,
        r.actor_role,
        r.standing,
        r.via,
        r.direction,
        r.crossing,
        r.sentence,
        r.owners,
      );
    const s = prepared(tx.sqlite!, INSERT_SIGNAL_SQLITE);
    for (const r of signals) s.run(r.event_id, r.item_key, r.occurred_at, r.week, r.team, r.person_id, r.kind);
    return;
  }
  for (const part of chunks(decisions, 1000)) {
    await tx.trx
      .insertInto('boundary_decision')
      .values(part)
      .onConflict((oc) => oc.column('event_id').doNothing())
      .execute();
  }
  for (const part of chunks(signals, 1000)) {
    await tx.trx
      .insertInto('middleman_signal')
      .values(part)
      .onConflict((oc) => oc.column('event_id').doNothing())
      .execute();
  }
};

/** Adds weekly deltas to the stored counts (rows that reach zero stay, harmlessly, at zero). */
export const applyWeeklyDeltas = async (tx: Tx, deltas: WeeklyDeltas): Promise<void> => {
  const decisions = [...deltas.decisions.values()].filter((r) => r.decisions !== 0);
  const signals = [...deltas.signals.values()].filter((r) => r.signals !== 0);
  if (tx.engine === 'sqlite') {
    const d = prepared(tx.sqlite!, BUMP_WEEK_SQLITE);
    for (const r of decisions) d.run(r.team, r.week, r.domain, r.actor_role, r.standing, r.direction, r.decisions);
    const s = prepared(tx.sqlite!, BUMP_SIGNAL_WEEK_SQLITE);
    for (const r of signals) s.run(r.team, r.week, r.person_id, r.kind, r.signals);
    return;
  }
  // Sorted, so two instances bumping the same weeks take their row locks in the same order.
  decisions.sort((a, b) => (keyOfWeek(a) < keyOfWeek(b) ? -1 : 1));
  for (const part of chunks(decisions, 1000)) {
    await tx.trx
      .insertInto('boundary_week')
      .values(part)
      .onConflict((oc) =>
        oc
          .columns(['team', 'week', 'domain', 'actor_role', 'standing', 'direction'])
          .doUpdateSet({ decisions: sql`boundary_week.decisions + excluded.decisions` }),
      )
      .execute();
  }
  signals.sort((a, b) =>
    `${a.team}|${a.week}|${a.person_id}|${a.kind}` < `${b.team}|${b.week}|${b.person_id}|${b.kind}` ? -1 : 1,
  );
  for (const part of chunks(signals, 1000)) {
    await tx.trx
      .insertInto('middleman_week')
      .values(part)
      .onConflict((oc) =>
        oc
          .columns(['team', 'week', 'person_id', 'kind'])
          .doUpdateSet({ signals: sql`middleman_week.signals + excluded.signals` }),
      )
      .execute();
  }
};

const keyOfWeek = (r: BoundaryWeekTable): string =>
  `${r.team}|${r.week}|${r.domain}|${r.actor_role}|${r.standing}|${r.direction}`;

/**
 * Removes the decisions and signals of these items (their history is about to
 * be walked again) and returns the weekly counts to take away.
 */
export const removeItemsBoundaryRows = async (
  tx: Tx,
  itemKeys: readonly string[],
  deltas: WeeklyDeltas,
): Promise<void> => {
  for (const part of chunks(itemKeys)) {
    const decisions = await tx.trx
      .selectFrom('boundary_decision')
      .select(['team', 'week', 'domain', 'actor_role', 'standing', 'direction'])
      .where('item_key', 'in', part)
      .execute();
    for (const r of decisions) deltas.addDecision(r, -1);
    const signals = await tx.trx
      .selectFrom('middleman_signal')
      .select(['team', 'week', 'person_id', 'kind'])
      .where('item_key', 'in', part)
      .where('kind', '!=', 'portal_lookup')
      .execute();
    for (const r of signals) deltas.addSignal(r, -1);
    await tx.trx.deleteFrom('boundary_decision').where('item_key', 'in', part).execute();
    await tx.trx
      .deleteFrom('middleman_signal')
      .where('item_key', 'in', part)
      .where('kind', '!=', 'portal_lookup')
      .execute();
  }
};

// One advisory lock guards the judgements on PostgreSQL: appends take it shared, a full recompute exclusively,
// so a recompute never interleaves with an append's deltas (appends wait while a recompute runs).
const BOUNDARY_LOCK = 0x6c616e6573; // "lanes"

export const lockBoundariesShared = async (tx: Tx): Promise<void> => {
  if (tx.engine === 'postgres') await sql`SELECT pg_advisory_xact_lock_shared(${BOUNDARY_LOCK})`.execute(tx.trx);
};

export const lockBoundariesExclusive = async (tx: Tx): Promise<void> => {
  if (tx.engine === 'postgres') await sql`SELECT pg_advisory_xact_lock(${BOUNDARY_LOCK})`.execute(tx.trx);
};

/** Every boundary row computed from the log; portal lookups are not in the log and stay. */
export const clearBoundaryRows = async (tx: Tx): Promise<void> => {
  await tx.trx.deleteFrom('boundary_decision').execute();
  await tx.trx.deleteFrom('boundary_week').execute();
  await tx.trx.deleteFrom('middleman_signal').where('kind', '!=', 'portal_lookup').execute();
  await tx.trx.deleteFrom('middleman_week').where('kind', '!=', 'portal_lookup').execute();
};

/** Incidents still open, for the incident-commander rule. */
export const listOpenIncidents = async (tx: Tx): Promise<ItemState[]> => {
  if (tx.engine === 'sqlite') {
    const rows = prepared(
      tx.sqlite!,
      "SELECT * FROM item WHERE kind = 'incident' AND closed_at IS NULL",
    ).all() as ItemTable[];
    return rows.map(rowToItem);
  }
  const rows = await tx.trx
    .selectFrom('item')
    .selectAll()
    .where('kind', '=', 'incident')
    .where('closed_at', 'is', null)
    .execute();
  return rows.map(rowToItem);
};

/** Every event column but the payload, which no judgement reads. */
const LOG_COLUMNS = EVENT_COLUMNS.filter((c) => c !== 'payload' && c !== 'payload_ref');

const logWhere = (filter: LogFilter): string => {
  if (filter.kinds === null) return '';
  const parts = [
    `kind IN (${filter.kinds.map((k) => `'${k}'`).join(', ')})`,
    // The first sight of an item may carry what it is (kind, team); an empty snapshot is stored as {}.
    "(item_snapshot IS NOT NULL AND item_snapshot <> '{}')",
  ];
  if (filter.dataField) parts.push(`data LIKE '%"field"%'`);
  return `(${parts.join(' OR ')})`;
};

/**
 * The log in log order (time, source, source event id), a page at a time,
 * without payloads; with a filter, only the events it can concern (the kinds
 * come from the code, never from input).
 */
export async function* readLogInOrder(
  tx: Tx,
  filter: LogFilter = { kinds: null, dataField: true },
  pageSize = 10_000,
): AsyncGenerator<LoggedEvent[]> {
  const where = logWhere(filter);
  const columns = `${LOG_COLUMNS.join(', ')}, NULL AS payload, NULL AS payload_ref`;
  const order = 'ORDER BY occurred_at, source, source_event_id';
  const first = `SELECT ${columns} FROM event ${where ? `WHERE ${where}` : ''} ${order} LIMIT ?`;
  const next = `SELECT ${columns} FROM event WHERE (occurred_at, source, source_event_id) > (?, ?, ?) ${where ? `AND ${where}` : ''} ${order} LIMIT ?`;
  let last: { occurred_at: string; source: string; source_event_id: string } | undefined;
  for (;;) {
    let rows: EventTable[];
    if (tx.engine === 'sqlite') {
      rows = (
        last === undefined
          ? prepared(tx.sqlite!, first).all(pageSize)
          : prepared(tx.sqlite!, next).all(last.occurred_at, last.source, last.source_event_id, pageSize)
      ) as EventTable[];
    } else {
      let n = 0;
      const text = (last === undefined ? first : next).replace(/\?/g, () => `$${++n}`);
      const params = last === undefined ? [pageSize] : [last.occurred_at, last.source, last.source_event_id, pageSize];
      rows = (await tx.trx.executeQuery<EventTable>(CompiledQuery.raw(text, params))).rows;
    }
    if (rows.length === 0) return;
    const tail = rows[rows.length - 1]!;
    last = { occurred_at: tail.occurred_at, source: tail.source, source_event_id: tail.source_event_id };
    yield rows.map(rowToEvent);
    if (rows.length < pageSize) return;
  }
}

// ---------------------------------------------------------------------------
// Reads for the reports

export const listBoundaryWeeks = async (
  database: Database,
  sinceWeek: string,
  team?: string,
): Promise<BoundaryWeekTable[]> => {
  let query = database.db
    .selectFrom('boundary_week')
    .selectAll()
    .where('week', '>=', sinceWeek)
    .where('decisions', '!=', 0);
  if (team !== undefined) query = query.where('team', '=', team);
  return (await query.execute()).map((r) => ({ ...r, decisions: Number(r.decisions) }));
};

export const listRecentCrossings = async (
  database: Database,
  team: string,
  sinceIso: string,
  limit: number,
): Promise<BoundaryDecisionTable[]> =>
  (
    await database.db
      .selectFrom('boundary_decision')
      .selectAll()
      .where('team', '=', team)
      .where('crossing', '=', 1)
      .where('occurred_at', '>=', sinceIso)
      .orderBy('occurred_at', 'desc')
      .orderBy('event_id', 'desc')
      .limit(limit)
      .execute()
  ).map((r) => ({ ...r, crossing: Number(r.crossing) }));

export const listMiddlemanWeeks = async (
  database: Database,
  sinceWeek: string,
  team?: string,
): Promise<MiddlemanWeekTable[]> => {
  let query = database.db
    .selectFrom('middleman_week')
    .selectAll()
    .where('week', '>=', sinceWeek)
    .where('signals', '!=', 0);
  if (team !== undefined) query = query.where('team', '=', team);
  return (await query.execute()).map((r) => ({ ...r, signals: Number(r.signals) }));
};

export const countBoundaryDecisions = async (database: Database): Promise<number> =>
  Number(
    (
      await database.db
        .selectFrom('boundary_decision')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** Events in the log, inside a transaction. */
export const countLogEvents = async (tx: Tx): Promise<number> =>
  Number(
    (
      await tx.trx
        .selectFrom('event')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** Writes a meta value inside a transaction. */
export const setMetaInTx = async (tx: Tx, key: string, value: string): Promise<void> => {
  await tx.trx
    .insertInto('meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
};
