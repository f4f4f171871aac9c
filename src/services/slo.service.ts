import { weekOf, weekStart } from '../domain/week.js';
import { z } from 'zod';
import { SIGNALS, type SignalRow } from '../api/quality.contract.js';
import { AppError } from '../domain/errors.js';
import type { EventInput } from '../domain/event.js';
import {
  budgetRemaining,
  buildSeries,
  burnRate,
  burnRules,
  evaluateAlertEpisodes,
  formatSloIssue,
  minuteIso,
  parseSloDocuments,
  parseSloYaml,
  resolveSloOwner,
  toMinute,
  windowSum,
  type AlertEpisode,
  type BurnRuleId,
  type SampleSeries,
  type SloDefinition,
  type SloIssue,
} from '../domain/slo.js';
import { withTransaction, type Tx } from '../store/event.repository.js';
import {
  addSamples,
  deleteSlosOfSourceExcept,
  firstSampleBucket,
  getSloRow,
  insertAlerts,
  listAlerts,
  listSamples,
  listSliEventsSince,
  listSloRows,
  resolveAlert,
  setEventsCheckpoint,
  upsertSloRows,
  type SampleToAdd,
  type SloRow,
} from '../store/slo.repository.js';
import type { Database } from '../store/database.js';
import type { ServiceContext } from './context.js';
import { announceAppended, appendEvents } from './events.service.js';

/**
 * SLOs (PRODUCT.md C6, docs/slo.md): apply OpenSLO definitions from a file or
 * the charter, count good/total samples (pushed, or `sli_sample` events of the
 * SLO's service), report the error budget and burn rates, and turn the
 * multi-window multi-burn-rate rules into alert episodes, each firing and each
 * resolution an `slo_alert` event in the log.
 */

export const SLO_SIGNALS = SIGNALS.slo;
/** The most samples one push may carry. */
export const MAX_SAMPLES = 10_000;
/** Samples may be stamped at most this far ahead of the server clock (clock skew). */
export const MAX_FUTURE_MS = 5 * 60_000;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const DEFAULT_WEEKS = 104;
export const ALERT_EVENT_SOURCE = 'lanes';

// ---------------------------------------------------------------- apply

export interface ApplySlosInput {
  /** OpenSLO YAML text (one or more documents). */
  yaml?: string;
  /** Already parsed OpenSLO documents (JSON body, charter `slos:`). */
  documents?: readonly unknown[];
  /** For messages: the file name, or `lanes.yaml`. */
  file?: string;
  source: 'file' | 'charter';
}

export interface ApplySlosResult {
  applied: string[];
  /** Charter SLOs no longer in the charter, removed. */
  removed: string[];
  alerts: { fired: number; resolved: number };
}

const invalid = (issues: readonly SloIssue[], file: string | undefined): AppError =>
  new AppError(
    'LANES_SLO_INVALID',
    `${file ?? 'SLO'} has ${issues.length} problem(s):\n${issues.map(formatSloIssue).join('\n')}`,
    { issues },
  );

/** Parses and checks SLOs against the charter's teams, without storing anything. */
export const checkSlos = (
  ctx: Pick<ServiceContext, 'charter'>,
  input: Omit<ApplySlosInput, 'source'>,
): { slos: (SloDefinition & { owner: { team: string; component: string | null } })[]; issues: SloIssue[] } => {
  const parsed =
    input.yaml !== undefined
      ? parseSloYaml(input.yaml, input.file ?? 'slo.yaml')
      : parseSloDocuments(input.documents ?? []);
  const issues = [...parsed.issues];
  const teams = ctx.charter()?.charter.teams ?? [];
  const slos: (SloDefinition & { owner: { team: string; component: string | null } })[] = [];
  for (const slo of parsed.slos) {
    if (teams.length === 0 && slo.team !== null) {
      slos.push({ ...slo, owner: { team: slo.team, component: slo.component } });
      continue;
    }
    const owner = resolveSloOwner(slo, teams);
    if ('issue' in owner) {
      issues.push({
        code: 'LANES_SLO_INVALID',
        message: owner.issue,
        path: [],
        ...(input.file !== undefined ? { file: input.file } : {}),
      });
    } else slos.push({ ...slo, owner });
  }
  return { slos, issues };
};

