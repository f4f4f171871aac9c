// Over 500 lines, kept for now: the OpenSLO subset, budgets and burn-rate windows read together; split parse from arithmetic in issue 15.
import { isNode, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { textPosition, yamlDocumentsProblem, yamlTextProblem, yamlToJs } from './yaml.guard.js';

/**
 * Service level objectives (PRODUCT.md C6, docs/slo.md): a documented subset of
 * OpenSLO v1 (`kind: SLO` with a ratio-metric indicator, one rolling window, one
 * objective, occurrences budgeting), the error-budget arithmetic and the
 * multi-window multi-burn-rate alert rules of the SRE Workbook (chapter 5),
 * scaled for windows other than 30 days. Pure: no I/O, no clock.
 */

export const SLO_ISSUE_CODES = ['LANES_SLO_INVALID', 'LANES_SLO_UNSUPPORTED', 'LANES_SLO_YAML'] as const;
export type SloIssueCode = (typeof SLO_ISSUE_CODES)[number];

export type SloPath = (string | number)[];

export interface SloIssue {
  code: SloIssueCode;
  message: string;
  /** Path inside the document list, e.g. `[0, 'spec', 'objectives', 0, 'target']`. */
  path: SloPath;
  file?: string;
  line?: number;
  col?: number;
}

export interface SloRatio {
  /** `good` or `bad`: which counter the numerator is. */
  numerator: 'good' | 'bad';
}

/** One SLO of the subset, normalised. */
export interface SloDefinition {
  name: string;
  displayName: string | null;
  service: string;
  /** Owner named by the document (`lanes.dev/team`, `lanes.dev/component` label or annotation). */
  team: string | null;
  component: string | null;
  /** Objective as a fraction, 0 < target < 1 (0.999 = 99.9 %). */
  target: number;
  windowDays: number;
  ratio: SloRatio;
  /** The document as given (for display and re-export). */
  spec: Record<string, unknown>;
}

export const TEAM_KEY = 'lanes.dev/team';
export const COMPONENT_KEY = 'lanes.dev/component';
const NAME = /^[a-z0-9]([a-z0-9._-]{0,118}[a-z0-9])?$/;
export const MAX_WINDOW_DAYS = 366;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `28d` → 28, `4w` → 28; anything else (hours, months, calendar) → null. */
export const parseWindowDays = (duration: unknown): number | null => {
  if (typeof duration !== 'string') return null;
  const match = /^([1-9]\d{0,3})([dw])$/.exec(duration.trim());
  if (!match) return null;
  const days = Number(match[1]) * (match[2] === 'w' ? 7 : 1);
  return days <= MAX_WINDOW_DAYS ? days : null;
};

/** A label or annotation value: OpenSLO labels may be a string or a list of strings (first wins). */
const metaValue = (metadata: Record<string, unknown>, key: string): string | null => {
  for (const section of ['labels', 'annotations']) {
    const map = metadata[section];
    if (!isRecord(map)) continue;
    const value = map[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    if (Array.isArray(value) && typeof value[0] === 'string' && value[0].trim() !== '') return value[0].trim();
  }
  return null;
};

/**
 * Checks OpenSLO documents (already parsed from YAML or JSON) and returns the
 * SLOs of the subset. `kind: SLI` documents are accepted as targets of
 * `indicatorRef`; other kinds are reported as unsupported. Never throws.
 */
export const parseSloDocuments = (docs: readonly unknown[]): { slos: SloDefinition[]; issues: SloIssue[] } => {
  const issues: SloIssue[] = [];
  const issue = (code: SloIssueCode, path: SloPath, message: string): void => {
    issues.push({ code, path, message });
  };
  const slis = new Map<string, Record<string, unknown>>();
  docs.forEach((doc, i) => {
    if (isRecord(doc) && doc['kind'] === 'SLI' && isRecord(doc['metadata'])) {
      const name = doc['metadata']['name'];
      if (typeof name === 'string') slis.set(name, isRecord(doc['spec']) ? doc['spec'] : {});
    } else if (!isRecord(doc)) issue('LANES_SLO_INVALID', [i], 'an OpenSLO document must be a mapping');
  });

  const slos: SloDefinition[] = [];
  const seen = new Set<string>();
  docs.forEach((doc, i) => {
    if (!isRecord(doc)) return;
    const before = issues.length;
    if (doc['apiVersion'] !== 'openslo/v1') {
      issue(
        'LANES_SLO_UNSUPPORTED',
        [i, 'apiVersion'],
        `apiVersion must be "openslo/v1", not ${JSON.stringify(doc['apiVersion'])}`,
      );
    }
    if (doc['kind'] === 'SLI') return;
    if (doc['kind'] !== 'SLO') {
      issue(
        'LANES_SLO_UNSUPPORTED',
        [i, 'kind'],
        `only kind SLO (and SLI for indicatorRef) is supported, not ${JSON.stringify(doc['kind'])}`,
      );
      return;
    }
    const metadata = isRecord(doc['metadata']) ? doc['metadata'] : {};
    const name = metadata['name'];
    if (typeof name !== 'string' || !NAME.test(name)) {
      issue(
        'LANES_SLO_INVALID',
        [i, 'metadata', 'name'],
        'metadata.name is required: lower-case letters, digits and . _ - (at most 120)',
      );
    } else if (seen.has(name)) {
      issue('LANES_SLO_INVALID', [i, 'metadata', 'name'], `SLO "${name}" is defined twice`);
    }
    const spec = isRecord(doc['spec']) ? doc['spec'] : undefined;
    if (!spec) {
      issue('LANES_SLO_INVALID', [i, 'spec'], 'spec is required');
      return;
    }
    const service = spec['service'];
    if (typeof service !== 'string' || service.trim() === '') {
      issue(
        'LANES_SLO_INVALID',
        [i, 'spec', 'service'],
        'spec.service is required (the service or component measured)',
      );
    }

    // Indicator: inline or by reference to a kind SLI document of the same input.
    let indicatorSpec: Record<string, unknown> | undefined;
    let indicatorPath: SloPath = [i, 'spec', 'indicator', 'spec'];
    if (isRecord(spec['indicator'])) {
      indicatorSpec = isRecord(spec['indicator']['spec']) ? spec['indicator']['spec'] : undefined;
      if (!indicatorSpec) issue('LANES_SLO_INVALID', indicatorPath, 'indicator.spec is required');
    } else if (typeof spec['indicatorRef'] === 'string') {
      indicatorSpec = slis.get(spec['indicatorRef']);
      indicatorPath = [i, 'spec', 'indicatorRef'];
      if (!indicatorSpec) {
        issue(
          'LANES_SLO_INVALID',
          indicatorPath,
          `indicatorRef "${spec['indicatorRef']}" names no kind SLI document given with it`,
        );
      }
    } else {
      issue('LANES_SLO_INVALID', [i, 'spec'], 'spec.indicator or spec.indicatorRef is required');
    }
    let numerator: 'good' | 'bad' = 'good';
    if (indicatorSpec) {
      const ratio = indicatorSpec['ratioMetric'];
      if (!isRecord(ratio)) {
        issue(
          'LANES_SLO_UNSUPPORTED',
          indicatorSpec['thresholdMetric'] !== undefined ? [...indicatorPath, 'thresholdMetric'] : indicatorPath,
          'only ratioMetric indicators (good/total or bad/total) are supported',
        );
      } else {
        const hasGood = ratio['good'] !== undefined;
        const hasBad = ratio['bad'] !== undefined;
        if (hasGood === hasBad) {
          issue('LANES_SLO_INVALID', [...indicatorPath, 'ratioMetric'], 'ratioMetric needs exactly one of good or bad');
        }
        if (ratio['total'] === undefined) {
          issue('LANES_SLO_INVALID', [...indicatorPath, 'ratioMetric'], 'ratioMetric needs total');
        }
        if (ratio['rawType'] !== undefined || ratio['raw'] !== undefined) {
          issue(
            'LANES_SLO_UNSUPPORTED',
            [...indicatorPath, 'ratioMetric', 'raw'],
            'raw ratio metrics are not supported',
          );
        }
        numerator = hasBad && !hasGood ? 'bad' : 'good';
      }
    }

    // Time window: exactly one, rolling, whole days or weeks.
    let windowDays = 0;
    const windows = spec['timeWindow'];
    if (!Array.isArray(windows) || windows.length !== 1 || !isRecord(windows[0])) {
      issue('LANES_SLO_INVALID', [i, 'spec', 'timeWindow'], 'timeWindow must be a list of exactly one window');
    } else {
      const w = windows[0];
      const days = parseWindowDays(w['duration']);
      if (days === null) {
        issue(
          'LANES_SLO_UNSUPPORTED',
          [i, 'spec', 'timeWindow', 0, 'duration'],
          `duration must be whole days or weeks up to ${MAX_WINDOW_DAYS}d (e.g. 28d, 30d, 7d, 4w)`,
        );
      } else windowDays = days;
      if (w['isRolling'] !== true || w['calendar'] !== undefined) {
        issue(
          'LANES_SLO_UNSUPPORTED',
          [i, 'spec', 'timeWindow', 0, 'isRolling'],
          'only rolling windows (isRolling: true) are supported',
        );
      }
    }

    const method = spec['budgetingMethod'];
    if (method !== 'Occurrences') {
      issue(
        'LANES_SLO_UNSUPPORTED',
        [i, 'spec', 'budgetingMethod'],
        `budgetingMethod must be Occurrences, not ${JSON.stringify(method)}`,
      );
    }

    let target = 0;
    const objectives = spec['objectives'];
    if (!Array.isArray(objectives) || objectives.length !== 1 || !isRecord(objectives[0])) {
      issue('LANES_SLO_INVALID', [i, 'spec', 'objectives'], 'objectives must be a list of exactly one objective');
    } else {
      const o = objectives[0];
      if (typeof o['target'] === 'number') {
        if (o['target'] > 0 && o['target'] < 1) target = o['target'];
        else
          issue(
            'LANES_SLO_INVALID',
            [i, 'spec', 'objectives', 0, 'target'],
            'target must be between 0 and 1 (0.999 for 99.9 %)',
          );
      } else if (typeof o['targetPercent'] === 'number') {
        if (o['targetPercent'] > 0 && o['targetPercent'] < 100) target = o['targetPercent'] / 100;
        else
          issue(
            'LANES_SLO_INVALID',
            [i, 'spec', 'objectives', 0, 'targetPercent'],
            'targetPercent must be between 0 and 100',
          );
      } else {
        issue(
          'LANES_SLO_INVALID',
          [i, 'spec', 'objectives', 0],
          'an objective needs a numeric target (0..1) or targetPercent (0..100)',
        );
      }
      if (o['op'] !== undefined || o['value'] !== undefined) {
        issue(
          'LANES_SLO_UNSUPPORTED',
          [i, 'spec', 'objectives', 0],
          'threshold objectives (op, value) are not supported',
        );
      }
    }

    if (issues.length > before || typeof name !== 'string' || typeof service !== 'string') return;
    seen.add(name);
    slos.push({
      name,
      displayName: typeof metadata['displayName'] === 'string' ? metadata['displayName'] : null,
      service: service.trim(),
      team: metaValue(metadata, TEAM_KEY),
      component: metaValue(metadata, COMPONENT_KEY),
      target,
      windowDays,
      ratio: { numerator },
      spec: doc,
    });
  });
  return { slos, issues };
};

/** The source position of a path inside one YAML document, falling back to the nearest node that exists. */
const positionIn = (doc: Document, counter: LineCounter, path: SloPath): { line: number; col: number } => {
  let offset: number | undefined;
  for (let n = path.length; offset === undefined && n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) offset = node.range[0];
  }
  return counter.linePos(offset ?? doc.range?.[0] ?? 0);
};

/** The YAML stage: limits, syntax, aliases; the values of every document, or the issues that stop here. */
const readSloYaml = (
  text: string,
  file: string,
): { counter: LineCounter; docs: Document[]; values: unknown[] } | { issues: SloIssue[] } => {
  const fail = (message: string, pos: { line: number; col: number }): { issues: SloIssue[] } => ({
    issues: [{ code: 'LANES_SLO_YAML', message, path: [], file, ...pos }],
  });
  const tooLarge = yamlTextProblem(text, 'the SLO YAML');
  if (tooLarge) return fail(tooLarge.message, textPosition(text, tooLarge.offset));
  const counter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false });
  const docs = Array.isArray(parsed) ? parsed : [];
  const syntax: SloIssue[] = [];
  for (const d of docs) {
    for (const e of d.errors) {
      const pos = counter.linePos(e.pos[0]);
      syntax.push({ code: 'LANES_SLO_YAML', message: e.message.split('\n')[0]!, path: [], file, ...pos });
    }
  }
  if (syntax.length > 0) return { issues: syntax };
  const expanded = yamlDocumentsProblem(docs, 'the SLO YAML');
  if (expanded) return fail(expanded.message, counter.linePos(expanded.offset));
  try {
    return { counter, docs, values: docs.map(yamlToJs) };
  } catch (error) {
    return fail((error as Error).message, { line: 1, col: 1 });
  }
};

