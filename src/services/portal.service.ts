import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type {
  PortalItem,
  PortalItemSummary,
  PortalSearchQuery,
  PortalSearchResult,
  ShareLink,
  StageStep,
} from '../api/portal.contract.js';
import type { Principal } from '../domain/access.js';
import type { Charter } from '../domain/charter.schema.js';
import { AppError } from '../domain/errors.js';
import type { EventInput, LoggedEvent } from '../domain/event.js';
import type { ItemState } from '../domain/item.projection.js';
import {
  isVisibleToStakeholders,
  itemMatchesSearch,
  keyOfReference,
  portalSettingsOf,
  queryWords,
  showsField,
  type PortalRow,
} from '../domain/portal.js';
import { statusWords } from '../domain/portal.status.js';
import {
  deploymentFactsOf,
  fixCommitOf,
  isLiveDeployment,
  type StageEvidence,
  type StageTransition,
} from '../domain/stage.evidence.js';
import { STAGE_LABELS, type Stage } from '../domain/stage.js';
import { weekOf } from '../domain/week.js';
import { applyWeeklyDeltas, insertBoundaryRows, WeeklyDeltas } from '../store/boundary.repository.js';
import { withTransaction, type Tx } from '../store/event.repository.js';
import { getItem } from '../store/item.repository.js';
import { classifyDatabaseError } from '../store/database.errors.js';
import {
  deploymentsOfCommits,
  fixesOfCommits,
  followedItemKeys,
  getPortalRow,
  getPortalRows,
  getShareLink,
  getShareLinkByHash,
  insertDeploymentCommits,
  insertFixCommits,
  insertItemLinks,
  insertShareLink,
  insertStageChanges,
  itemKeyOfLink,
  listItemLinks,
  listShareLinks,
  listStageChanges,
  removeStaleStageChanges,
  revokeShareLink,
  searchPortalItems,
  upsertPortalItems,
  type DeploymentCommit,
  type PortalSearchRow,
} from '../store/portal.repository.js';
import type { ServiceContext } from './context.js';

/**
 * The self-serve status portal (PRODUCT.md C4): the portal index kept in step
 * with the item projection, search, the plain-language item status, share
 * links, and the lookups counted for the middleman load.
 */

// ---------------------------------------------------------------------------
// Kept in step with appends

export const portalRowOf = (item: ItemState, charter: Charter | undefined): PortalRow => ({
  key: item.key,
  kind: item.kind,
  title: item.title,
  team: item.team,
  component: item.component,
  customer: item.customer,
  reporter: item.reporter,
  stage: item.stage,
  url: item.url,
  visible: isVisibleToStakeholders(item, portalSettingsOf(charter)),
  updatedAt: item.updatedAt,
});

export interface PortalAppend {
  before: ReadonlyMap<string, ItemState>;
  next: readonly ItemState[];
  transitions: readonly StageTransition[];
  /** Items walked again from their first event, whose stage history was recomputed whole. */
  replayedKeys: readonly string[];
  stored: readonly LoggedEvent[];
  recordedAt: string;
}

const MAX_SOURCE_EVENT_ID = 200;

/** The event that says a production deployment carried an item's fix (source `lanes`, idempotent by its id). */
const liveEvent = (itemKey: string, deployment: DeploymentCommit): EventInput => {
  let id = `deploy-link/${deployment.source}/${deployment.sourceEventId}/${itemKey}`;
  if (id.length > MAX_SOURCE_EVENT_ID) {
    id = `deploy-link/${createHash('sha256').update(id).digest('hex')}`;
  }
  return {
    source: 'lanes',
    sourceEventId: id,
    occurredAt: deployment.deployedAt,
    item: { key: itemKey },
    change: {
      kind: 'deployed',
      data: {
        environment: deployment.environment,
        production: true,
        state: 'success',
        sha: deployment.sha,
        ...(deployment.deploymentId ? { deploymentId: deployment.deploymentId } : {}),
        deploymentEvent: `${deployment.source}/${deployment.sourceEventId}`,
        linkedBy: 'commit',
      },
    },
  };
};

/**
 * Inside the append's transaction: the portal rows of the items that changed,
 * their stage changes, item links, and the fix commits and production
 * deployments seen. Returns the `deployed` events to append for items whose
 * fix a production deployment carried (found from either side, whichever
 * arrives last).
 */
