import { EMPTY_CHARTER_INDEX, type CharterIndex } from '../domain/charter.identity.js';
import { isNoOpChange } from '../domain/event.converge.js';
import { AppError } from '../domain/errors.js';
import {
  assertValidBatch,
  compareEvents,
  identityKey,
  toUtcIso,
  type EventInput,
  type LoggedEvent,
  type ReportedBy,
} from '../domain/event.js';
import type { Principal } from '../domain/access.js';
import { scopesAllowSource } from '../domain/token.scopes.js';
import { applyEvent, canApplyIncrementally, projectItemWithStages, type ItemState } from '../domain/item.projection.js';
import { stagePolicyOf, stageRulesFingerprint } from '../domain/stage.js';
import { transitionOf, type StageTransition } from '../domain/stage.evidence.js';
import {
  bumpSourceStates,
  getEventsOfItems,
  getItemsByKey,
  insertEventsIgnoringDuplicates,
  lockItems,
  upsertItems,
  withTransaction,
  type SourceBump,
  type Tx,
} from '../store/event.repository.js';
import { bumpUnmapped } from '../store/connector.repository.js';
import { evaluateAppended } from './boundaries.service.js';
import { withoutTwins } from './events.converge.js';
import { maintainPortal } from './portal.service.js';
import { maintainQualityFacts } from './quality.facts.service.js';
import { clearPortalIndex } from '../store/portal.repository.js';
import { setMetaInTx } from '../store/boundary.repository.js';
import type { ServiceContext } from './context.js';
import { isReservedSource } from './sources.reserved.js';

/** Events by item key, keeping their order; events without an item are left out. */
const groupByItem = (events: readonly LoggedEvent[]): Map<string, LoggedEvent[]> => {
  const byKey = new Map<string, LoggedEvent[]>();
  for (const e of events) {
    if (!e.itemKey) continue;
    const list = byKey.get(e.itemKey);
    if (list) list.push(e);
    else byKey.set(e.itemKey, [e]);
  }
  return byKey;
};

/** The most events one API request may carry; larger imports are split by the client. */
export const MAX_BATCH = 10_000;

export interface AppendResult {
  received: number;
  stored: number;
  /** Events already in the log (the same source and source event id, or the same fact reported again): not stored again. */
  duplicates: number;
  /** Changes whose `from` equals their `to`: nothing changed, nothing stored (see `isNoOpChange`). */
  unchanged: number;
  /** Items whose projection changed. */
  itemsUpdated: number;
  /** Items re-projected from their whole history because an event arrived out of order. */
  itemsReplayed: number;
}

/**
 * PostgreSQL text cannot hold U+0000 (real Jira data carries it, e.g. at the end
 * of a summary); it becomes U+FFFD in columns of its own on both engines, so
 * both store the same thing. JSON columns keep it escaped.
 */
const withoutNul = (text: string): string => (text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text);
const nullableWithoutNul = (text: string | null): string | null => (text === null ? null : withoutNul(text));

/** Turns a validated input into a log entry: normalised time, resolved actor, team from component. */
export const toLoggedEvent = (input: EventInput, index: CharterIndex, id: string, receivedAt: string): LoggedEvent => {
  const actorIdentity = input.actor ? withoutNul(identityKey(input.actor)) : null;
  let snapshot: LoggedEvent['item'] = null;
  if (input.item) {
    const { key: _key, ...rest } = input.item;
    snapshot = rest;
    for (const [field, value] of Object.entries(snapshot)) {
      if (typeof value === 'string' && value.includes('\u0000')) snapshot = { ...snapshot, [field]: withoutNul(value) };
    }
    if (!snapshot.team && snapshot.component) {
      const team = index.teamByComponent.get(snapshot.component);
      if (team) snapshot = { ...snapshot, team };
    }
  }
  return {
    id,
    source: input.source,
    sourceEventId: input.sourceEventId,
    occurredAt: toUtcIso(input.occurredAt),
    receivedAt,
    actorIdentity,
    actorPersonId: actorIdentity ? (index.personByIdentity.get(actorIdentity) ?? null) : null,
    itemKey: input.item?.key ?? null,
    item: snapshot,
    kind: input.change.kind,
    field: input.change.field ?? null,
    from: nullableWithoutNul(input.change.from ?? null),
    to: nullableWithoutNul(input.change.to ?? null),
    text: nullableWithoutNul(input.change.text ?? null),
    target: nullableWithoutNul(input.change.target ?? null),
    data: input.change.data ?? null,
    payload: input.payload,
    payloadRef: input.payloadRef ?? null,
  };
};

/** Who posts a batch through the API: recorded on each event, and what their token lets them write. */
export interface Reporter {
  reportedBy: ReportedBy;
  /** The token's scopes in force; undefined for a browser session (its role alone decides). */
  scopes: readonly string[] | undefined;
}