/**
 * OpenSLO YAML text (one or more `---` separated documents, or a top-level
 * list of them) → SLOs and every issue at file:line:col. Never throws: text
 * over the limits of `yaml.guard.ts` (1 MiB, 64 levels, aliases expanding to
 * at most 1,000,000 values) is one LANES_SLO_YAML issue.
 */
export const parseSloYaml = (text: string, file = 'slo.yaml'): { slos: SloDefinition[]; issues: SloIssue[] } => {
  const read = readSloYaml(text, file);
  if ('issues' in read) return { slos: [], issues: read.issues };
  const { counter } = read;
  // Flatten: a document may itself be a list of OpenSLO documents.
  const values: unknown[] = [];
  const origin: { doc: Document; prefix: SloPath }[] = [];
  read.docs.forEach((d, i) => {
    const value = read.values[i];
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((v, j) => {
        values.push(v);
        origin.push({ doc: d, prefix: [j] });
      });
    } else {
      values.push(value);
      origin.push({ doc: d, prefix: [] });
    }
  });
  if (values.length === 0) {
    return {
      slos: [],
      issues: [{ code: 'LANES_SLO_INVALID', message: 'no OpenSLO document found', path: [], file, line: 1, col: 1 }],
    };
  }
  const { slos, issues } = parseSloDocuments(values);
  const positioned = issues.map((issue) => {
    const [index, ...rest] = issue.path;
    const o = typeof index === 'number' ? origin[index] : undefined;
    const pos = o ? positionIn(o.doc, counter, [...o.prefix, ...rest]) : { line: 1, col: 1 };
    return { ...issue, file, ...pos };
  });
  positioned.sort((a, b) => a.line - b.line || a.col - b.col);
  return { slos, issues: positioned };
};

