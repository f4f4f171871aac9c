import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import {
  FINDING_STATES,
  SIGNALS,
  type Finding,
  type SignalRow,
  type qualityQuerySchema,
} from '../api/quality.contract.js';
import type { AuditAction } from '../domain/access.js';
import type { Charter, Person, Team } from '../domain/charter.schema.js';
import { AppError } from '../domain/errors.js';
import { doraBand, type DoraBand, type DoraMetric } from '../domain/dora.js';
import { runCatalog, type FindingDraft } from '../domain/findings.js';
import { addWeeks, weekOf } from '../domain/week.js';
import { defaultQualitySettings, type QualitySettings } from '../domain/quality.settings.js';
import { withTransaction, type Tx } from '../store/event.repository.js';
import { getMeta, setMeta } from '../store/item.repository.js';
import { listSignals } from '../store/quality.repository.js';
import type { EscalationTable, QualityFindingTable } from '../store/schema.js';
import { recordAuditAs } from './access.service.js';
import type { ServiceContext } from './context.js';
import { sloStatus, type SloStatus } from './slo.service.js';

/**
 * Findings and their escalation (PRODUCT.md C6): the catalog of
 * src/domain/findings.ts run over the weekly signal rows, stored one per rule
 * and scope, each escalated to the engineering-leadership contact of the
 * team's charter — never to an individual contributor. Signals are only read
 * here; the signal families write them.
 */

export type FindingState = (typeof FINDING_STATES)[number];

export interface HistoryEntry {
  at: string;
  from: FindingState | null;
  to: FindingState;
  /** A user id, or `lanes` for automatic changes. */
  by: string;
  byName?: string | undefined;
  planUrl?: string | undefined;
  reason?: string | undefined;
}

export interface Contact {
  id: string;
  name: string;
  role: string;
}

export interface EscalationView {
  id: string;
  finding: Finding;
  /** False once the pattern is no longer seen in the signals. */
  active: boolean;
  state: FindingState;
  addressedTo: Contact | null;
  planUrl: string | null;
  reason: string | null;
  history: HistoryEntry[];
  updatedAt: string;
  reopenedCount: number;
}

export interface BriefCrossing {
  eventId: string;
  itemKey: string | null;
  itemTitle: string | null;
  component: string | null;
  occurredAt: string;
  domain: string;
  actorRole: string;
  direction: string;
  sentence: string;
}

export interface EscalationBrief extends EscalationView {
  /** Boundary crossings in bug triage and assignment on the team (and component) since 90 days before first seen. */
  crossings: BriefCrossing[];
  crossingCount: number;
  /** What the reader may do next from here. */
  transitions: FindingState[];
}

export interface EvaluateResult {
  evaluated: number;
  opened: string[];
  reopened: string[];
  updated: string[];
  /** Findings whose pattern is gone (marked inactive). */
  cleared: string[];
}

// ---------------------------------------------------------------------------
// Helpers

const WEEKS_READ = 30;
const BOUNDARY_DOMAINS = ['eng.bug-triage', 'eng.assignment'];
/** Roles that may receive an escalation: leadership, never an individual contributor. */
const LEADERSHIP_ROLES = new Set(['engineering-leadership', 'engineering-manager']);

const settingsOf = (charter: Charter | undefined): QualitySettings => charter?.quality ?? defaultQualitySettings();

const findingOfRow = (row: QualityFindingTable, state: FindingState): Finding => ({
  id: row.id,
  rule: row.rule,
  team: row.team,
  component: row.component === '' ? null : row.component,
  severity: row.severity as Finding['severity'],
  pattern: row.pattern,
  guardrail: row.guardrail,
  evidence: JSON.parse(row.evidence) as Finding['evidence'],
  causes: JSON.parse(row.causes) as Finding['causes'],
  state,
  firstSeen: row.first_seen,
  lastSeen: row.last_seen,
});

/**
 * The leadership contact of a team: its charter `escalation` person when that
 * person holds a leadership role, else the first engineering-leadership person
 * of the charter; null when the charter names none.
 */
