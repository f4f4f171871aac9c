import { z } from 'zod';
import {
  CHANGE_KINDS,
  ITEM_FIELDS,
  ITEM_KINDS,
  type ChangeKind,
  type ItemField,
  type ItemKind,
  type LoggedEvent,
} from './event.js';
import { checkLinearPattern, linearPattern, type LinearPattern } from './linear.regex.js';

/**
 * Which decision a change event represents (PRODUCT.md C3). Rules are plain
 * data: the defaults below, plus the rules a team writes in the `decisions:`
 * section of `lanes.yaml` (`decisionRulesSectionSchema`), which are tried
 * first. The first rule whose every condition holds names the decision
 * domain; an event no rule matches is not a decision (a comment, a PR, a
 * state move on an ordinary item, self-assignment).
 *
 * How the less obvious decisions are recognised in events:
 * - **Architecture** (`eng.architecture`): a label such as `architecture`,
 *   `adr` or `design-doc` added or removed; and the state, assignee, closing
 *   and reopening of items that carry such a label or whose title starts with
 *   `ADR`/`RFC` or names a design document ("Design doc: …").
 * - **Success metrics** (`product.success-metrics`): an event whose
 *   `data.field` names a metric field (`success_metric`, `outcome_target`,
 *   `key_result`, `kr`, `okr`, `north_star_metric` …, in any spelling of
 *   case, spaces, `-` and `_`) — the native API and connectors send changes to
 *   fields Lanes has no column for this way, as `activity` or
 *   `definition_changed` events; a label `kr`, `okr`, `key-result` or
 *   `success-metric` added or removed; and the title of an item carrying
 *   such a label changed (the KR itself was rewritten).
 * - **Value slices** (`trio.prioritization`): items of kind `feature`, or
 *   items labelled `value-slice` / `slice`.
 *
 * Labels are compared normalised: lower case, spaces and `_` as `-`, and a
 * prefix such as `type:` or `kind/` ignored (`Type: Design Doc` is
 * `design-doc`).
 */

const ruleId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lower-case letters, digits and . _ -');
const domainId = z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/, 'a dotted domain id such as eng.bug-triage');
const nonEmpty = <T extends z.ZodType>(item: T) => z.array(item).min(1);

/** The conditions of a rule; all that are given must hold. */
export const decisionConditionSchema = z
  .strictObject({
    change: nonEmpty(z.enum(CHANGE_KINDS)).optional().describe('The event is one of these change kinds.'),
    field: nonEmpty(z.enum(ITEM_FIELDS)).optional().describe('A field_changed event changes one of these fields.'),
    item_kind: nonEmpty(z.enum(ITEM_KINDS)).optional().describe('The item is of one of these kinds.'),
    item_labels: nonEmpty(z.string().min(1).max(200))
      .optional()
      .describe('The item carries at least one of these labels.'),
    item_title: z
      .string()
      .min(1)
      .max(500)
      .superRefine((source, ctx) => {
        const problem = checkLinearPattern(source, { caseInsensitive: true });
        // `params.pattern` lets `lanes check` point at the construct inside the string and say what to write.
        if (problem)
          ctx.addIssue({
            code: 'custom',
            message: problem.message,
            params: { pattern: { index: problem.index, hint: problem.hint } },
          });
      })
      .optional()
      .describe(
        'The item title matches this regular expression, in RE2 syntax (case-insensitive; no lookaround or backreferences).',
      ),
    label: nonEmpty(z.string().min(1).max(200))
      .optional()
      .describe('The label added or removed (label_added / label_removed) is one of these.'),
    data_field: nonEmpty(z.string().min(1).max(200))
      .optional()
      .describe('The event names one of these fields in data.field (fields Lanes has no column for).'),
    others_only: z
      .literal(true)
      .optional()
      .describe(
        'For assignee changes: only when the actor assigns or unassigns someone else (self-assignment is no decision).',
      ),
  })
  .refine((w) => Object.values(w).some((v) => v !== undefined), 'a rule needs at least one condition');
export type DecisionCondition = z.output<typeof decisionConditionSchema>;

