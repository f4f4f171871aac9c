import { z } from 'zod';
import { ITEM_KINDS, type ItemKind } from './event.js';
import { CLOSING_REASONS } from './stage.closing.js';

/**
 * The `connectors:` section of `lanes.yaml`: which repository, project or
 * team belongs to which Lanes team and component, and how a source's labels,
 * fields and workflow states translate into Lanes' vocabulary. Every connector
 * has good defaults (GitHub labels such as `bug`, Jira issue types and
 * priorities, Linear state types); a team only writes what differs. Values
 * that neither the file nor the defaults know are counted as *unmapped* and
 * shown by `lanes sources`, never silently dropped.
 */

/**
 * Workflow states every tracker state is normalised to (see `stage.ts` for the
 * stage each gives): open ones (`waiting` is waiting on someone outside the
 * team), `done` (closed as completed), `released` (the tracker's own "released"
 * or "deployed" state: Live), `verified`, and the closings without a fix.
 */
export const NORMALIZED_STATES = [
  'new',
  'acknowledged',
  'waiting',
  'scheduled',
  'in_progress',
  'in_review',
  'done',
  'released',
  'verified',
  'wont_fix',
  'duplicate',
  'invalid',
  'cannot_reproduce',
  'incomplete',
] as const;
export type NormalizedState = (typeof NORMALIZED_STATES)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;

/** What unmapped values are counted under. */
export const UNMAPPED_CATEGORIES = [
  'scope',
  'label',
  'state',
  'issue_type',
  'priority',
  'severity',
  'identity',
  'event_type',
  'field',
  'invalid_event',
] as const;
export type UnmappedCategory = (typeof UNMAPPED_CATEGORIES)[number];

const teamId = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a team id from `teams`');

export const scopeSchema = z
  .strictObject({
    team: teamId.describe('Lanes team id.'),
    component: z.string().min(1).max(120).optional().describe('Component (from the team’s components).'),
    default_kind: z
      .enum(ITEM_KINDS)
      .optional()
      .describe(
        'Kind of the issues no label or issue type gives a kind (default: task, which the portal hides unless `portal.visible_kinds` lists it).',
      ),
  })
  .describe('Where the items of this repository, project or team belong.');
export type Scope = z.infer<typeof scopeSchema>;

export const valueRuleSchema = z
  .strictObject({
    kind: z.enum(ITEM_KINDS).optional(),
    severity: z.enum(SEVERITIES).optional(),
    priority: z.enum(PRIORITIES).optional(),
    state: z
      .enum(NORMALIZED_STATES)
      .optional()
      .describe(
        'The workflow state an open item is in while it carries this label or milestone (e.g. needsdiagnosis → acknowledged, sitewait → waiting); it never reopens a closed item.',
      ),
    resolution: z
      .enum(CLOSING_REASONS)
      .optional()
      .describe(
        'How an item closed with this label or milestone ended (e.g. wontfix → wont_fix, worksforme → cannot_reproduce); a reason without a fix wins over the tracker’s default "completed".',
      ),
    ignore: z.literal(true).optional().describe('Known but irrelevant: not counted as unmapped.'),
  })
  .describe('What a label, milestone (or field value) means in Lanes.');
export type ValueRule = z.infer<typeof valueRuleSchema>;

const common = {
  base_url: z.url().optional().describe('API base URL, e.g. https://github.example.com/api/v3 for GitHub Enterprise.'),
  labels: z
    .record(z.string(), valueRuleSchema)
    .optional()
    .describe('Label → kind, severity, priority, workflow state or resolution.'),
  milestones: z
    .record(z.string(), valueRuleSchema)
    .optional()
    .describe(
      'Milestone (GitHub) → workflow state or resolution, for workflows kept in milestones (needstriage → new, sitewait → waiting, duplicate → resolution duplicate). Milestones not listed are release names and mean nothing more.',
    ),
  states: z
    .record(z.string(), z.enum(NORMALIZED_STATES))
    .optional()
    .describe('Tracker workflow state (by name) → normalised state.'),
  priorities: z.record(z.string(), z.enum(PRIORITIES)).optional().describe('Source priority name → P1..P4.'),
  identities: z
    .record(z.string(), z.string())
    .optional()
    .describe('External identity (login, account id) → person id, beside the ids under `people`.'),
  bots: z
    .array(z.string())
    .optional()
    .describe('Extra accounts to treat as bots (GitHub `[bot]` accounts always are).'),
};