export const leadershipContactOf = (charter: Charter | undefined, teamId: string): Person | null => {
  if (!charter) return null;
  const team = charter.teams.find((t) => t.id === teamId);
  const named = team ? charter.people.find((p) => p.id === team.escalation) : undefined;
  if (named && LEADERSHIP_ROLES.has(named.role)) return named;
  return charter.people.find((p) => p.role === 'engineering-leadership') ?? null;
};

const contactOf = (charter: Charter | undefined, personId: string | null): Contact | null => {
  if (personId === null) return null;
  const p = charter?.people.find((x) => x.id === personId);
  return p ? { id: p.id, name: p.name, role: p.role } : { id: personId, name: personId, role: 'unknown' };
};

const viewOf = (
  charter: Charter | undefined,
  f: QualityFindingTable,
  e: Selectable<EscalationTable>,
): EscalationView => ({
  id: f.id,
  finding: findingOfRow(f, e.state as FindingState),
  active: Number(f.active) === 1,
  state: e.state as FindingState,
  addressedTo: contactOf(charter, e.addressed_to),
  planUrl: e.plan_url,
  reason: e.reason,
  history: JSON.parse(e.history) as HistoryEntry[],
  updatedAt: e.updated_at,
  reopenedCount: Number(e.reopened_count),
});

const toRow = (d: FindingDraft, firstSeen: string, lastSeen: string): QualityFindingTable => ({
  id: d.id,
  rule: d.rule,
  team: d.team,
  component: d.component ?? '',
  severity: d.severity,
  pattern: d.pattern,
  guardrail: d.guardrail,
  evidence: JSON.stringify(d.evidence),
  causes: JSON.stringify(d.causes),
  first_seen: firstSeen,
  last_seen: lastSeen,
  data_week: d.dataWeek,
  active: 1,
});

const recordNotification = async (
  tx: Tx,
  ctx: ServiceContext,
  charter: Charter | undefined,
  d: FindingDraft,
  contact: Person | null,
  reason: 'opened' | 'reopened',
  at: string,
): Promise<void> => {
  const teamName = charter?.teams.find((t) => t.id === d.team)?.name ?? d.team;
  const subject = `[Lanes] ${reason === 'reopened' ? 'Reopened' : 'New'} systemic finding for ${teamName}: ${d.rule}`;
  const body = [
    `${d.pattern}`,
    '',
    `Guardrail: ${d.guardrail}`,
    `Severity: ${d.severity}`,
    '',
    ...d.evidence.figures.map((f) => `- ${f.label}: ${f.value}`),
    '',
    'Likely causes:',
    ...d.causes.map((c) => `- ${c.category} (${Math.round(c.weight * 100)} %): ${c.reason}`),
    '',
    `Open the brief: /escalations/${encodeURIComponent(d.id)}`,
  ].join('\n');
  await tx.trx
    .insertInto('escalation_notification')
    .values({
      id: ctx.newId(),
      escalation_id: d.id,
      person_id: contact?.id ?? null,
      address: contact?.email ?? null,
      reason,
      subject,
      body,
      created_at: at,
      sent_at: null,
    })
    .execute();
};

// ---------------------------------------------------------------------------
// Evaluation

/**
 * Runs the catalog over the signal rows of every team of the charter: stores
 * each finding (one per rule and scope, updated while it lasts), opens an
 * escalation for a new one, reopens a resolved or dismissed one whose pattern
 * returned, and marks findings whose pattern is gone as inactive.
 */