/** The reporter behind an authenticated request. */
export const reporterOf = (principal: Principal): Reporter => ({
  reportedBy: { user: principal.user.email, token: principal.tokenId ?? null },
  scopes: principal.via === 'token' ? (principal.scopes ?? []) : undefined,
});

/**
 * Refuses, with each offender's index, events of a source only Lanes and its
 * connectors write (whoever asks), and of a source the token's scopes do not name.
 */
const assertSourcesAllowed = (events: readonly EventInput[], scopes: readonly string[] | undefined): void => {
  const rejections: SourceRejection[] = [];
  events.forEach((e, index) => {
    if (isReservedSource(e.source)) {
      rejections.push({
        index,
        code: 'LANES_SOURCE_RESERVED',
        message: `source "${e.source}" is written only by its verified webhooks and syncs`,
        path: ['source'],
      });
    } else if (scopes !== undefined && !scopesAllowSource(scopes, e.source)) {
      rejections.push({
        index,
        code: 'LANES_FORBIDDEN',
        message: `this API token lacks the events:write:${e.source} scope`,
        path: ['source'],
      });
    }
  });
  const first = rejections[0];
  if (!first) return;
  throw new AppError(first.code, `${rejections.length} event(s) refused: ${first.message}; nothing was stored`, {
    rejections,
    ...(first.code === 'LANES_FORBIDDEN' ? { missingScope: `events:write:${events[first.index]!.source}` } : {}),
  });
};

interface SourceRejection {
  index: number;
  code: 'LANES_SOURCE_RESERVED' | 'LANES_FORBIDDEN';
  message: string;
  path: string[];
}

/**
 * Validates a batch posted through the API and appends it atomically, as
 * reported by `reporter`. Connector sources and Lanes' own are refused.
 */
export const ingestEvents = async (ctx: ServiceContext, raw: unknown, reporter?: Reporter): Promise<AppendResult> => {
  if (Array.isArray(raw) && raw.length > MAX_BATCH) {
    throw new AppError('LANES_BATCH_TOO_LARGE', `a batch may hold at most ${MAX_BATCH} events; split it`, {
      max: MAX_BATCH,
      received: raw.length,
    });
  }
  const events = assertValidBatch(raw);
  assertSourcesAllowed(events, reporter?.scopes);
  return appendEvents(ctx, events, reporter ? { reportedBy: reporter.reportedBy } : {});
};

/**
 * Appends validated events to the log and updates the item projection, all in
 * one transaction. Re-delivered events are counted and skipped. An item whose
 * new events sort before what it has already seen is re-projected from its
 * whole history, so delivery order never changes the result. `reportedBy`
 * marks events posted through the API (not the events Lanes derives from them).
 */
export const appendEvents = async (
  ctx: ServiceContext,
  inputs: readonly EventInput[],
  options: { reportedBy?: ReportedBy } = {},
): Promise<AppendResult> => {
  const receivedAt = ctx.clock().toISOString();
  const index = ctx.charter()?.index ?? EMPTY_CHARTER_INDEX;
  // A change to the value the field already had is no change, whichever source sends it.
  const changes = inputs.some(isNoOpChange) ? inputs.filter((input) => !isNoOpChange(input)) : inputs;
  const logged = changes.map((input) => toLoggedEvent(input, index, ctx.newId(), receivedAt));
  // One reporter object for the whole batch (its JSON is made once when the rows are written).
  if (options.reportedBy) for (const e of logged) e.reportedBy = options.reportedBy;

  const result = await withTransaction(ctx.database, async (tx) => {
    const first = await appendInTransaction(ctx, tx, logged, receivedAt);
    // Events Lanes derives from what arrived ("a production deployment carried this fix") go in the same
    // transaction. They derive nothing further; the bound only guards against a mistake.
    let derived = first.derived;
    for (let round = 0; derived.length > 0 && round < 3; round++) {
      const more = derived.map((input) => toLoggedEvent(input, index, ctx.newId(), receivedAt));
      const next = await appendInTransaction(ctx, tx, more, receivedAt);
      for (const t of next.teams) first.teams.add(t);
      derived = next.derived;
    }
    for (const e of first.stored) {
      if (e.itemKey !== null) continue;
      const team = teamOfItemless(ctx, e);
      if (team !== null) first.teams.add(team);
    }
    return {
      result: {
        received: inputs.length,
        stored: first.stored.length,
        duplicates: changes.length - first.stored.length,
        unchanged: inputs.length - changes.length,
        itemsUpdated: first.itemsUpdated,
        itemsReplayed: first.itemsReplayed,
      },
      unknownActors: ctx.charter() ? unknownActors(first.stored, ctx.charter()!.index) : [],
      notice:
        first.stored.length === 0
          ? null
          : {
              teams: [...first.teams],
              itemless: first.stored.some((e) => e.itemKey === null && teamOfItemless(ctx, e) === null),
              kinds: [...new Set(first.stored.map((e) => e.kind))],
              earliestOccurredAt: first.stored.reduce(
                (min, e) => (e.occurredAt < min ? e.occurredAt : min),
                first.stored[0]!.occurredAt,
              ),
            },
    };
  });
  if (result.notice) announceAppended(ctx, result.notice);
  // External identities the charter does not name are shown by `lanes sources` as unmapped, once per new event.
  if (result.unknownActors.length > 0) {
    await bumpUnmapped(ctx.database, result.unknownActors, receivedAt);
  }
  return result.result;
};