export const githubMappingSchema = z.strictObject({
  ...common,
  repos: z.record(z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'owner/name'), scopeSchema).default({}),
  production_environments: z
    .array(z.string())
    .optional()
    .describe('Deployment environments that count as production (default: production, prod).'),
});

export const jiraMappingSchema = z.strictObject({
  ...common,
  site: z.url().optional().describe('Deprecated alias of base_url.'),
  projects: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'a Jira project key'), scopeSchema).default({}),
  issue_types: z.record(z.string(), z.enum(ITEM_KINDS)).optional().describe('Jira issue type → kind.'),
  severities: z.record(z.string(), z.enum(SEVERITIES)).optional().describe('Severity field value → severity.'),
  fields: z
    .strictObject({
      severity: z
        .string()
        .optional()
        .describe(
          'Custom field id of severity, e.g. customfield_10050 (Data Center changelogs, which name fields only, also match a field called Severity).',
        ),
      story_points: z.string().optional().describe('Custom field id of story points, e.g. customfield_10024.'),
      sprint: z.string().optional().describe('Custom field id of the sprint (default customfield_10020).'),
      customer: z.string().optional().describe('Custom field id naming the customer or account.'),
    })
    .optional(),
});

export const linearMappingSchema = z.strictObject({
  ...common,
  teams: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'a Linear team key'), scopeSchema).default({}),
});

export const connectorsSchema = z.strictObject({
  github: githubMappingSchema.optional(),
  jira: jiraMappingSchema.optional(),
  linear: linearMappingSchema.optional(),
});

export type GithubMapping = z.output<typeof githubMappingSchema>;
export type JiraMapping = z.output<typeof jiraMappingSchema>;
export type LinearMapping = z.output<typeof linearMappingSchema>;
export type ConnectorsMapping = z.output<typeof connectorsSchema>;
type CommonMapping = Pick<GithubMapping, 'labels' | 'milestones' | 'states' | 'priorities' | 'identities' | 'bots'>;

// ---------------------------------------------------------------- defaults

const DEFAULT_LABELS: Record<string, ValueRule> = {
  bug: { kind: 'bug' },
  'type: bug': { kind: 'bug' },
  'kind/bug': { kind: 'bug' },
  defect: { kind: 'bug' },
  regression: { kind: 'bug' },
  incident: { kind: 'incident' },
  'tech debt': { kind: 'tech_debt' },
  'tech-debt': { kind: 'tech_debt' },
  techdebt: { kind: 'tech_debt' },
  refactor: { kind: 'tech_debt' },
  enhancement: { kind: 'feature' },
  feature: { kind: 'feature' },
  'feature request': { kind: 'feature' },
  'type: feature': { kind: 'feature' },
  task: { kind: 'task' },
  chore: { kind: 'task' },
  sev1: { severity: 'critical' },
  'sev:1': { severity: 'critical' },
  'severity: critical': { severity: 'critical' },
  critical: { severity: 'critical' },
  sev2: { severity: 'high' },
  'sev:2': { severity: 'high' },
  'severity: high': { severity: 'high' },
  sev3: { severity: 'medium' },
  'sev:3': { severity: 'medium' },
  'severity: medium': { severity: 'medium' },
  sev4: { severity: 'low' },
  'sev:4': { severity: 'low' },
  'severity: low': { severity: 'low' },
  p0: { priority: 'P1' },
  p1: { priority: 'P1' },
  p2: { priority: 'P2' },
  p3: { priority: 'P3' },
  p4: { priority: 'P4' },
  'priority: urgent': { priority: 'P1' },
  'priority: high': { priority: 'P2' },
  'priority: medium': { priority: 'P3' },
  'priority: low': { priority: 'P4' },
  // How an item closed, from the labels trackers ship with (GitHub's defaults: duplicate, invalid, wontfix).
  wontfix: { resolution: 'wont_fix' },
  "won't fix": { resolution: 'wont_fix' },
  'wont fix': { resolution: 'wont_fix' },
  'wont-fix': { resolution: 'wont_fix' },
  "won't do": { resolution: 'wont_fix' },
  'not planned': { resolution: 'wont_fix' },
  stale: { resolution: 'wont_fix' },
  'status: wontfix': { resolution: 'wont_fix' },
  duplicate: { resolution: 'duplicate' },
  'status: duplicate': { resolution: 'duplicate' },
  invalid: { resolution: 'invalid' },
  'not a bug': { resolution: 'invalid' },
  'status: invalid': { resolution: 'invalid' },
  worksforme: { resolution: 'cannot_reproduce' },
  'works for me': { resolution: 'cannot_reproduce' },
  'cannot reproduce': { resolution: 'cannot_reproduce' },
  "can't reproduce": { resolution: 'cannot_reproduce' },
  'not reproducible': { resolution: 'cannot_reproduce' },
  incomplete: { resolution: 'incomplete' },
};