/** One rule: when an event meets the conditions, it is a decision in `domain`. */
export const decisionRuleSchema = z
  .strictObject({
    id: ruleId.describe('Rule id, shown with every decision it names.'),
    domain: domainId.describe('The decision domain the matching events belong to.'),
    description: z.string().min(1).max(300).optional(),
    teams: nonEmpty(z.string().min(1).max(64)).optional().describe('Only for items of these teams (default: all).'),
    when: decisionConditionSchema,
  })
  .describe('Maps change events to a decision domain.');
export type DecisionRule = z.output<typeof decisionRuleSchema>;

/** The `decisions:` section of `lanes.yaml`: extra rules (tried before the defaults) and defaults turned off. */
export const decisionRulesSectionSchema = z
  .strictObject({
    rules: z
      .array(decisionRuleSchema)
      .max(200, 'at most 200 rules')
      .default([])
      .describe('Team-defined rules, tried in order before the defaults.'),
    disable: z.array(ruleId).default([]).describe('Ids of default rules to turn off.'),
  })
  .describe('How change events map to decision domains (boundary monitor).');
export type DecisionRulesSection = z.output<typeof decisionRulesSectionSchema>;
export type DecisionRulesSectionInput = z.input<typeof decisionRulesSectionSchema>;

const PRIORITY_FIELDS: ItemField[] = ['priority', 'severity'];
const SCHEDULE_FIELDS: ItemField[] = ['milestone', 'sprint'];

/** Labels that mark an architecture item: ADRs, design documents, RFCs. */
export const ARCHITECTURE_LABELS = [
  'architecture',
  'arch',
  'adr',
  'design-doc',
  'design-document',
  'tech-design',
  'technical-design',
  'rfc',
];
/** Titles of ADRs, RFCs and design documents. */
export const ARCHITECTURE_TITLE = String.raw`^\s*\[?(?:adr|rfc)\b|\b(?:design doc(?:ument)?|technical design)\b`;
/** Labels that mark a success metric, outcome target or key result. */
export const METRIC_LABELS = ['kr', 'okr', 'key-result', 'success-metric', 'success-metrics', 'outcome-target'];
/** Names (in data.field) of fields that hold a success metric, outcome target or key result. */
export const METRIC_FIELDS = [
  'success-metric',
  'success-metrics',
  'outcome-target',
  'outcome-metric',
  'target-metric',
  'north-star-metric',
  'key-result',
  'kr',
  'okr',
];
/** Labels that mark a value slice (prioritised by the trio like a feature). */
export const SLICE_LABELS = ['value-slice', 'slice'];