export const evaluateFindings = async (ctx: ServiceContext, now: Date = ctx.clock()): Promise<EvaluateResult> => {
  const charter = ctx.charter()?.charter;
  const result: EvaluateResult = { evaluated: 0, opened: [], reopened: [], updated: [], cleared: [] };
  if (!charter) return result;
  const settings = settingsOf(charter);
  const currentWeek = weekOf(now);
  const at = now.toISOString();
  for (const team of charter.teams) {
    const rows = await listSignals(ctx.database, { team: team.id, sinceWeek: addWeeks(currentWeek, -WEEKS_READ) });
    const drafts = runCatalog({ team: team.id, teamName: team.name, rows, settings, currentWeek });
    result.evaluated += drafts.length;
    await withTransaction(ctx.database, async (tx) => {
      const stored = await tx.trx.selectFrom('quality_finding').selectAll().where('team', '=', team.id).execute();
      const byId = new Map(stored.map((r) => [r.id, r]));
      const escalations = new Map(
        stored.length === 0
          ? []
          : (
              await tx.trx
                .selectFrom('escalation')
                .selectAll()
                .where(
                  'id',
                  'in',
                  stored.map((r) => r.id),
                )
                .execute()
            ).map((e) => [e.id, e]),
      );
      const seen = new Set<string>();
      const contact = leadershipContactOf(charter, team.id);
      for (const d of drafts) {
        seen.add(d.id);
        const old = byId.get(d.id);
        const escalation = escalations.get(d.id);
        if (!old) {
          await tx.trx
            .insertInto('quality_finding')
            .values(toRow(d, at, at))
            .execute();
        } else {
          await tx.trx
            .updateTable('quality_finding')
            .set({ ...toRow(d, old.first_seen, at), id: undefined })
            .where('id', '=', d.id)
            .execute();
        }
        if (!escalation) {
          const history: HistoryEntry[] = [{ at, from: null, to: 'open', by: 'lanes' }];
          await tx.trx
            .insertInto('escalation')
            .values({
              id: d.id,
              state: 'open',
              addressed_to: contact?.id ?? null,
              plan_url: null,
              reason: null,
              history: JSON.stringify(history),
              updated_at: at,
              reopened_count: 0,
            })
            .execute();
          await recordNotification(tx, ctx, charter, d, contact, 'opened', at);
          result.opened.push(d.id);
          continue;
        }
        const wasInactive = old !== undefined && Number(old.active) === 0;
        const history = JSON.parse(escalation.history) as HistoryEntry[];
        const closedAt = [...history].reverse().find((h) => h.to === escalation.state)?.at ?? escalation.updated_at;
        // Resolved: the pattern is back when it had gone, or when data newer than the resolution still shows it.
        // Dismissed: only when it had gone and came back.
        const returns =
          (escalation.state === 'resolved' && (wasInactive || d.dataWeek > weekOf(new Date(closedAt)))) ||
          (escalation.state === 'dismissed' && wasInactive);
        if (returns) {
          history.push({
            at,
            from: escalation.state as FindingState,
            to: 'open',
            by: 'lanes',
            reason: 'the pattern returned',
          });
          await tx.trx
            .updateTable('escalation')
            .set({
              state: 'open',
              addressed_to: contact?.id ?? escalation.addressed_to,
              history: JSON.stringify(history),
              updated_at: at,
              reopened_count: Number(escalation.reopened_count) + 1,
            })
            .where('id', '=', d.id)
            .execute();
          await recordNotification(tx, ctx, charter, d, contact, 'reopened', at);
          result.reopened.push(d.id);
        } else {
          result.updated.push(d.id);
        }
      }
      for (const r of stored) {
        if (seen.has(r.id) || Number(r.active) === 0) continue;
        await tx.trx.updateTable('quality_finding').set({ active: 0 }).where('id', '=', r.id).execute();
        result.cleared.push(r.id);
      }
    });
  }
  await touchQuality(ctx);
  return result;
};

// ---------------------------------------------------------------------------
// Reading

export const escalationListQuerySchema = z.strictObject({
  team: z.string().min(1).max(64).optional(),
  state: z.enum(FINDING_STATES).optional(),
  /** Include findings whose pattern is gone (default: only those still seen, or not yet closed). */
  all: z.enum(['true', 'false']).optional(),
});
export type EscalationListQuery = z.infer<typeof escalationListQuerySchema>;

const SEVERITY_ORDER = { high: 0, medium: 1, low: 2 } as const;
const STATE_ORDER = { open: 0, acknowledged: 1, action_planned: 2, resolved: 3, dismissed: 4 } as const;