export const maintainPortal = async (ctx: ServiceContext, tx: Tx, a: PortalAppend): Promise<EventInput[]> => {
  const charter = ctx.charter()?.charter;
  const rows = a.next.map((item) => portalRowOf(item, charter));
  const replayed = new Set(a.replayedKeys);
  const nextByKey = new Map(a.next.map((i) => [i.key, i]));
  await upsertPortalItems(tx, rows, (key) => {
    const before = a.before.get(key);
    const after = nextByKey.get(key);
    return (
      replayed.has(key) ||
      !before ||
      !after ||
      before.title !== after.title ||
      before.component !== after.component ||
      before.customer !== after.customer
    );
  });
  if (a.replayedKeys.length > 0) {
    await removeStaleStageChanges(tx, a.replayedKeys, new Set(a.transitions.map((t) => t.id)));
  }
  await insertStageChanges(tx, a.transitions, a.recordedAt);

  const links: { from: string; to: string; relation: string }[] = [];
  const fixes: { itemKey: string; sha: string; mergedAt: string }[] = [];
  const deployments: DeploymentCommit[] = [];
  for (const e of a.stored) {
    if (e.kind === 'linked' && e.itemKey !== null && e.target !== null) {
      const relation = e.data?.['relation'];
      links.push({ from: e.itemKey, to: e.target, relation: typeof relation === 'string' ? relation : 'relates to' });
    }
    const sha = fixCommitOf(e);
    if (sha !== null && e.itemKey !== null) fixes.push({ itemKey: e.itemKey, sha, mergedAt: e.occurredAt });
    if (e.source !== 'lanes' && isLiveDeployment(e)) {
      const facts = deploymentFactsOf(e)!;
      for (const s of facts.shas)
        deployments.push({
          sha: s,
          eventId: e.id,
          source: e.source,
          sourceEventId: e.sourceEventId,
          environment: facts.environment,
          deploymentId: facts.id,
          deployedAt: e.occurredAt,
        });
    }
  }
  if (links.length > 0) await insertItemLinks(tx, links);
  if (fixes.length === 0 && deployments.length === 0) return [];
  await insertFixCommits(tx, fixes);
  await insertDeploymentCommits(tx, deployments);

  const derived = new Map<string, EventInput>();
  const add = (itemKey: string, mergedAt: string, d: DeploymentCommit): void => {
    if (d.deployedAt < mergedAt) return; // deployed before the fix was merged: it cannot carry it
    const event = liveEvent(itemKey, d);
    derived.set(event.sourceEventId, event);
  };
  if (fixes.length > 0) {
    const found = await deploymentsOfCommits(
      tx,
      fixes.map((f) => f.sha),
    );
    for (const f of fixes) for (const d of found) if (d.sha === f.sha) add(f.itemKey, f.mergedAt, d);
  }
  if (deployments.length > 0) {
    const found = await fixesOfCommits(
      tx,
      deployments.map((d) => d.sha),
    );
    for (const d of deployments) for (const f of found) if (f.sha === d.sha) add(f.itemKey, f.mergedAt, d);
  }
  return [...derived.values()];
};

// ---------------------------------------------------------------------------
// Reading

const NOT_SHARED = 'This item does not exist or is not shared with you.';

const summaryOf = (row: PortalRow, charter: Charter | undefined, severity: string | null): PortalItemSummary => {
  const settings = portalSettingsOf(charter);
  return {
    key: row.key,
    kind: row.kind,
    title: showsField(settings, 'title') ? row.title : null,
    severity: showsField(settings, 'severity') ? severity : null,
    team: showsField(settings, 'team') ? row.team : null,
    component: showsField(settings, 'component') ? row.component : null,
    customer: showsField(settings, 'customer') ? row.customer : null,
    stage: row.stage,
    stageLabel: STAGE_LABELS[row.stage],
    updatedAt: row.updatedAt,
  };
};

/** The ids a user is known by as a reporter: their charter person (by e-mail) and their e-mail identity. */
const reporterIds = (ctx: ServiceContext, principal: Principal): string[] => {
  const email = principal.user.email.toLowerCase();
  const ids = [`email:${email}`];
  const person = ctx.charter()?.charter.people.find((p) => p.email?.toLowerCase() === email);
  if (person) ids.push(person.id);
  const identity = ctx.charter()?.index.personByIdentity.get(`email:${email}`);
  if (identity && !ids.includes(identity)) ids.push(identity);
  return ids;
};