/** `slo.yaml:12:7 LANES_SLO_INVALID target must be …` */
export const formatSloIssue = (issue: SloIssue): string =>
  `${issue.file ?? ''}${issue.line !== undefined ? `:${issue.line}:${issue.col ?? 1}` : ''}${issue.file || issue.line !== undefined ? ' ' : ''}${issue.code} ${issue.message}`;

// ---------------------------------------------------------------------------
// Owner: which team and component an SLO's signals belong to

export interface SloOwnerTeam {
  id: string;
  components: readonly string[];
}

/**
 * The `lanes.dev/team` / `lanes.dev/component` label or annotation first; else
 * the team whose `components` list names `spec.service` (the component is then
 * the service). Returns an issue when no known team results.
 */
export const resolveSloOwner = (
  slo: Pick<SloDefinition, 'name' | 'service' | 'team' | 'component'>,
  teams: readonly SloOwnerTeam[],
): { team: string; component: string | null } | { issue: string } => {
  const ownerOf = (component: string): string | undefined => teams.find((t) => t.components.includes(component))?.id;
  const component = slo.component ?? (ownerOf(slo.service) !== undefined ? slo.service : null);
  if (slo.team !== null) {
    if (!teams.some((t) => t.id === slo.team))
      return { issue: `SLO "${slo.name}": ${TEAM_KEY} "${slo.team}" is not a team of the charter` };
    return { team: slo.team, component };
  }
  const team = component === null ? undefined : ownerOf(component);
  if (team === undefined) {
    return {
      issue: `SLO "${slo.name}": no team owns "${component ?? slo.service}"; add it to a team's components or set the ${TEAM_KEY} label`,
    };
  }
  return { team, component };
};