export const listEscalations = async (
  ctx: ServiceContext,
  query: EscalationListQuery = {},
): Promise<EscalationView[]> => {
  let q = ctx.database.db
    .selectFrom('quality_finding as f')
    .innerJoin('escalation as e', 'e.id', 'f.id')
    .selectAll('f')
    .select(['e.state', 'e.addressed_to', 'e.plan_url', 'e.reason', 'e.history', 'e.updated_at', 'e.reopened_count']);
  if (query.team !== undefined) q = q.where('f.team', '=', query.team);
  if (query.state !== undefined) q = q.where('e.state', '=', query.state);
  const rows = await q.execute();
  const charter = ctx.charter()?.charter;
  const views = rows.map((r) => viewOf(charter, r, { ...r, id: r.id }));
  return views
    .filter(
      (v) =>
        query.all === 'true' ||
        query.state !== undefined ||
        v.active ||
        (v.state !== 'resolved' && v.state !== 'dismissed'),
    )
    .sort(
      (a, b) =>
        STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
        Number(b.active) - Number(a.active) ||
        SEVERITY_ORDER[a.finding.severity] - SEVERITY_ORDER[b.finding.severity] ||
        (a.id < b.id ? -1 : 1),
    );
};

const getView = async (ctx: ServiceContext, id: string): Promise<EscalationView> => {
  const f = await ctx.database.db.selectFrom('quality_finding').selectAll().where('id', '=', id).executeTakeFirst();
  const e = await ctx.database.db.selectFrom('escalation').selectAll().where('id', '=', id).executeTakeFirst();
  if (!f || !e) throw new AppError('LANES_NOT_FOUND', `no escalation ${id}`, { id });
  return viewOf(ctx.charter()?.charter, f, e);
};

/** The transitions allowed from each state (dismissed needs a reason, action_planned a tracker link). */
export const TRANSITIONS: Record<FindingState, FindingState[]> = {
  open: ['acknowledged', 'action_planned', 'dismissed'],
  acknowledged: ['action_planned', 'resolved', 'dismissed'],
  action_planned: ['resolved', 'dismissed'],
  resolved: ['open'],
  dismissed: ['open'],
};

const crossingsFor = async (
  ctx: ServiceContext,
  finding: Finding,
): Promise<{ crossings: BriefCrossing[]; count: number }> => {
  const since = new Date(new Date(finding.firstSeen).getTime() - 90 * 86_400_000).toISOString();
  let q = ctx.database.db
    .selectFrom('boundary_decision as d')
    .leftJoin('item as i', 'i.key', 'd.item_key')
    .where('d.team', '=', finding.team)
    .where('d.crossing', '=', 1)
    .where('d.domain', 'in', BOUNDARY_DOMAINS)
    .where('d.occurred_at', '>=', since);
  if (finding.component !== null) q = q.where('i.component', '=', finding.component);
  const count = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  const rows = await q
    .select([
      'd.event_id',
      'd.item_key',
      'i.title',
      'i.component',
      'd.occurred_at',
      'd.domain',
      'd.actor_role',
      'd.direction',
      'd.sentence',
    ])
    .orderBy('d.occurred_at', 'desc')
    .orderBy('d.event_id', 'desc')
    .limit(20)
    .execute();
  return {
    count: Number(count?.n ?? 0),
    crossings: rows.map((r) => ({
      eventId: r.event_id,
      itemKey: r.item_key,
      itemTitle: r.title ?? null,
      component: r.component ?? null,
      occurredAt: r.occurred_at,
      domain: r.domain,
      actorRole: r.actor_role,
      direction: r.direction,
      sentence: r.sentence,
    })),
  };
};

/** The brief: the finding, its escalation, and the boundary crossings that bear on it. */
export const escalationBrief = async (ctx: ServiceContext, id: string): Promise<EscalationBrief> => {
  const view = await getView(ctx, id);
  const { crossings, count } = await crossingsFor(ctx, view.finding);
  return { ...view, crossings, crossingCount: count, transitions: TRANSITIONS[view.state] };
};