/**
 * Stores SLOs (all or nothing: any problem rejects the whole input), counts the
 * `sli_sample` events of their services already in the log and evaluates their
 * alerts. The charter's SLOs replace the charter's previous ones; a file adds
 * or updates the SLOs it names.
 */
export const applySlos = async (ctx: ServiceContext, input: ApplySlosInput): Promise<ApplySlosResult> => {
  const { slos, issues } = checkSlos(ctx, input);
  if (issues.length > 0) throw invalid(issues, input.file);
  const now = ctx.clock().toISOString();
  const rows: SloRow[] = slos.map((s) => ({
    name: s.name,
    team: s.owner.team,
    component: s.owner.component,
    service: s.service,
    target: s.target,
    window_days: s.windowDays,
    spec: JSON.stringify(s.spec),
    source: input.source,
    events_checkpoint: null,
    updated_at: now,
  }));
  const removed = await withTransaction(ctx.database, async (tx) => {
    await upsertSloRows(tx, rows);
    return input.source === 'charter'
      ? deleteSlosOfSourceExcept(
          tx,
          'charter',
          rows.map((r) => r.name),
        )
      : [];
  });
  const alerts = await evaluateSloAlerts(ctx, { names: rows.map((r) => r.name) });
  return { applied: rows.map((r) => r.name), removed, alerts };
};

/** Applies the `slos:` of the charter in force (none: removes the charter's earlier SLOs). */
export const applyCharterSlos = async (ctx: ServiceContext): Promise<ApplySlosResult> => {
  const loaded = ctx.charter();
  if (!loaded) throw new AppError('LANES_CHARTER_NOT_FOUND', 'No charter is loaded');
  return applySlos(ctx, { documents: loaded.charter.slos ?? [], file: loaded.path, source: 'charter' });
};

// ---------------------------------------------------------------- samples

export const sampleInputSchema = z.strictObject({
  at: z.iso.datetime({ offset: true }),
  good: z.number().finite().min(0),
  total: z.number().finite().min(0),
  id: z.string().min(1).max(200).optional(),
});
export type SampleInput = z.infer<typeof sampleInputSchema>;

export const pushSamplesBodySchema = z.strictObject({
  samples: z.array(sampleInputSchema).min(1).max(MAX_SAMPLES),
});

export interface PushSamplesResult {
  received: number;
  added: number;
  /** Samples whose id was already counted. */
  duplicates: number;
  alerts: { fired: number; resolved: number };
}

const bucketOf = (at: string): string => minuteIso(toMinute(at));