/** A reporter typed as an e-mail address or a person id: every id the log may hold them under. */
const reporterAliases = (ctx: ServiceContext, reporter: string): string[] => {
  const value = reporter.trim();
  const ids = new Set([value]);
  const email = value.includes('@') ? value.replace(/^email:/i, '').toLowerCase() : null;
  const loaded = ctx.charter();
  if (email !== null) {
    ids.add(`email:${email}`);
    const person = loaded?.charter.people.find((p) => p.email?.toLowerCase() === email);
    if (person) ids.add(person.id);
  } else {
    const person = loaded?.charter.people.find((p) => p.id === value);
    if (person?.email) ids.add(`email:${person.email.toLowerCase()}`);
  }
  return [...ids];
};

/** Word searches page by sequence (`s:`), filter-only searches by update time and key (`u:`). */
const encodeCursor = (row: PortalSearchRow, words: boolean): string =>
  Buffer.from(words ? `s:${row.seq ?? 0}` : `u:${row.updatedAt}\u0001${row.key}`, 'utf8').toString('base64url');

const decodeCursor = (cursor: string): { before?: { updatedAt: string; key: string }; beforeSeq?: number } => {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (/^s:\d{1,18}$/.test(text)) return { beforeSeq: Number(text.slice(2)) };
  const [updatedAt, key] = text.startsWith('u:') ? text.slice(2).split('\u0001') : [];
  if (!updatedAt || !key) throw new AppError('LANES_CURSOR_INVALID', 'cursor is not one this server gave out');
  return { before: { updatedAt, key } };
};

/** Severity is not in the portal index (it changes often and is shown only on pages): read it per item. */
const severities = async (ctx: ServiceContext, keys: readonly string[]): Promise<Map<string, string | null>> => {
  const out = new Map<string, string | null>();
  if (keys.length === 0) return out;
  const rows = await ctx.database.db.selectFrom('item').select(['key', 'severity']).where('key', 'in', keys).execute();
  for (const r of rows) out.set(r.key, r.severity);
  return out;
};