// ---------------------------------------------------------------------------
// Lifecycle

export const transitionInputSchema = z.strictObject({
  to: z.enum(FINDING_STATES),
  planUrl: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .optional(),
  reason: z.string().trim().min(1).max(2000).optional(),
});
export type TransitionInput = z.infer<typeof transitionInputSchema>;

/** The audit log's action for a move by a person to each state. */
const AUDIT_ACTION_OF: Record<FindingState, AuditAction> = {
  open: 'escalation.reopen',
  acknowledged: 'escalation.acknowledge',
  action_planned: 'escalation.plan',
  resolved: 'escalation.resolve',
  dismissed: 'escalation.dismiss',
};

/**
 * Moves an escalation along its lifecycle for a person. The move is kept in
 * the escalation's own history and, in the same transaction, in the audit
 * log (actor: the person's e-mail, else their id; target: the escalation;
 * details: from, to, and the plan link or reason).
 */
export const transitionEscalation = async (
  ctx: ServiceContext,
  id: string,
  input: TransitionInput,
  by: { id: string; name?: string | undefined; email?: string | undefined },
): Promise<EscalationBrief> => {
  const parsed = transitionInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new AppError('LANES_VALIDATION', parsed.error.issues[0]!.message, { issues: parsed.error.issues });
  }
  const { to, planUrl, reason } = parsed.data;
  if (to === 'action_planned' && !planUrl) {
    throw new AppError(
      'LANES_VALIDATION',
      'action planned needs planUrl: a link to the tracker item that holds the plan',
    );
  }
  if (to === 'dismissed' && !reason) {
    throw new AppError('LANES_VALIDATION', 'dismissing needs a reason');
  }
  await withTransaction(ctx.database, async (tx) => {
    const e = await tx.trx.selectFrom('escalation').selectAll().where('id', '=', id).executeTakeFirst();
    if (!e) throw new AppError('LANES_NOT_FOUND', `no escalation ${id}`, { id });
    const from = e.state as FindingState;
    if (!TRANSITIONS[from].includes(to)) {
      throw new AppError('LANES_CONFLICT', `an escalation that is ${from} cannot become ${to}`, {
        from,
        to,
        allowed: TRANSITIONS[from],
      });
    }
    const at = ctx.clock().toISOString();
    const history = JSON.parse(e.history) as HistoryEntry[];
    history.push({ at, from, to, by: by.id, byName: by.name, planUrl, reason });
    const updated = await tx.trx
      .updateTable('escalation')
      .set({
        state: to,
        plan_url: to === 'action_planned' ? planUrl! : e.plan_url,
        reason: to === 'dismissed' ? reason! : to === 'open' ? null : (reason ?? e.reason),
        history: JSON.stringify(history),
        updated_at: at,
        reopened_count: to === 'open' ? Number(e.reopened_count) + 1 : Number(e.reopened_count),
      })
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) {
      throw new AppError('LANES_CONFLICT', 'the escalation changed meanwhile; reload and try again');
    }
    await recordAuditAs(
      ctx,
      by.email ?? by.id,
      AUDIT_ACTION_OF[to],
      id,
      {
        from,
        to,
        ...(planUrl ? { planUrl } : {}),
        ...(reason ? { reason } : {}),
        ...(by.name ? { byName: by.name } : {}),
      },
      tx.trx,
    );
  });
  await touchQuality(ctx);
  return escalationBrief(ctx, id);
};

// ---------------------------------------------------------------------------
// Export

const STATE_WORDS: Record<FindingState, string> = {
  open: 'Open',
  acknowledged: 'Acknowledged',
  action_planned: 'Action planned',
  resolved: 'Resolved',
  dismissed: 'Dismissed',
};