const DEFAULT_STATES: Record<string, NormalizedState> = {
  // GitHub
  open: 'new',
  closed: 'done',
  // Jira (common workflow names) and Linear (state names)
  new: 'new',
  triage: 'new',
  backlog: 'acknowledged',
  'to do': 'scheduled',
  todo: 'scheduled',
  'selected for development': 'scheduled',
  'in progress': 'in_progress',
  'in development': 'in_progress',
  'in review': 'in_review',
  'code review': 'in_review',
  'in qa': 'in_review',
  testing: 'in_review',
  done: 'done',
  resolved: 'done',
  fixed: 'done',
  released: 'released',
  deployed: 'released',
  verified: 'verified',
  "won't do": 'wont_fix',
  "won't fix": 'wont_fix',
  canceled: 'wont_fix',
  cancelled: 'wont_fix',
  rejected: 'wont_fix',
  declined: 'wont_fix',
  duplicate: 'duplicate',
  invalid: 'invalid',
  'not a bug': 'invalid',
  'cannot reproduce': 'cannot_reproduce',
  incomplete: 'incomplete',
  // Bugzilla statuses (its resolutions go in the resolution field)
  unconfirmed: 'new',
  confirmed: 'acknowledged',
  assigned: 'acknowledged',
  reopened: 'acknowledged',
  // Waiting on someone outside the team (Jira Service Management and common workflow names)
  'waiting for customer': 'waiting',
  'waiting for reporter': 'waiting',
  'waiting for support': 'waiting',
  'waiting on customer': 'waiting',
  'waiting for third party': 'waiting',
};

/** Jira status categories (`statusCategory.key`) and Linear state types, the fallback when a name is unknown. */
const STATE_CATEGORY_DEFAULTS: Record<string, NormalizedState> = {
  // Jira
  new: 'new',
  indeterminate: 'in_progress',
  done: 'done',
  // Linear
  triage: 'new',
  backlog: 'acknowledged',
  unstarted: 'scheduled',
  started: 'in_progress',
  completed: 'done',
  canceled: 'wont_fix',
};

const DEFAULT_PRIORITIES: Record<string, (typeof PRIORITIES)[number]> = {
  highest: 'P1',
  blocker: 'P1',
  critical: 'P1',
  urgent: 'P1',
  high: 'P2',
  major: 'P2',
  medium: 'P3',
  normal: 'P3',
  low: 'P4',
  lowest: 'P4',
  minor: 'P4',
  trivial: 'P4',
};

const DEFAULT_ISSUE_TYPES: Record<string, ItemKind> = {
  bug: 'bug',
  defect: 'bug',
  incident: 'incident',
  story: 'feature',
  epic: 'feature',
  feature: 'feature',
  'new feature': 'feature',
  improvement: 'feature',
  task: 'task',
  'sub-task': 'task',
  subtask: 'task',
  'tech debt': 'tech_debt',
  'technical debt': 'tech_debt',
};

const DEFAULT_SEVERITIES: Record<string, (typeof SEVERITIES)[number]> = {
  critical: 'critical',
  'sev 1': 'critical',
  sev1: 'critical',
  s1: 'critical',
  blocker: 'critical',
  high: 'high',
  major: 'high',
  'sev 2': 'high',
  sev2: 'high',
  s2: 'high',
  medium: 'medium',
  moderate: 'medium',
  'sev 3': 'medium',
  sev3: 'medium',
  s3: 'medium',
  low: 'low',
  minor: 'low',
  'sev 4': 'low',
  sev4: 'low',
  s4: 'low',
};

// ---------------------------------------------------------------- lookups

const norm = (value: string): string => value.trim().toLowerCase();