/** Search for stakeholders: only visible items; a key or a pasted link goes straight to its item. */
export const searchPortal = async (
  ctx: ServiceContext,
  principal: Principal,
  query: PortalSearchQuery,
): Promise<PortalSearchResult> => {
  const charter = ctx.charter()?.charter;
  const q = query.q?.trim() ?? '';
  if (q !== '') {
    const named = keyOfReference(q) ?? (/^https?:\/\//i.test(q) ? await itemKeyOfLink(ctx.database, q) : null);
    if (named !== null) {
      const row = (await getPortalRow(ctx.database, named)) ?? (await getPortalRow(ctx.database, named.toUpperCase()));
      if (row?.visible && itemMatchesSearch(row, { ...query, q: undefined })) {
        const sev = await severities(ctx, [row.key]);
        return { items: [summaryOf(row, charter, sev.get(row.key) ?? null)], nextCursor: null, exact: row.key };
      }
      if (keyOfReference(q) !== null && !/\s/.test(q) && /^https?:\/\//i.test(q)) {
        return { items: [], nextCursor: null, exact: null };
      }
    }
  }
  const reporters =
    query.mine === 'reported'
      ? reporterIds(ctx, principal)
      : query.reporter !== undefined
        ? reporterAliases(ctx, query.reporter)
        : undefined;
  const keys = query.mine === 'followed' ? await followedItemKeys(ctx.database, principal.user.id) : undefined;
  const rows: PortalSearchRow[] = [];
  const limit = query.limit;
  const words = queryWords(q);
  const cursor = query.cursor ? decodeCursor(query.cursor) : {};
  // "Items I reported" may match several ids; each is an indexed query, merged newest first.
  let continueSeq: number | undefined;
  for (const reporter of reporters ?? [query.reporter]) {
    const found = await searchPortalItems(ctx.database, {
      words,
      reporter,
      customer: query.customer,
      team: query.team,
      component: query.component,
      stage: query.stage,
      keys,
      before: cursor.before,
      beforeSeq: cursor.beforeSeq,
      limit: limit + 1,
    });
    rows.push(...found);
    if (found.continueSeq !== undefined) continueSeq = Math.max(continueSeq ?? 0, found.continueSeq);
  }
  rows.sort((a, b) =>
    words.length > 0
      ? (b.seq ?? 0) - (a.seq ?? 0)
      : a.updatedAt === b.updatedAt
        ? b.key.localeCompare(a.key)
        : b.updatedAt.localeCompare(a.updatedAt),
  );
  const page = rows.slice(0, limit);
  const sev = await severities(
    ctx,
    page.map((r) => r.key),
  );
  return {
    items: page.map((r) => summaryOf(r, charter, sev.get(r.key) ?? null)),
    nextCursor:
      rows.length > limit
        ? encodeCursor(page[page.length - 1]!, words.length > 0)
        : continueSeq !== undefined
          ? Buffer.from(`s:${continueSeq}`, 'utf8').toString('base64url')
          : null,
    exact: null,
  };
};

const parseEvidence = (json: string): StageEvidence => {
  try {
    const v = JSON.parse(json) as Partial<StageEvidence>;
    return { summary: String(v.summary ?? ''), source: String(v.source ?? ''), url: v.url ?? null };
  } catch {
    return { summary: '', source: '', url: null };
  }
};

/**
 * One item as a stakeholder sees it: stage, status in words, what happens
 * next, the next update due, a linked incident, the stage history with
 * evidence, related items. Hidden and security-sensitive items are "not
 * found", so their existence is never revealed.
 */
export const portalItem = async (
  ctx: ServiceContext,
  principal: Principal | null,
  key: string,
): Promise<PortalItem> => {
  const charter = ctx.charter()?.charter;
  const row = await getPortalRow(ctx.database, key);
  const item = row?.visible ? await getItem(ctx.database, key) : undefined;
  if (!row || !row.visible || !item) throw new AppError('LANES_NOT_FOUND', NOT_SHARED, { key });

  const changes = await listStageChanges(ctx.database, key);
  const history: StageStep[] = changes.map((c) => ({
    id: c.id,
    at: c.occurred_at,
    from: c.from_stage as Stage | null,
    to: c.to_stage as Stage,
    label: STAGE_LABELS[c.to_stage as Stage],
    evidence: parseEvidence(c.evidence),
  }));
  const links = await listItemLinks(ctx.database, key);
  const linkedRows = (
    await getPortalRows(
      ctx.database,
      links.map((l) => l.otherKey),
    )
  ).filter((r) => r.visible);
  const linkedSev = await severities(
    ctx,
    linkedRows.map((r) => r.key),
  );
  const incidentRow = linkedRows.find((r) => r.kind === 'incident' && r.key !== key) ?? null;
  const duplicate = links.find((l) => /^duplicates?(_of)?$/i.test(l.relation));
  const duplicateOf = duplicate && linkedRows.some((r) => r.key === duplicate.otherKey) ? duplicate.otherKey : null;
  // The words judge the stage again from the item's facts, so the badge and the sentence always agree.
  const { stage, ...words } = statusWords(
    { ...item, stageSince: history.at(-1)?.at ?? item.updatedAt, duplicateOf },
    charter,
    ctx.clock(),
  );
  const following = principal ? (await followedItemKeys(ctx.database, principal.user.id)).includes(key) : false;
  const settings = portalSettingsOf(charter);
  return {
    ...summaryOf(row, charter, item.severity),
    stage,
    stageLabel: STAGE_LABELS[stage],
    duplicateOf: stage === 'duplicate' ? duplicateOf : null,
    ...words,
    incident: incidentRow
      ? {
          key: incidentRow.key,
          title: showsField(settings, 'title') ? incidentRow.title : null,
          stage: incidentRow.stage,
          stageLabel: STAGE_LABELS[incidentRow.stage],
        }
      : null,
    history,
    related: linkedRows
      .filter((r) => r !== incidentRow)
      .slice(0, 10)
      .map((r) => summaryOf(r, charter, linkedSev.get(r.key) ?? null)),
    following,
    reportedAt: item.createdAt,
  };
};

// ---------------------------------------------------------------------------
// Share links

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

const presentLink = (
  row: { id: string; item_key: string; created_at: string; created_by: string; revoked_at: string | null },
  url: string | null,
): ShareLink => ({
  id: row.id,
  itemKey: row.item_key,
  url,
  createdAt: row.created_at,
  createdBy: row.created_by,
  revokedAt: row.revoked_at,
});

/** A read-only link to one visible item; the secret is shown once and stored only as a hash. */
export const createShareLink = async (
  ctx: ServiceContext,
  principal: Principal,
  key: string,
  publicUrl: string,
): Promise<ShareLink> => {
  const row = await getPortalRow(ctx.database, key);
  if (!row?.visible) throw new AppError('LANES_NOT_FOUND', NOT_SHARED, { key });
  const token = randomBytes(24).toString('base64url');
  const link = {
    id: randomUUID(),
    token_hash: hashToken(token),
    item_key: row.key,
    created_by: principal.user.email,
    created_at: ctx.clock().toISOString(),
    revoked_at: null,
  };
  await insertShareLink(ctx.database, link);
  return presentLink(link, `${publicUrl}/s/${token}`);
};

/** Whether a principal may see and revoke a link: members and admins every link, stakeholders their own. */
const mayManageLink = (principal: Principal, link: { created_by: string }): boolean =>
  principal.user.role !== 'stakeholder' || link.created_by === principal.user.email;

/** An item's share links: every link for members and admins, a stakeholder's own for a stakeholder. */
export const listItemShareLinks = async (
  ctx: ServiceContext,
  principal: Principal,
  key: string,
): Promise<ShareLink[]> => {
  const row = await getPortalRow(ctx.database, key);
  if (!row?.visible) throw new AppError('LANES_NOT_FOUND', NOT_SHARED, { key });
  return (await listShareLinks(ctx.database, key))
    .filter((l) => mayManageLink(principal, l))
    .map((l) => presentLink(l, null));
};

/** Revokes a link: its creator, or a member or admin. Someone else's link answers a stakeholder as a missing one. */
export const revokeItemShareLink = async (ctx: ServiceContext, principal: Principal, id: string): Promise<void> => {
  const link = await getShareLink(ctx.database, id);
  if (!link || !mayManageLink(principal, link)) throw new AppError('LANES_NOT_FOUND', 'no such share link', { id });
  await revokeShareLink(ctx.database, id, ctx.clock().toISOString());
};

/** The item behind a share link, for anyone holding it; a revoked or unknown link is "not found". */
export const sharedItem = async (ctx: ServiceContext, token: string): Promise<PortalItem> => {
  const link = await getShareLinkByHash(ctx.database, hashToken(token));
  if (!link || link.revoked_at !== null) throw new AppError('LANES_NOT_FOUND', NOT_SHARED);
  return portalItem(ctx, null, link.item_key);
};

// ---------------------------------------------------------------------------
// Lookups: each status answered by the portal (page, share link, Slack) is middleman load avoided

interface PendingLookup {
  itemKey: string;
  viewer: string;
  at: string;
}

const pending = new WeakMap<
  ServiceContext['database'],
  { lookups: PendingLookup[]; seen: Set<string>; timer?: NodeJS.Timeout }
>();

/**
 * Counts a lookup of an item's status: once per viewer, item and day, written
 * in batches (at most a second later) so a busy portal does not write per
 * request. `flushPortalLookups` writes what is pending now.
 */
export const recordPortalLookup = (ctx: ServiceContext, itemKey: string, viewer: string): void => {
  let state = pending.get(ctx.database);
  if (!state) pending.set(ctx.database, (state = { lookups: [], seen: new Set() }));
  const at = ctx.clock().toISOString();
  const dedupe = `${viewer}\u0001${itemKey}\u0001${at.slice(0, 10)}`;
  if (state.seen.has(dedupe)) return;
  if (state.seen.size > 100_000) state.seen.clear();
  state.seen.add(dedupe);
  state.lookups.push({ itemKey, viewer, at });
  if (!state.timer) armLookupFlush(ctx, state, 1000);
};

/** Lookups kept for a retry while the database is away; beyond it the oldest are dropped (they are only counts). */
const MAX_KEPT_LOOKUPS = 10_000;

const armLookupFlush = (
  ctx: ServiceContext,
  state: { lookups: PendingLookup[]; timer?: NodeJS.Timeout },
  ms: number,
) => {
  state.timer = setTimeout(() => {
    state.timer = undefined;
    flushPortalLookups(ctx).catch((error: unknown) => {
      // The database away or out of room is logged once per burst by its health; the lookups wait for a retry.
      if (!ctx.database.health.recognise(error, ctx.logger)) {
        ctx.logger.error({ err: error }, 'counting portal lookups failed');
      }
      if (state.lookups.length > 0 && !state.timer) armLookupFlush(ctx, state, 5000);
    });
  }, ms);
  state.timer.unref();
};

export const flushPortalLookups = async (ctx: ServiceContext): Promise<number> => {
  const state = pending.get(ctx.database);
  if (!state || state.lookups.length === 0) return 0;
  if (state.timer) clearTimeout(state.timer);
  state.timer = undefined;
  const lookups = state.lookups.splice(0);
  try {
    return await writeLookups(ctx, lookups);
  } catch (error) {
    // The database away: the lookups wait for the next flush instead of being lost.
    if (classifyDatabaseError(error)) state.lookups.unshift(...lookups.slice(-MAX_KEPT_LOOKUPS));
    throw error;
  }
};

const writeLookups = async (ctx: ServiceContext, lookups: readonly PendingLookup[]): Promise<number> => {
  const charter = ctx.charter()?.charter;
  const rows = await getPortalRows(ctx.database, [...new Set(lookups.map((l) => l.itemKey))]);
  const teamOf = new Map(rows.map((r) => [r.key, r.team]));
  const pmOf = new Map((charter?.teams ?? []).map((t) => [t.id, t.trio.product]));
  const deltas = new WeeklyDeltas();
  const signals = lookups.flatMap((l) => {
    const team = teamOf.get(l.itemKey);
    if (!team) return [];
    const row = {
      event_id: `lookup:${randomUUID()}`,
      item_key: l.itemKey,
      occurred_at: l.at,
      week: weekOf(l.at),
      team,
      person_id: pmOf.get(team) ?? '',
      kind: 'portal_lookup',
    };
    deltas.addSignal(row);
    return [row];
  });
  await withTransaction(ctx.database, async (tx) => {
    await insertBoundaryRows(tx, [], signals);
    await applyWeeklyDeltas(tx, deltas);
  });
  return signals.length;
};

// ---------------------------------------------------------------------------
// Slack: /lanes status <key or words>

export interface SlackAnswer {
  response_type: 'ephemeral';
  text: string;
}

const SLACK_HELP =
  'Ask `/lanes status PAY-231` (a key or a link) or `/lanes status refund fails` (words) for where an item stands.';

/** Slack mrkdwn escaping: &, < and > only (so text from trackers cannot mention or link). */
const slackEscape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The plain-language status for a slash command, with the audience of the
 * portal: hidden and security-sensitive items are never named. A lookup is
 * counted for the middleman load.
 */
export const slackStatus = async (
  ctx: ServiceContext,
  text: string,
  slackUser: string,
  publicUrl: string,
): Promise<SlackAnswer> => {
  const [verb, ...rest] = text.trim().split(/\s+/);
  const q = rest.join(' ').trim();
  if (verb?.toLowerCase() !== 'status' || q === '') return { response_type: 'ephemeral', text: SLACK_HELP };
  const charter = ctx.charter()?.charter;
  const named = keyOfReference(q) ?? (/^https?:\/\//i.test(q) ? await itemKeyOfLink(ctx.database, q) : null);
  let key: string | null = null;
  if (named !== null) {
    const row = (await getPortalRow(ctx.database, named)) ?? (await getPortalRow(ctx.database, named.toUpperCase()));
    if (row?.visible) key = row.key;
  } else {
    const rows = await searchPortalItems(ctx.database, { words: queryWords(q), limit: 4 });
    if (rows.length === 1) key = rows[0]!.key;
    else if (rows.length > 1) {
      const lines = rows
        .slice(0, 3)
        .map((r) => {
          const s = summaryOf(r, charter, null);
          return `• *${slackEscape(r.key)}*${s.title ? ` ${slackEscape(s.title)}` : ''}: ${STAGE_LABELS[r.stage]}`;
        })
        .join('\n');
      return {
        response_type: 'ephemeral',
        text: `Several items match "${slackEscape(q)}":\n${lines}\nAsk again with a key for the details.`,
      };
    }
  }
  if (key === null) {
    return {
      response_type: 'ephemeral',
      text: `Nothing visible matches "${slackEscape(q)}". It may not exist, or it is not shared outside the team.`,
    };
  }
  const item = await portalItem(ctx, null, key);
  recordPortalLookup(ctx, key, `slack:${slackUser}`);
  const due = item.nextUpdateDue
    ? `\nNext update due: ${item.nextUpdateDue.slice(0, 16).replace('T', ' ')} UTC (${item.responseTarget}).`
    : '';
  return {
    response_type: 'ephemeral',
    text:
      `*${slackEscape(item.key)}*${item.title ? ` ${slackEscape(item.title)}` : ''}: *${item.stageLabel}*\n` +
      `${slackEscape(item.status)}\nNext: ${slackEscape(item.next)}${due}\n` +
      `<${publicUrl}/portal/items/${encodeURIComponent(item.key)}|Open in the status portal>`,
  };
};