const md = (s: string): string => s.replace(/([\\`*_[\]|<>])/g, '\\$1').replace(/\r?\n/g, ' ');

/** The escalations as a Markdown document for leadership (one section per escalation). */
export const exportEscalationsMarkdown = async (ctx: ServiceContext, team?: string): Promise<string> => {
  const charter = ctx.charter()?.charter;
  const list = await listEscalations(ctx, team === undefined ? {} : { team });
  const teamName = (id: string) => charter?.teams.find((t) => t.id === id)?.name ?? id;
  const out: string[] = [
    `# Escalations${team ? ` — ${md(teamName(team))}` : ''}`,
    '',
    `Generated ${ctx.clock().toISOString()}. ${list.length} escalation${list.length === 1 ? '' : 's'}.`,
    '',
  ];
  for (const v of list) {
    const brief = await escalationBrief(ctx, v.id);
    const f = v.finding;
    out.push(`## ${md(f.pattern)}`, '');
    out.push(`- **State:** ${STATE_WORDS[v.state]}${v.active ? '' : ' (pattern no longer seen)'}`);
    out.push(`- **Team:** ${md(teamName(f.team))}${f.component ? ` · **Component:** ${md(f.component)}` : ''}`);
    out.push(`- **Severity:** ${f.severity} · **Rule:** \`${f.rule}\``);
    out.push(`- **Guardrail broken:** ${md(f.guardrail)}`);
    out.push(
      `- **Addressed to:** ${v.addressedTo ? md(v.addressedTo.name) : 'no engineering-leadership contact in the charter'}`,
    );
    out.push(`- **First seen:** ${f.firstSeen.slice(0, 10)} · **Last seen:** ${f.lastSeen.slice(0, 10)}`);
    if (v.planUrl) out.push(`- **Plan:** <${v.planUrl}>`);
    if (v.state === 'dismissed' && v.reason) out.push(`- **Dismissed because:** ${md(v.reason)}`);
    if (v.reopenedCount > 0) out.push(`- **Reopened:** ${v.reopenedCount}×`);
    out.push('', '| Evidence | Value |', '| --- | --- |');
    for (const fig of f.evidence.figures) out.push(`| ${md(fig.label)} | ${md(fig.value)} |`);
    if (f.evidence.trend.length > 0) {
      out.push('', `Trend: ${f.evidence.trend.map((p) => `${p.week} ${p.value ?? '–'}`).join(' · ')}`);
    }
    out.push('', '**Likely causes**', '');
    for (const c of f.causes) out.push(`- ${c.category} — ${Math.round(c.weight * 100)} %: ${md(c.reason)}`);
    if (f.evidence.links.length > 0) {
      out.push('', '**Behind it**', '');
      for (const l of f.evidence.links) out.push(`- ${l.kind} ${l.url ? `[${md(l.label)}](${l.url})` : md(l.label)}`);
    }
    if (brief.crossingCount > 0) {
      out.push('', `**Boundary crossings that bear on it** (${brief.crossingCount})`, '');
      for (const c of brief.crossings.slice(0, 5)) out.push(`- ${c.occurredAt.slice(0, 10)} ${md(c.sentence)}`);
    }
    out.push('');
  }
  return out.join('\n');
};

// ---------------------------------------------------------------------------
// The Quality overview

export type QualityQuery = z.output<typeof qualityQuerySchema>;

const DORA_METRIC_OF: Record<string, DoraMetric> = {
  'dora.deploy_days': 'deployment_frequency',
  'dora.lead_time_median_h': 'lead_time',
  'dora.change_failure_rate': 'change_failure_rate',
  'dora.recovery_median_h': 'recovery_time',
};

/** The DORA benchmark band of a signal's value (src/domain/dora.ts); null for other signals. */
export const bandOfSignal = (year: '2023' | '2024', signal: string, value: number | null): DoraBand | null => {
  const metric = DORA_METRIC_OF[signal];
  return metric === undefined || value === null ? null : doraBand(year, metric, value);
};

export interface CurrentFigure {
  signal: string;
  component: string | null;
  week: string;
  value: number | null;
  band: DoraBand | null;
  details: Record<string, unknown> | null;
}

export interface QualityOverview {
  team: { id: string; name: string; components: string[] };
  component: string | null;
  weeks: number;
  doraYear: '2023' | '2024';
  currentWeek: string;
  /** Weekly rows of the team (and its components, or the one asked for); pace rows team level only. */
  signals: SignalRow[];
  /** The newest value of each signal and scope, with the DORA band where one applies. */
  current: CurrentFigure[];
  /** Every SLO of the team with its error budget and burn (src/services/slo.service.ts). */
  slo: SloStatus[];
  findings: EscalationView[];
}

const PACE = new Set<string>(SIGNALS.pace);

/**
 * What the Quality page reads changes when signals are recomputed or an
 * escalation moves (both bump `quality.version`), and SLO status by the minute:
 * an overview is kept until one of those moves, so a busy page costs one meta
 * read. Several processes share the version through the database.
 */
const QUALITY_VERSION = 'quality.version';
export const touchQuality = async (ctx: ServiceContext): Promise<void> =>
  setMeta(ctx.database, QUALITY_VERSION, `${ctx.clock().toISOString()} ${randomUUID()}`);
const overviews = new WeakMap<ServiceContext['database'], Map<string, { stamp: string; overview: QualityOverview }>>();

export const qualityOverview = async (ctx: ServiceContext, query: QualityQuery): Promise<QualityOverview> => {
  const loaded = ctx.charter();
  const stamp = [
    (await getMeta(ctx.database, QUALITY_VERSION)) ?? '',
    Math.floor(ctx.clock().getTime() / 60_000),
    loaded?.loadedAt ?? '',
  ].join('|');
  const key = JSON.stringify([query.team, query.component ?? null, query.weeks, query.dora_year ?? null]);
  let cache = overviews.get(ctx.database);
  if (!cache) overviews.set(ctx.database, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && hit.stamp === stamp) return hit.overview;
  const overview = await computeOverview(ctx, query);
  if (cache.size >= 200) cache.clear();
  cache.set(key, { stamp, overview });
  return overview;
};

const computeOverview = async (ctx: ServiceContext, query: QualityQuery): Promise<QualityOverview> => {
  const charter = ctx.charter()?.charter;
  const team: Team | undefined = charter?.teams.find((t) => t.id === query.team);
  if (!team) throw new AppError('LANES_NOT_FOUND', `no team ${query.team} in the charter`, { team: query.team });
  const settings = settingsOf(charter);
  const doraYear = query.dora_year ?? settings.dora_year;
  const currentWeek = weekOf(ctx.clock());
  const rows = await listSignals(ctx.database, {
    team: team.id,
    sinceWeek: addWeeks(currentWeek, -(query.weeks - 1)),
    // The id lists behind each figure stay in the store (the brief shows them): charts need the figures.
    summaryOnly: true,
  });
  // Team level only for pace; a component asked for keeps its rows and the team's.
  const signals = rows.filter(
    (r) =>
      !(PACE.has(r.signal) && r.component !== null) &&
      (query.component === undefined || r.component === null || r.component === query.component),
  );
  const latest = new Map<string, SignalRow>();
  for (const r of signals) {
    if (r.value === null) continue;
    const key = `${r.signal}\u0001${r.component ?? ''}\u0001${typeof r.details?.['slo'] === 'string' ? r.details['slo'] : ''}`;
    const seen = latest.get(key);
    if (!seen || seen.week < r.week) latest.set(key, r);
  }
  const current = [...latest.values()].map((r) => ({
    signal: r.signal,
    component: r.component,
    week: r.week,
    value: r.value,
    band: bandOfSignal(doraYear, r.signal, r.value),
    details: r.details,
  }));
  const findings = (await listEscalations(ctx, { team: team.id })).filter(
    (v) =>
      v.active &&
      (query.component === undefined || v.finding.component === query.component || v.finding.component === null),
  );
  return {
    team: { id: team.id, name: team.name, components: team.components },
    component: query.component ?? null,
    weeks: query.weeks,
    doraYear,
    currentWeek,
    signals,
    current,
    slo: await sloStatus(ctx, team.id),
    findings,
  };
};