/** Adds good/total samples to an SLO (all or none), then evaluates its alerts. */
export const pushSamples = async (
  ctx: ServiceContext,
  name: string,
  samples: readonly SampleInput[],
): Promise<PushSamplesResult> => {
  if (samples.length > MAX_SAMPLES) {
    throw new AppError('LANES_BATCH_TOO_LARGE', `at most ${MAX_SAMPLES} samples per push, got ${samples.length}`);
  }
  const latest = ctx.clock().getTime() + MAX_FUTURE_MS;
  const problems: { index: number; message: string }[] = [];
  samples.forEach((s, index) => {
    const parsed = sampleInputSchema.safeParse(s);
    if (!parsed.success) problems.push({ index, message: parsed.error.issues[0]?.message ?? 'invalid sample' });
    else if (s.good > s.total) problems.push({ index, message: `good (${s.good}) is more than total (${s.total})` });
    else if (Date.parse(s.at) > latest) problems.push({ index, message: `at ${s.at} is in the future` });
  });
  if (problems.length > 0) {
    throw new AppError(
      'LANES_VALIDATION',
      `${problems.length} sample(s) rejected; first: #${problems[0]!.index} ${problems[0]!.message}`,
      { problems: problems.slice(0, 100) },
    );
  }
  const { added, team } = await withTransaction(ctx.database, async (tx) => {
    const slo = await getSloRow(tx, name);
    if (!slo) throw new AppError('LANES_NOT_FOUND', `No SLO named "${name}"`);
    const rows: SampleToAdd[] = samples.map((s) => ({
      bucket: bucketOf(s.at),
      good: s.good,
      total: s.total,
      id: s.id === undefined ? undefined : `push:${s.id}`,
    }));
    const n = await addSamples(tx, name, rows);
    if (n > 0) samplesVersion += 1;
    return { added: n, team: slo.team };
  });
  if (added > 0 && samples.length > 0) {
    // The SLO's weekly rows follow, as they do for `sli_sample` events.
    const earliest = samples.reduce((min, s) => (s.at < min ? s.at : min), samples[0]!.at);
    announceAppended(ctx, {
      teams: [team],
      itemless: false,
      kinds: ['sli_sample'],
      earliestOccurredAt: new Date(Date.parse(earliest)).toISOString(),
    });
  }
  const alerts = await evaluateSloAlerts(ctx, { names: [name] });
  return { received: samples.length, added, duplicates: samples.length - added, alerts };
};

/** A receipt time this old can no longer be stamped on a new event (appends stamp the clock when they start). */
const SETTLED_MS = 10 * 60_000;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Counts `sli_sample` events received since each SLO's checkpoint as samples
 * of the SLOs of their `data.service`. Events at the checkpoint are read again
 * and skipped by id, so a crash or a concurrent append never counts one twice.
 * Once the newest receipt read is older than `SETTLED_MS` (no append can still
 * stamp that instant), the checkpoint moves just past it, so a bulk load that
 * shares one `received_at` is not read again on every call.
 */
export const ingestEventSamples = async (tx: Tx, slos: readonly SloRow[], now: Date): Promise<number> => {
  if (slos.length === 0) return 0;
  const checkpoints = slos.map((s) => s.events_checkpoint);
  const since = checkpoints.includes(null) ? null : checkpoints.reduce((a, b) => (a! < b! ? a : b))!;
  const events = await listSliEventsSince(tx, since);
  if (events.length === 0) return 0;
  const byService = new Map<string, SloRow[]>();
  for (const s of slos) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
  const toAdd = new Map<string, SampleToAdd[]>();
  for (const e of events) {
    if (e.data === null) continue;
    const data = JSON.parse(e.data) as Record<string, unknown>;
    const service = data['service'];
    if (typeof service !== 'string') continue;
    const good = num(data['good']);
    const total = num(data['total']);
    if (good === null || total === null || good < 0 || good > total) continue;
    for (const slo of byService.get(service) ?? []) {
      if (slo.events_checkpoint !== null && e.receivedAt < slo.events_checkpoint) continue;
      const list = toAdd.get(slo.name) ?? [];
      list.push({ bucket: bucketOf(e.occurredAt), good, total, id: `event:${e.id}` });
      toAdd.set(slo.name, list);
    }
  }
  let added = 0;
  for (const [name, list] of toAdd) added += await addSamples(tx, name, list);
  if (added > 0) samplesVersion += 1;
  const newest = events.at(-1)!.receivedAt;
  const last =
    Date.parse(newest) < now.getTime() - SETTLED_MS ? new Date(Date.parse(newest) + 1).toISOString() : newest;
  for (const slo of slos) {
    if (slo.events_checkpoint === null || slo.events_checkpoint < last) await setEventsCheckpoint(tx, slo.name, last);
  }
  return added;
};

// ---------------------------------------------------------------- alerts

const seriesOf = async (tx: Pick<Tx, 'trx'>, name: string): Promise<SampleSeries> =>
  buildSeries((await listSamples(tx, name)).map((s) => ({ minute: toMinute(s.bucket), good: s.good, total: s.total })));