/**
 * The team an event without an item belongs to, from the charter: its
 * `data.team`, else its `data.repo`'s mapping, else the team owning its
 * `data.service` or `data.component`; null when none applies.
 */
const teamOfItemless = (ctx: ServiceContext, e: LoggedEvent): string | null => {
  const loaded = ctx.charter();
  if (!loaded) return null;
  const data = e.data ?? {};
  const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
  const team = text(data['team']);
  if (team !== null && loaded.charter.teams.some((t) => t.id === team)) return team;
  const repo = text(data['repo'])?.toLowerCase();
  if (repo !== undefined)
    for (const [name, scope] of Object.entries(loaded.charter.connectors?.github?.repos ?? {}))
      if (name.toLowerCase() === repo) return scope.team;
  for (const c of [text(data['service']), text(data['component'])])
    if (c !== null) {
      const owner = loaded.index.teamByComponent.get(c);
      if (owner !== undefined) return owner;
    }
  return null;
};

/** What an append touched, for work that follows the log (the quality signals). */
export interface AppendedNotice {
  teams: string[];
  /** An event without an item (a deployment, an SLI sample, coverage) may bear on any team. */
  itemless: boolean;
  /** The kinds of the stored events: which signal families can have moved. */
  kinds: string[];
  earliestOccurredAt: string;
}

const appendListeners = new WeakMap<ServiceContext['database'], Set<(notice: AppendedNotice) => void>>();

/**
 * Tells the listeners that inputs of the quality signals changed outside the
 * log (SLO samples pushed through the API), as an append would.
 */
export const announceAppended = (ctx: ServiceContext, notice: AppendedNotice): void => {
  for (const listener of appendListeners.get(ctx.database) ?? []) listener(notice);
};