/** The default rules, in the order they are tried. */
export const DEFAULT_DECISION_RULES: readonly DecisionRule[] = [
  {
    id: 'metric-field',
    domain: 'product.success-metrics',
    description: 'A success metric, outcome target or key result was changed.',
    when: { data_field: METRIC_FIELDS },
  },
  {
    id: 'metric-label',
    domain: 'product.success-metrics',
    description: 'An item was marked (or unmarked) as a success metric or key result.',
    when: { change: ['label_added', 'label_removed'], label: METRIC_LABELS },
  },
  {
    id: 'metric-item-title',
    domain: 'product.success-metrics',
    description: 'A key result or success metric item was reworded.',
    when: { change: ['field_changed'], field: ['title'], item_labels: METRIC_LABELS },
  },
  {
    id: 'architecture-label',
    domain: 'eng.architecture',
    description: 'An item was marked (or unmarked) as architecture, ADR or design document.',
    when: { change: ['label_added', 'label_removed'], label: ARCHITECTURE_LABELS },
  },
  {
    id: 'architecture-item-state',
    domain: 'eng.architecture',
    description: 'An architecture-labelled item was moved to another state.',
    when: { change: ['field_changed'], field: ['state'], item_labels: ARCHITECTURE_LABELS },
  },
  {
    id: 'architecture-item-closed',
    domain: 'eng.architecture',
    description: 'An architecture-labelled item was closed or reopened.',
    when: { change: ['closed', 'reopened'], item_labels: ARCHITECTURE_LABELS },
  },
  {
    id: 'architecture-item-assignee',
    domain: 'eng.architecture',
    description: 'Someone else was put on (or taken off) an architecture-labelled item.',
    when: { change: ['field_changed'], field: ['assignee'], item_labels: ARCHITECTURE_LABELS, others_only: true },
  },
  {
    id: 'adr-state',
    domain: 'eng.architecture',
    description: 'An ADR, RFC or design document was moved.',
    when: { change: ['field_changed'], field: ['state'], item_title: ARCHITECTURE_TITLE },
  },
  {
    id: 'adr-closed',
    domain: 'eng.architecture',
    description: 'An ADR, RFC or design document was closed or reopened.',
    when: { change: ['closed', 'reopened'], item_title: ARCHITECTURE_TITLE },
  },
  {
    id: 'adr-assignee',
    domain: 'eng.architecture',
    description: 'Someone else was put on (or taken off) an ADR, RFC or design document.',
    when: { change: ['field_changed'], field: ['assignee'], item_title: ARCHITECTURE_TITLE, others_only: true },
  },
  {
    id: 'incident-severity',
    domain: 'eng.incident-command',
    description: 'The severity or priority of an incident was set or changed.',
    when: { change: ['field_changed'], field: PRIORITY_FIELDS, item_kind: ['incident'] },
  },
  {
    id: 'bug-priority',
    domain: 'eng.bug-triage',
    description: 'The priority or severity of a bug was set or changed.',
    when: { change: ['field_changed'], field: PRIORITY_FIELDS, item_kind: ['bug'] },
  },
  {
    id: 'bug-schedule',
    domain: 'eng.bug-triage',
    description: 'A bug was put in (or taken out of) a milestone, sprint or fix version.',
    when: { change: ['field_changed'], field: SCHEDULE_FIELDS, item_kind: ['bug'] },
  },
  {
    id: 'tech-debt-priority',
    domain: 'eng.tech-debt',
    description: 'The priority or severity of a tech debt item was set or changed.',
    when: { change: ['field_changed'], field: PRIORITY_FIELDS, item_kind: ['tech_debt'] },
  },
  {
    id: 'tech-debt-schedule',
    domain: 'eng.tech-debt',
    description: 'A tech debt item was put in (or taken out of) a milestone or sprint.',
    when: { change: ['field_changed'], field: SCHEDULE_FIELDS, item_kind: ['tech_debt'] },
  },
  {
    id: 'feature-priority',
    domain: 'trio.prioritization',
    description: 'The priority of a feature was set or changed.',
    when: { change: ['field_changed'], field: PRIORITY_FIELDS, item_kind: ['feature'] },
  },
  {
    id: 'slice-priority',
    domain: 'trio.prioritization',
    description: 'The priority of a value slice was set or changed.',
    when: { change: ['field_changed'], field: PRIORITY_FIELDS, item_labels: SLICE_LABELS },
  },
  {
    id: 'assignment',
    domain: 'eng.assignment',
    description: 'Someone assigned (or unassigned) another person.',
    when: { change: ['field_changed'], field: ['assignee'], others_only: true },
  },
  {
    id: 'estimate',
    domain: 'eng.estimation',
    description: 'The estimate or story points were set or changed.',
    when: { change: ['field_changed'], field: ['estimate'] },
  },
];

// ---------------------------------------------------------------------------
// Compiled rules

/** A rule with its sets and regular expression built. */
export interface CompiledDecisionRule {
  id: string;
  domain: string;
  teams: ReadonlySet<string> | null;
  change: ReadonlySet<ChangeKind> | null;
  field: ReadonlySet<ItemField> | null;
  itemKind: ReadonlySet<ItemKind> | null;
  itemLabels: ReadonlySet<string> | null;
  /** Runs in linear time (RE2), whatever the pattern and the title. */
  itemTitle: LinearPattern | null;
  label: ReadonlySet<string> | null;
  dataField: ReadonlySet<string> | null;
  othersOnly: boolean;
}

/** Rules ready to match: built once by `buildDecisionRules`, then used for every event. */
export interface DecisionRuleSet {
  readonly rules: readonly DecisionRule[];
  /** The same rules, ready to match. */
  readonly compiled: readonly CompiledDecisionRule[];
}

/** Lower case, spaces and `_` as `-`. */
const normaliseName = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-');