const alertEvent = (slo: SloRow, e: AlertEpisode, state: 'firing' | 'resolved'): EventInput => {
  const rule = burnRules(slo.window_days).find((r) => r.id === e.rule)!;
  const firedAt = minuteIso(e.firedAt);
  const at = state === 'firing' ? firedAt : minuteIso(e.resolvedAt!);
  return {
    source: ALERT_EVENT_SOURCE,
    sourceEventId: `slo-alert:${slo.name}:${e.rule}:${firedAt}:${state}`,
    occurredAt: at,
    change: {
      kind: 'slo_alert',
      target: slo.name,
      data: {
        slo: slo.name,
        service: slo.service,
        team: slo.team,
        component: slo.component,
        rule: e.rule,
        severity: e.severity,
        state,
        factor: rule.factor,
        long_window_minutes: rule.longMinutes,
        short_window_minutes: rule.shortMinutes,
        burn_long: e.burnLong,
        burn_short: e.burnShort,
        fired_at: firedAt,
      },
    },
  };
};

/**
 * Counts new `sli_sample` events, replays each SLO's rules over its samples up
 * to now, stores new episodes and resolutions and appends one `slo_alert` event
 * for each firing and each resolution (idempotent: the event id names the SLO,
 * the rule, the firing minute and the state).
 */
export const evaluateSloAlerts = async (
  ctx: ServiceContext,
  options: { names?: readonly string[] } = {},
): Promise<{ fired: number; resolved: number }> => {
  const until = toMinute(ctx.clock());
  const { events, fired, resolved } = await withTransaction(ctx.database, async (tx) => {
    const all = await listSloRows(tx);
    await ingestEventSamples(tx, all, ctx.clock());
    const slos = options.names === undefined ? all : all.filter((s) => options.names!.includes(s.name));
    const stored = await listAlerts(
      tx,
      slos.map((s) => s.name),
    );
    const out: EventInput[] = [];
    let firedCount = 0;
    let resolvedCount = 0;
    for (const slo of slos) {
      const episodes = evaluateAlertEpisodes(
        await seriesOf(tx, slo.name),
        burnRules(slo.window_days),
        slo.target,
        until,
      );
      const mine = new Map(stored.filter((a) => a.slo === slo.name).map((a) => [`${a.rule} ${a.fired_at}`, a]));
      const fresh = [];
      for (const e of episodes) {
        const key = `${e.rule} ${minuteIso(e.firedAt)}`;
        const known = mine.get(key);
        mine.delete(key);
        if (!known) {
          fresh.push({
            slo: slo.name,
            rule: e.rule,
            severity: e.severity,
            fired_at: minuteIso(e.firedAt),
            resolved_at: e.resolvedAt === null ? null : minuteIso(e.resolvedAt),
            burn_long: e.burnLong,
            burn_short: e.burnShort,
          });
          out.push(alertEvent(slo, e, 'firing'));
          firedCount++;
          if (e.resolvedAt !== null) {
            out.push(alertEvent(slo, e, 'resolved'));
            resolvedCount++;
          }
        } else if (known.resolved_at === null && e.resolvedAt !== null) {
          await resolveAlert(tx, known, minuteIso(e.resolvedAt));
          out.push(alertEvent(slo, e, 'resolved'));
          resolvedCount++;
        }
      }
      // Stored episodes the samples no longer support (e.g. the SLO's target changed) are resolved now.
      for (const stale of mine.values()) {
        if (stale.resolved_at !== null) continue;
        const resolvedAt = minuteIso(until);
        await resolveAlert(tx, stale, resolvedAt);
        const episode: AlertEpisode = {
          rule: stale.rule as BurnRuleId,
          severity: stale.severity as 'page' | 'ticket',
          firedAt: toMinute(stale.fired_at),
          resolvedAt: until,
          burnLong: stale.burn_long,
          burnShort: stale.burn_short,
        };
        out.push(alertEvent(slo, episode, 'resolved'));
        resolvedCount++;
      }
      await insertAlerts(tx, fresh);
    }
    return { events: out, fired: firedCount, resolved: resolvedCount };
  });
  for (let i = 0; i < events.length; i += MAX_SAMPLES) await appendEvents(ctx, events.slice(i, i + MAX_SAMPLES));
  return { fired, resolved };
};