/** Case-insensitive lookup in a user map first, then in the defaults. */
const lookup = <T>(user: Record<string, T> | undefined, defaults: Record<string, T>, value: string): T | undefined => {
  if (user) {
    if (Object.hasOwn(user, value)) return user[value];
    const wanted = norm(value);
    for (const [k, v] of Object.entries(user)) if (norm(k) === wanted) return v;
  }
  return Object.hasOwn(defaults, norm(value)) ? defaults[norm(value)] : undefined;
};

/** What a label means, or undefined when neither the charter nor the defaults know it. */
export const ruleOfLabel = (mapping: CommonMapping | undefined, label: string): ValueRule | undefined =>
  lookup(mapping?.labels, DEFAULT_LABELS, label);

/** What a milestone means, or undefined: only the charter's `milestones` give milestones a meaning. */
export const ruleOfMilestone = (mapping: CommonMapping | undefined, milestone: string): ValueRule | undefined =>
  lookup(mapping?.milestones, {}, milestone);

/**
 * Normalises a workflow state by name, falling back to the tracker's state
 * category or type (Jira `statusCategory.key`, Linear `state.type`).
 */
export const normalizeState = (
  mapping: CommonMapping | undefined,
  name: string,
  category?: string | null,
): NormalizedState | undefined =>
  lookup(mapping?.states, DEFAULT_STATES, name) ?? (category ? STATE_CATEGORY_DEFAULTS[norm(category)] : undefined);

export const normalizePriority = (
  mapping: CommonMapping | undefined,
  name: string,
): (typeof PRIORITIES)[number] | undefined => {
  const upper = name.trim().toUpperCase();
  if ((PRIORITIES as readonly string[]).includes(upper)) return upper as (typeof PRIORITIES)[number];
  return lookup(mapping?.priorities, DEFAULT_PRIORITIES, name);
};

export const kindOfIssueType = (mapping: JiraMapping | undefined, issueType: string): ItemKind | undefined =>
  lookup(mapping?.issue_types, DEFAULT_ISSUE_TYPES, issueType);

export const normalizeSeverity = (
  mapping: JiraMapping | undefined,
  value: string,
): (typeof SEVERITIES)[number] | undefined => lookup(mapping?.severities, DEFAULT_SEVERITIES, value);

/** GitHub's `[bot]` accounts and the charter's extra bot list. */
export const isBotLogin = (mapping: CommonMapping | undefined, login: string): boolean =>
  login.toLowerCase().endsWith('[bot]') || (mapping?.bots ?? []).some((b) => norm(b) === norm(login));

/** The production environments of GitHub deployments. */
export const isProductionEnvironment = (mapping: GithubMapping | undefined, environment: string): boolean => {
  const names = mapping?.production_environments ?? ['production', 'prod'];
  return names.some((n) => norm(n) === norm(environment));
};

/** Reference checks for `lanes check`: every mapped team and person exists. */
export const connectorReferenceProblems = (
  connectors: ConnectorsMapping | undefined,
  teams: ReadonlyMap<string, readonly string[]>,
  people: ReadonlySet<string>,
): { path: (string | number)[]; kind: 'team' | 'component' | 'person'; value: string }[] => {
  const problems: { path: (string | number)[]; kind: 'team' | 'component' | 'person'; value: string }[] = [];
  if (!connectors) return problems;
  const scopes: [string, Record<string, Scope>][] = [
    ['github', connectors.github?.repos ?? {}],
    ['jira', connectors.jira?.projects ?? {}],
    ['linear', connectors.linear?.teams ?? {}],
  ];
  const scopeKey = { github: 'repos', jira: 'projects', linear: 'teams' } as const;
  for (const [connector, map] of scopes) {
    for (const [name, scope] of Object.entries(map)) {
      const base = ['connectors', connector, scopeKey[connector as keyof typeof scopeKey], name];
      const components = teams.get(scope.team);
      if (!components) problems.push({ path: [...base, 'team'], kind: 'team', value: scope.team });
      else if (scope.component && !components.includes(scope.component)) {
        problems.push({ path: [...base, 'component'], kind: 'component', value: scope.component });
      }
    }
  }
  for (const connector of ['github', 'jira', 'linear'] as const) {
    for (const [external, person] of Object.entries(connectors[connector]?.identities ?? {})) {
      if (!people.has(person)) {
        problems.push({ path: ['connectors', connector, 'identities', external], kind: 'person', value: person });
      }
    }
  }
  return problems;
};