// ---------------------------------------------------------------------------
// Budget and burn rates (SRE Workbook, chapter 5 "Alerting on SLOs")

/**
 * Error budget remaining over a window: 1 − bad / (total × (1 − target)).
 * 1 when nothing failed, 0 when exactly the budget is spent, negative when
 * overspent; null when there was no traffic.
 */
export const budgetRemaining = (good: number, total: number, target: number): number | null => {
  if (total <= 0) return null;
  const bad = Math.max(0, total - good);
  return 1 - bad / (total * (1 - target));
};

/** How fast the budget burns: the error ratio ÷ the allowed error ratio (1 = spends exactly the budget in the window). 0 without traffic. */
export const burnRate = (good: number, total: number, target: number): number => {
  if (total <= 0) return 0;
  return Math.max(0, total - good) / total / (1 - target);
};

export type BurnRuleId = 'page-1h' | 'page-6h' | 'ticket-3d';

export interface BurnRule {
  id: BurnRuleId;
  severity: 'page' | 'ticket';
  /** Burn-rate threshold: both windows must burn faster than this. */
  factor: number;
  longMinutes: number;
  shortMinutes: number;
  /** Share of the whole budget spent when the long window burns at exactly `factor`. */
  budgetConsumed: number;
}

const HOUR = 60;
/** The Workbook's table for a 30-day window. */
const WORKBOOK_30D: readonly Omit<BurnRule, 'budgetConsumed'>[] = [
  { id: 'page-1h', severity: 'page', factor: 14.4, longMinutes: HOUR, shortMinutes: 5 },
  { id: 'page-6h', severity: 'page', factor: 6, longMinutes: 6 * HOUR, shortMinutes: 30 },
  { id: 'ticket-3d', severity: 'ticket', factor: 1, longMinutes: 72 * HOUR, shortMinutes: 6 * HOUR },
];