// ---------------------------------------------------------------- status

export interface SloBurnStatus {
  rule: BurnRuleId;
  severity: 'page' | 'ticket';
  factor: number;
  longWindowMinutes: number;
  shortWindowMinutes: number;
  burnLong: number;
  burnShort: number;
  firing: boolean;
}

export interface SloStatus {
  name: string;
  displayName: string | null;
  team: string;
  component: string | null;
  service: string;
  source: string;
  target: number;
  windowDays: number;
  /** Over the rolling window ending now; null without traffic. Negative when overspent. */
  budgetRemaining: number | null;
  good: number;
  total: number;
  burn: SloBurnStatus[];
  alertsFiring: { rule: string; severity: string; firedAt: string }[];
}

/**
 * Per-minute series read for status, kept for the minute they were read in
 * and until this process adds samples; another process's samples show within
 * the minute (status is computed at minute resolution anyway).
 */
let samplesVersion = 0;
const statusSeries = new WeakMap<Database, Map<string, { minute: number; version: number; series: SampleSeries }>>();
const cachedSeries = async (ctx: ServiceContext, name: string, minute: number): Promise<SampleSeries> => {
  let cache = statusSeries.get(ctx.database);
  if (!cache) statusSeries.set(ctx.database, (cache = new Map()));
  const hit = cache.get(name);
  if (hit && hit.minute === minute && hit.version === samplesVersion) return hit.series;
  const version = samplesVersion;
  const series = await seriesOf({ trx: ctx.database.db }, name);
  cache.set(name, { minute, version, series });
  return series;
};

/**
 * Every SLO (of one team) with its budget, its burn rates and its firing
 * alerts now. Reads only: alerts are evaluated when samples arrive (a push,
 * the quality worker, `lanes slo status`).
 */
export const sloStatus = async (ctx: ServiceContext, team?: string): Promise<SloStatus[]> => {
  const now = toMinute(ctx.clock());
  const slos = await listSloRows(ctx.database, team);
  const alerts = await listAlerts(
    ctx.database,
    slos.map((s) => s.name),
  );
  const out: SloStatus[] = [];
  for (const slo of slos) {
    const series = await cachedSeries(ctx, slo.name, now);
    const window = windowSum(series, now, slo.window_days * 1440);
    const spec = JSON.parse(slo.spec) as { metadata?: { displayName?: unknown } };
    out.push({
      name: slo.name,
      displayName: typeof spec.metadata?.displayName === 'string' ? spec.metadata.displayName : null,
      team: slo.team,
      component: slo.component,
      service: slo.service,
      source: slo.source,
      target: slo.target,
      windowDays: slo.window_days,
      budgetRemaining: budgetRemaining(window.good, window.total, slo.target),
      good: window.good,
      total: window.total,
      burn: burnRules(slo.window_days).map((rule) => {
        const long = windowSum(series, now, rule.longMinutes);
        const short = windowSum(series, now, rule.shortMinutes);
        const burnLong = burnRate(long.good, long.total, slo.target);
        const burnShort = burnRate(short.good, short.total, slo.target);
        return {
          rule: rule.id,
          severity: rule.severity,
          factor: rule.factor,
          longWindowMinutes: rule.longMinutes,
          shortWindowMinutes: rule.shortMinutes,
          burnLong,
          burnShort,
          firing: burnLong > rule.factor && burnShort > rule.factor,
        };
      }),
      alertsFiring: alerts
        .filter((a) => a.slo === slo.name && a.resolved_at === null)
        .map((a) => ({ rule: a.rule, severity: a.severity, firedAt: a.fired_at })),
    });
  }
  return out;
};