/** The forms a label is known by: `Type: Design Doc` is `type:-design-doc` and `design-doc`. */
const labelForms = (label: string): string[] => {
  const full = normaliseName(label);
  const tail = normaliseName(label.replace(/^.*[:/]/, ''));
  return tail !== '' && tail !== full ? [full, tail] : [full];
};

const setOf = <T>(values: readonly T[] | undefined): ReadonlySet<T> | null =>
  values === undefined ? null : new Set(values);
const nameSet = (values: readonly string[] | undefined): ReadonlySet<string> | null =>
  values === undefined ? null : new Set(values.map(normaliseName));

const compile = (rule: DecisionRule): CompiledDecisionRule => ({
  id: rule.id,
  domain: rule.domain,
  teams: setOf(rule.teams),
  change: setOf(rule.when.change),
  field: setOf(rule.when.field),
  itemKind: setOf(rule.when.item_kind),
  itemLabels: nameSet(rule.when.item_labels),
  itemTitle: rule.when.item_title === undefined ? null : linearPattern(rule.when.item_title, { caseInsensitive: true }),
  label: nameSet(rule.when.label),
  dataField: nameSet(rule.when.data_field),
  othersOnly: rule.when.others_only === true,
});

/**
 * The rules in force: the section's own rules first (in their order), then
 * the defaults that are not disabled. The section must have passed
 * `decisionRulesSectionSchema`, which refuses patterns RE2 cannot run (one
 * that slipped past would throw here). Call once per charter load: the
 * patterns are compiled here, not per event.
 */
export const buildDecisionRules = (section?: Partial<DecisionRulesSection>): DecisionRuleSet => {
  const disabled = new Set(section?.disable ?? []);
  const rules = [...(section?.rules ?? []), ...DEFAULT_DECISION_RULES.filter((r) => !disabled.has(r.id))];
  return Object.freeze({ rules, compiled: rules.map(compile) });
};

/** The default rules, compiled. */
export const DEFAULT_DECISION_RULE_SET: DecisionRuleSet = buildDecisionRules();

/** A problem in the `decisions:` section, for `lanes check`. */
export interface DecisionRuleProblem {
  path: (string | number)[];
  message: string;
}

/** Reference checks of a parsed `decisions:` section against the charter's domain ids. */
export const decisionRuleProblems = (
  section: DecisionRulesSection,
  domainIds: Iterable<string>,
): DecisionRuleProblem[] => {
  const domains = new Set(domainIds);
  const defaults = new Set(DEFAULT_DECISION_RULES.map((r) => r.id));
  const problems: DecisionRuleProblem[] = [];
  const seen = new Set<string>();
  section.rules.forEach((rule, i) => {
    if (seen.has(rule.id)) problems.push({ path: ['rules', i, 'id'], message: `rule id "${rule.id}" is used twice` });
    seen.add(rule.id);
    if (!domains.has(rule.domain)) {
      problems.push({ path: ['rules', i, 'domain'], message: `unknown decision domain "${rule.domain}"` });
    }
  });
  section.disable.forEach((id, i) => {
    if (!defaults.has(id)) {
      problems.push({
        path: ['disable', i],
        message: `"${id}" is not a default rule (${[...defaults].join(', ')})`,
      });
    }
  });
  return problems;
};

// ---------------------------------------------------------------------------
// Matching

/** What the rules need to know of the item an event belongs to; `ItemState` fits. */
export interface DecisionItem {
  kind?: ItemKind | null | undefined;
  title?: string | null | undefined;
  team?: string | null | undefined;
  /** The item's labels when known (see `foldLabels`); ItemState does not track them. */
  labels?: Iterable<string> | undefined;
}

/** The decision an event represents: its domain, and the id of the rule that said so. */
export interface Decision {
  domain: string;
  rule: string;
}

/** The external id of an identity key `kind:id`, lower case. */
const identityId = (identity: string): string => identity.slice(identity.indexOf(':') + 1).toLowerCase();

/**
 * True when an assignee value names the actor: the same charter person id, or
 * the same external id (Jira account id, GitHub login, email) as the actor's
 * identity. Connectors store the source's own assignee value.
 */