/** Calls `listener` after each append to this database that stored something (in this process). */
export const onAppended = (ctx: ServiceContext, listener: (notice: AppendedNotice) => void): (() => void) => {
  let set = appendListeners.get(ctx.database);
  if (!set) appendListeners.set(ctx.database, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
};

interface AppendedInTransaction {
  teams: Set<string>;
  stored: LoggedEvent[];
  itemsUpdated: number;
  itemsReplayed: number;
  derived: EventInput[];
}

/** One round of an append: log, projection and stage history, boundary judgements, portal index. */
const appendInTransaction = async (
  ctx: ServiceContext,
  tx: Tx,
  logged: readonly LoggedEvent[],
  receivedAt: string,
): Promise<AppendedInTransaction> => {
  const inserted = await insertEventsIgnoringDuplicates(tx, logged);
  const insertedKeys = [...groupByItem(inserted).keys()];
  await lockItems(tx, insertedKeys);
  const found = await getItemsByKey(tx, insertedKeys);
  // The same fact reported again under another id (another path, another second) is a duplicate too.
  const stored = await withoutTwins(tx, inserted, found);
  await maintainQualityFacts(tx, stored);

  const freshByItem = groupByItem(stored);
  const current =
    stored.length === inserted.length ? found : new Map([...found].filter(([key]) => freshByItem.has(key)));

  const replayKeys: string[] = [];
  const next: ItemState[] = [];
  const transitions: StageTransition[] = [];
  const policy = stagePolicyOf(ctx.charter()?.charter);
  for (const [key, fresh] of freshByItem) {
    const item = current.get(key);
    if (!canApplyIncrementally(item, fresh)) {
      replayKeys.push(key);
      continue;
    }
    fresh.sort(compareEvents);
    let folded = item;
    for (const e of fresh) {
      const after = applyEvent(folded, e, policy);
      const moved = transitionOf(folded, after, e);
      if (moved) transitions.push(moved);
      folded = after;
    }
    next.push(folded!);
  }
  let replayed = new Map<string, LoggedEvent[]>();
  if (replayKeys.length > 0) {
    replayed = groupByItem(await getEventsOfItems(tx, replayKeys));
    for (const events of replayed.values()) {
      const projected = projectItemWithStages(events, policy);
      next.push(projected.item!);
      transitions.push(...projected.transitions);
    }
  }
  await upsertItems(tx, next);
  // The boundary monitor judges the new events in the same transaction, so its figures never lag the log.
  await evaluateAppended(ctx, tx, { before: current, stored, replayed });
  const derived = await maintainPortal(ctx, tx, {
    before: current,
    next,
    transitions,
    replayedKeys: replayKeys,
    stored,
    recordedAt: receivedAt,
  });
  await bumpSourceStates(tx, sourceBumps(logged, stored, receivedAt));
  const teams = new Set<string>();
  for (const item of next) if (item.team !== null) teams.add(item.team);
  return { teams, stored, itemsUpdated: next.length, itemsReplayed: replayKeys.length, derived };
};

/**
 * True for an actor identity the charter names neither as a person (own id,
 * alias, connector identity) nor as a bot: `lanes sources` lists it as an
 * unmapped identity, and `lanes import` counts it the same way.
 */
export const isUnknownActor = (identity: string | null, index: CharterIndex): boolean =>
  identity !== null && !index.personByIdentity.has(identity) && !identity.startsWith('bot:') && !index.isBot(identity);

/** Actors the charter names neither as a person nor as a bot, once per event (`isUnknownActor`). */
const unknownActors = (
  stored: readonly LoggedEvent[],
  index: CharterIndex,
): { source: string; category: 'identity'; value: string; count: number }[] => {
  const counts = new Map<string, { source: string; category: 'identity'; value: string; count: number }>();
  for (const e of stored) {
    const identity = e.actorIdentity;
    if (identity === null || !isUnknownActor(identity, index)) continue;
    const key = `${e.source}\u0001${identity}`;
    const entry = counts.get(key);
    if (entry) entry.count += 1;
    else counts.set(key, { source: e.source, category: 'identity', value: identity, count: 1 });
  }
  return [...counts.values()];
};

const sourceBumps = (all: readonly LoggedEvent[], stored: readonly LoggedEvent[], receivedAt: string): SourceBump[] => {
  const bumps = new Map<string, SourceBump>();
  const bump = (source: string): SourceBump => {
    let b = bumps.get(source);
    if (!b) bumps.set(source, (b = { source, stored: 0, duplicates: 0, lastOccurredAt: null, receivedAt }));
    return b;
  };
  for (const e of all) bump(e.source).duplicates += 1;
  for (const e of stored) {
    const b = bump(e.source);
    b.duplicates -= 1;
    b.stored += 1;
    if (!b.lastOccurredAt || e.occurredAt > b.lastOccurredAt) b.lastOccurredAt = e.occurredAt;
  }
  return [...bumps.values()];
};

/** The meta key under which the stage rules of the stored stages are kept. */
export const STAGE_FINGERPRINT_KEY = 'stage.fingerprint';

export interface RebuildResult {
  items: number;
  events: number;
}

/**
 * Throws the item projection away and rebuilds it from the log, a page of items
 * at a time so memory stays bounded, inside one transaction so readers see
 * either the old projection or the new one.
 */
export const rebuildProjection = async (ctx: ServiceContext, pageSize = 2000): Promise<RebuildResult> =>
  withTransaction(ctx.database, async (tx) => {
    await tx.trx.deleteFrom('item').execute();
    await clearPortalIndex(tx);
    let after = '';
    let items = 0;
    let events = 0;
    const policy = stagePolicyOf(ctx.charter()?.charter);
    for (;;) {
      const rows = await tx.trx
        .selectFrom('event')
        .select('item_key')
        .distinct()
        .where('item_key', 'is not', null)
        .where('item_key', '>', after)
        .orderBy('item_key')
        .limit(pageSize)
        .execute();
      if (rows.length === 0) break;
      const keys = rows.map((r) => r.item_key!);
      after = keys[keys.length - 1]!;
      const history = await getEventsOfItems(tx, keys);
      events += history.length;
      const projected: ItemState[] = [];
      const transitions: StageTransition[] = [];
      for (const list of groupByItem(history).values()) {
        const walked = projectItemWithStages(list, policy);
        projected.push(walked.item!);
        transitions.push(...walked.transitions);
      }
      await upsertItems(tx, projected);
      // The portal index and the stage history follow the projection (recorded stage changes keep their ids).
      await maintainPortal(ctx, tx, {
        before: new Map(),
        next: projected,
        transitions,
        replayedKeys: keys,
        stored: history,
        recordedAt: ctx.clock().toISOString(),
      });
      items += projected.length;
    }
    // Which stage rules and policy the stored stages follow (`ensurePortalIndex` derives them again when these change).
    await setMetaInTx(tx, STAGE_FINGERPRINT_KEY, stageRulesFingerprint(policy));
    return { items, events };
  });