// ---------------------------------------------------------------- weekly signals

/**
 * Weekly `slo.budget_remaining` (the budget left over the rolling window at the
 * end of the week, or now for the current week; numerator the bad events,
 * denominator the bad events allowed) and `slo.burn_alerts` (alert episodes
 * fired in the week; numerator pages, denominator null) per SLO, at the SLO's
 * team and component, `details.slo` naming it. Weeks before an SLO's first
 * sample are left out. Counts new `sli_sample` events of the SLOs in scope
 * inside `tx`.
 *
 * Only the samples the requested weeks can see are read: one budget window
 * before the first week. That is also enough for the alert episodes fired in
 * those weeks: an alert window is shorter than half the budget window, so the
 * rules' state just before the first week is already exact (see
 * `evaluateAlertEpisodes`: state only changes where a sample enters or leaves a
 * window), and episodes that seem to fire earlier are dropped. The figures are
 * those of the whole history (window sums are differences of running totals,
 * exact for whole-number counts).
 */
export const computeSloSignals = async (
  _ctx: ServiceContext,
  tx: Tx,
  scope: { now: Date; teams?: readonly string[]; sinceWeek?: string },
): Promise<SignalRow[]> => {
  const all = await listSloRows(tx);
  const slos = scope.teams === undefined ? all : all.filter((s) => scope.teams!.includes(s.team));
  await ingestEventSamples(tx, slos, scope.now);
  const nowMs = scope.now.getTime();
  const until = toMinute(scope.now);
  const firstWeek = scope.sinceWeek ?? weekOf(nowMs - (DEFAULT_WEEKS - 1) * WEEK_MS);
  const rows: SignalRow[] = [];
  for (const slo of slos) {
    const firstBucket = await firstSampleBucket(tx, slo.name);
    if (firstBucket === null) continue;
    const start = Math.max(
      weekStart(weekOf(toMinute(firstBucket) * MINUTE_MS)),
      weekStart(weekOf(weekStart(firstWeek))),
    );
    const windowMinutes = slo.window_days * 1440;
    const from = minuteIso(toMinute(new Date(start)) - windowMinutes - 1);
    const series = buildSeries(
      (await listSamples(tx, slo.name, from)).map((s) => ({
        minute: toMinute(s.bucket),
        good: s.good,
        total: s.total,
      })),
    );
    const episodes = evaluateAlertEpisodes(series, burnRules(slo.window_days), slo.target, until);
    for (let w = start; w <= nowMs; w += WEEK_MS) {
      const week = weekOf(w);
      const endMinute = Math.min(toMinute(new Date(w + WEEK_MS)) - 1, until);
      const sum = windowSum(series, endMinute, windowMinutes);
      const bad = Math.max(0, sum.total - sum.good);
      const base = { team: slo.team, component: slo.component, week };
      rows.push({
        ...base,
        signal: 'slo.budget_remaining',
        value: budgetRemaining(sum.good, sum.total, slo.target),
        numerator: sum.total > 0 ? bad : null,
        denominator: sum.total > 0 ? sum.total * (1 - slo.target) : null,
        details: { slo: slo.name, target: slo.target, window_days: slo.window_days, good: sum.good, total: sum.total },
      });
      const fromMinute = toMinute(new Date(w));
      const fired = episodes.filter((e) => e.firedAt >= fromMinute && e.firedAt < fromMinute + 7 * 1440);
      rows.push({
        ...base,
        signal: 'slo.burn_alerts',
        value: fired.length,
        numerator: fired.filter((e) => e.severity === 'page').length,
        denominator: null,
        details: {
          slo: slo.name,
          pages: fired.filter((e) => e.severity === 'page').length,
          tickets: fired.filter((e) => e.severity === 'ticket').length,
          fired: fired.slice(0, 20).map((e) => ({ rule: e.rule, at: minuteIso(e.firedAt) })),
        },
      });
    }
  }
  return rows;
};