export const isActor = (event: Pick<LoggedEvent, 'actorPersonId' | 'actorIdentity'>, value: string): boolean => {
  const v = value.toLowerCase();
  if (event.actorPersonId !== null && event.actorPersonId.toLowerCase() === v) return true;
  return event.actorIdentity !== null && (identityId(event.actorIdentity) === v || event.actorIdentity === v);
};

/** Whether an assignee value names the actor: `isActor` by id; the monitor's also through a person's aliases. */
export type SamePerson = (event: LoggedEvent, value: string) => boolean;

/**
 * True when an assignee change is the actor taking an unassigned item, or
 * dropping their own. Taking an item from someone else reassigns it: a decision.
 */
const isSelfAssignment = (e: LoggedEvent, same: SamePerson): boolean =>
  e.kind === 'field_changed' &&
  e.field === 'assignee' &&
  (e.to !== null ? same(e, e.to) && (e.from === null || same(e, e.from)) : e.from !== null && same(e, e.from));

const labelsOf = (item: DecisionItem | null | undefined): Set<string> => {
  const out = new Set<string>();
  for (const label of item?.labels ?? []) for (const form of labelForms(label)) out.add(form);
  return out;
};

const dataField = (event: LoggedEvent): string | null => {
  const f = event.data?.['field'];
  return typeof f === 'string' ? normaliseName(f) : null;
};

/**
 * The decision a change event represents, or null when it is none. `item` is
 * the item as it stands at the event (its projection up to the event, with
 * labels when known); the event's own item snapshot fills what it lacks.
 * `same` decides self-assignment (see `SamePerson`).
 */
export const decisionOf = (
  event: LoggedEvent,
  item: DecisionItem | null | undefined,
  rules: DecisionRuleSet = DEFAULT_DECISION_RULE_SET,
  same: SamePerson = isActor,
): Decision | null => {
  const kind = item?.kind ?? event.item?.kind ?? null;
  const title = item?.title ?? event.item?.title ?? null;
  const team = item?.team ?? event.item?.team ?? null;
  let labels: Set<string> | undefined;
  const target = event.target === null ? null : labelForms(event.target);
  const named = dataField(event);
  for (const rule of rules.compiled) {
    if (rule.change && !rule.change.has(event.kind)) continue;
    if (rule.field && (event.kind !== 'field_changed' || event.field === null || !rule.field.has(event.field)))
      continue;
    if (rule.teams && (team === null || !rule.teams.has(team))) continue;
    if (rule.itemKind && (kind === null || !rule.itemKind.has(kind))) continue;
    if (rule.label) {
      const wanted = rule.label;
      if (!(event.kind === 'label_added' || event.kind === 'label_removed') || !target?.some((f) => wanted.has(f)))
        continue;
    }
    if (rule.dataField && (named === null || !rule.dataField.has(named))) continue;
    if (rule.itemTitle && (title === null || !rule.itemTitle.test(title))) continue;
    if (rule.itemLabels) {
      labels ??= labelsOf(item);
      let any = false;
      for (const l of labels) if (rule.itemLabels.has(l)) any = true;
      if (!any) continue;
    }
    if (rule.othersOnly && isSelfAssignment(event, same)) continue;
    return { domain: rule.domain, rule: rule.id };
  }
  return null;
};

/**
 * The item's labels after one of its events: `label_added` / `label_removed`,
 * and the labels a `created` event carries in `data.labels` (Jira). Returns
 * the same set when the event changes nothing.
 */
export const foldLabels = (labels: ReadonlySet<string>, event: LoggedEvent): ReadonlySet<string> => {
  if (event.kind === 'label_added' && event.target !== null && !labels.has(event.target)) {
    return new Set([...labels, event.target]);
  }
  if (event.kind === 'label_removed' && event.target !== null && labels.has(event.target)) {
    const next = new Set(labels);
    next.delete(event.target);
    return next;
  }
  const initial = event.kind === 'created' ? event.data?.['labels'] : undefined;
  if (Array.isArray(initial)) {
    const next = new Set(labels);
    for (const l of initial) if (typeof l === 'string') next.add(l);
    return next;
  }
  return labels;
};