/**
 * The three rules for an SLO window of `windowDays`. For 30 days they are the
 * Workbook's. For another window the burn-rate factors stay and both alert
 * windows scale by windowDays / 30 (rounded to whole minutes, at least 1), so
 * each rule still fires on the same share of the budget (2 %, 5 %, 10 %) and
 * detects in the same share of the window.
 */
export const burnRules = (windowDays: number): BurnRule[] => {
  const scale = windowDays / 30;
  return WORKBOOK_30D.map((r) => {
    const longMinutes = Math.max(1, Math.round(r.longMinutes * scale));
    const shortMinutes = Math.max(1, Math.round(r.shortMinutes * scale));
    return { ...r, longMinutes, shortMinutes, budgetConsumed: (r.factor * longMinutes) / (windowDays * 24 * HOUR) };
  });
};

/** Samples summed per minute: `minute` is whole minutes since the epoch. */
export interface MinuteSample {
  minute: number;
  good: number;
  total: number;
}

/** Prefix sums over minute samples sorted by minute, for window sums in O(log n). */
export interface SampleSeries {
  minutes: number[];
  good: number[];
  total: number[];
}

export const buildSeries = (samples: readonly MinuteSample[]): SampleSeries => {
  const sorted = [...samples].sort((a, b) => a.minute - b.minute);
  const series: SampleSeries = { minutes: [], good: [0], total: [0] };
  for (const s of sorted) {
    const last = series.minutes.length - 1;
    if (last >= 0 && series.minutes[last] === s.minute) {
      series.good[last + 1]! += s.good;
      series.total[last + 1]! += s.total;
    } else {
      series.minutes.push(s.minute);
      series.good.push(series.good[last + 1]! + s.good);
      series.total.push(series.total[last + 1]! + s.total);
    }
  }
  return series;
};

/** How many sample minutes are ≤ m. */
const countUpTo = (minutes: readonly number[], m: number): number => {
  let lo = 0;
  let hi = minutes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (minutes[mid]! <= m) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/** Good and total over the window of `length` minutes ending at minute `end` inclusive: (end − length, end]. */
export const windowSum = (series: SampleSeries, end: number, length: number): { good: number; total: number } => {
  const hi = countUpTo(series.minutes, end);
  const lo = countUpTo(series.minutes, end - length);
  return { good: series.good[hi]! - series.good[lo]!, total: series.total[hi]! - series.total[lo]! };
};

export interface AlertEpisode {
  rule: BurnRuleId;
  severity: 'page' | 'ticket';
  firedAt: number;
  /** null while it still fires at `until`. */
  resolvedAt: number | null;
  /** The two burn rates when it fired. */
  burnLong: number;
  burnShort: number;
}

/**
 * Every episode of every rule up to minute `until`: a rule fires when both its
 * windows burn faster than its factor, and resolves when they no longer both
 * do. Window sums only change when a sample enters a window (its minute) or
 * leaves it (its minute + the window length), so only those instants are
 * evaluated.
 */
export const evaluateAlertEpisodes = (
  series: SampleSeries,
  rules: readonly BurnRule[],
  target: number,
  until: number,
): AlertEpisode[] => {
  const episodes: AlertEpisode[] = [];
  for (const rule of rules) {
    const points = new Set<number>();
    for (const m of series.minutes) {
      for (const p of [m, m + rule.shortMinutes, m + rule.longMinutes]) if (p <= until) points.add(p);
    }
    let open: AlertEpisode | null = null;
    for (const t of [...points].sort((a, b) => a - b)) {
      const long = windowSum(series, t, rule.longMinutes);
      const short = windowSum(series, t, rule.shortMinutes);
      const burnLong = burnRate(long.good, long.total, target);
      const burnShort = burnRate(short.good, short.total, target);
      const firing = burnLong > rule.factor && burnShort > rule.factor;
      if (firing && !open) {
        open = { rule: rule.id, severity: rule.severity, firedAt: t, resolvedAt: null, burnLong, burnShort };
        episodes.push(open);
      } else if (!firing && open) {
        open.resolvedAt = t;
        open = null;
      }
    }
  }
  return episodes.sort((a, b) => a.firedAt - b.firedAt || a.rule.localeCompare(b.rule));
};

export const toMinute = (at: Date | string): number => Math.floor(new Date(at).getTime() / 60_000);
export const minuteIso = (minute: number): string => new Date(minute * 60_000).toISOString();
