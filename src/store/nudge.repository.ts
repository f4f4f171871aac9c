import { sql } from 'kysely';
import type { Database } from './database.js';
import type { BoundaryNudgeTable } from './schema.js';

/** Queries for boundary nudges (`boundary_nudge`) and the crossings they are about. */

/** A crossing not yet considered for a nudge, with what the message needs of its event and item. */
export interface NudgeCrossingRow {
  eventId: string;
  itemKey: string | null;
  occurredAt: string;
  team: string;
  domain: string;
  /** JSON of `BoundaryOwners`. */
  owners: string;
  /** The event's source (`github`, `jira`, ...), null when the event is gone. */
  source: string | null;
  kind: string | null;
  field: string | null;
  from: string | null;
  to: string | null;
  target: string | null;
  itemKind: string | null;
  itemTitle: string | null;
  itemUrl: string | null;
  /** A decider of the domain decided on the same item later. */
  followedUp: boolean;
}

export interface CrossingPage {
  teams: readonly string[];
  /** Only crossings that occurred at or after this instant (ISO-8601). */
  since: string;
  /** Keyset: only crossings after this one in (occurred_at, event_id) order. */
  after?: { occurredAt: string; eventId: string } | undefined;
  limit: number;
}

/**
 * Crossings (a person decided outside their lane; bots and people the charter
 * does not know are never nudged) of the given teams since `since`, that no
 * nudge row holds yet, oldest first.
 */
export const listCrossingsToNudge = async (database: Database, page: CrossingPage): Promise<NudgeCrossingRow[]> => {
  if (page.teams.length === 0) return [];
  const rows = await database.db
    .selectFrom('boundary_decision as d')
    .leftJoin('event as e', 'e.id', 'd.event_id')
    .leftJoin('item as i', 'i.key', 'd.item_key')
    .select([
      'd.event_id',
      'd.item_key',
      'd.occurred_at',
      'd.team',
      'd.domain',
      'd.owners',
      'e.source',
      'e.kind',
      'e.field',
      'e.from_value',
      'e.to_value',
      'e.target',
      'i.kind as item_kind',
      'i.title as item_title',
      'i.url as item_url',
    ])
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom('boundary_decision as f')
            .select(sql.lit(1).as('one'))
            .whereRef('f.item_key', '=', 'd.item_key')
            .whereRef('f.domain', '=', 'd.domain')
            .where('f.standing', '=', 'decider')
            .whereRef('f.occurred_at', '>', 'd.occurred_at'),
        )
        .as('followed_up'),
    )
    .where('d.crossing', '=', 1)
    .where('d.standing', 'not in', ['bot', 'unknown'])
    .where('d.team', 'in', [...page.teams])
    .where('d.occurred_at', '>=', page.since)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('boundary_nudge as n').select('n.id').whereRef('n.decision_event_id', '=', 'd.event_id'),
        ),
      ),
    )
    .$if(page.after !== undefined, (q) =>
      q.where((eb) =>
        eb.or([
          eb('d.occurred_at', '>', page.after!.occurredAt),
          eb.and([eb('d.occurred_at', '=', page.after!.occurredAt), eb('d.event_id', '>', page.after!.eventId)]),
        ]),
      ),
    )
    .orderBy('d.occurred_at')
    .orderBy('d.event_id')
    .limit(page.limit)
    .execute();
  return rows.map((r) => ({
    eventId: r.event_id,
    itemKey: r.item_key,
    occurredAt: r.occurred_at,
    team: r.team,
    domain: r.domain,
    owners: r.owners,
    source: r.source,
    kind: r.kind,
    field: r.field,
    from: r.from_value,
    to: r.to_value,
    target: r.target,
    itemKind: r.item_kind,
    itemTitle: r.item_title,
    itemUrl: r.item_url,
    // PostgreSQL answers a boolean, SQLite 0 or 1.
    followedUp: Boolean(Number(r.followed_up)),
  }));
};

/** A stored nudge as the services see it. */
export interface NudgeRow {
  id: string;
  team: string;
  itemKey: string | null;
  domain: string;
  decisionEventId: string;
  channel: string;
  target: string | null;
  mode: string;
  status: string;
  reason: string | null;
  body: string | null;
  createdAt: string;
  sentAt: string | null;
  error: string | null;
}

const toRow = (r: BoundaryNudgeTable): NudgeRow => ({
  id: r.id,
  team: r.team,
  itemKey: r.item_key,
  domain: r.domain,
  decisionEventId: r.decision_event_id,
  channel: r.channel,
  target: r.target,
  mode: r.mode,
  status: r.status,
  reason: r.reason,
  body: r.body,
  createdAt: r.created_at,
  sentAt: r.sent_at,
  error: r.error,
});

/** Nudges of the given teams created at or after `since` that went out or were held for sending (the caps). */
export const listRecentNudges = async (
  database: Database,
  teams: readonly string[],
  since: string,
): Promise<NudgeRow[]> => {
  if (teams.length === 0) return [];
  const rows = await database.db
    .selectFrom('boundary_nudge')
    .selectAll()
    .where('team', 'in', [...teams])
    .where('created_at', '>=', since)
    .where('status', 'in', ['sending', 'sent', 'dry_run'])
    .execute();
  return rows.map(toRow);
};

/**
 * Stores a nudge unless its decision already has one (another run got there
 * first). Returns false when nothing was stored: the caller must not send.
 */
export const claimNudge = async (database: Database, nudge: NudgeRow): Promise<boolean> => {
  const inserted = await database.db
    .insertInto('boundary_nudge')
    .values({
      id: nudge.id,
      team: nudge.team,
      item_key: nudge.itemKey,
      domain: nudge.domain,
      decision_event_id: nudge.decisionEventId,
      channel: nudge.channel,
      target: nudge.target,
      mode: nudge.mode,
      status: nudge.status,
      reason: nudge.reason,
      body: nudge.body,
      created_at: nudge.createdAt,
      sent_at: nudge.sentAt,
      error: nudge.error,
    })
    .onConflict((oc) => oc.column('decision_event_id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
};

/** Records how a send ended. */
export const finishNudge = async (
  database: Database,
  id: string,
  outcome: { status: 'sent' | 'failed'; sentAt: string | null; error: string | null },
): Promise<void> => {
  await database.db
    .updateTable('boundary_nudge')
    .set({ status: outcome.status, sent_at: outcome.sentAt, error: outcome.error })
    .where('id', '=', id)
    .execute();
};

/** The most recent nudges first, of one team or all. */
export const listNudgeRows = async (
  database: Database,
  filter: { team?: string | undefined; limit: number },
): Promise<NudgeRow[]> => {
  const rows = await database.db
    .selectFrom('boundary_nudge')
    .selectAll()
    .$if(filter.team !== undefined, (q) => q.where('team', '=', filter.team!))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit)
    .execute();
  return rows.map(toRow);
};
