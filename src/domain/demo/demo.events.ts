import type { Charter, Person } from '../charter.schema.js';
import type { Change, EventInput, Identity, ItemKind, ItemRef } from '../event.js';
import { DEMO_CAST, DEMO_LEAVE_STARTED_DAYS_AGO, DEMO_TEAMS, demoRepoOf } from './demo.charter.js';
import { createRandom, hashSeed, mixSeed, type DemoRandom } from './demo.random.js';

/**
 * The event stream of the demo workspace: six months of bugs, tasks, features,
 * tech debt and incidents worked through realistic workflows (triage,
 * assignment, PRs, reviews, deploys, verification, reopens, status pings),
 * plus SLI samples and coverage reports, with four planted patterns that later
 * capabilities must find (`DEMO_PATTERNS`).
 *
 * The generator streams: it works item by item and keeps only a few counters
 * between items, so memory stays flat however many items are asked for. Every
 * item draws from its own random stream (seed, item index), so its events and
 * their source event ids are the same on every run with the same options.
 */

export interface DemoEventOptions {
  /** How many work items (bugs, tasks, features, tech debt, incidents) to generate. */
  items: number;
  seed: number;
  /** The end of the generated history; nothing happens after it. */
  now: Date;
  /** The demo charter (`buildDemoCharter`): actors are drawn from its people and identities. */
  charter: Charter;
}

export interface DemoPattern {
  id: string;
  title: string;
  description: string;
  /** Where the signal sits in the generated data. */
  where: string;
  /** The capability (PRODUCT.md) that should surface it. */
  surfacedBy: string;
}

/** The patterns planted in the demo data, for docs and tests. */
export const DEMO_PATTERNS = [
  {
    id: 'payments-pm-decides-bug-triage',
    title: "Payments' product manager sets bug priorities and assigns engineers",
    description:
      'On Payments, about three quarters of the priority changes on bugs and two thirds of the assignments are made by the product manager, although the charter gives eng.bug-triage and eng.assignment to engineering. On Growth and Platform the tech lead (or, during parental leave, the delegate) and the engineers do it; their PMs set well under 10 %.',
    where: `team payments, kind bug: field_changed priority and assignee events whose actor (a Jira identity) resolves to ${DEMO_CAST.paymentsPm}`,
    surfacedBy: 'C3 boundary monitor: product deciding in eng.bug-triage and eng.assignment',
  },
  {
    id: 'ledger-reopens-rising',
    title: 'Ledger bugs reopen more and more',
    description:
      'Bugs in the ledger component are reopened after being fixed at a rate that rises month by month, from about 5 % of fixed bugs six months ago to about 40 % in the last month; other components stay near 6 %. Ledger line coverage drifts down over the same period.',
    where:
      'component ledger (team payments), kind bug: reopened events, by month of creation; coverage_report events for acme/ledger',
    surfacedBy: 'C6 bug flow per component (reopen rate) and coverage trend → finding, escalation brief',
  },
  {
    id: 'api-gateway-error-budget',
    title: 'api-gateway is burning its error budget',
    description:
      'The availability SLI of api-gateway (good/total requests) degrades steadily over the last four weeks, to about 99.8 % overall against a 99.9 % target, with two sharp dips (about 96 % and 97 %) roughly 18 and 5 days before now. Before that it sits near 99.97 %. Incidents in that period are mostly on api-gateway.',
    where: 'sli_sample events with data.service "api-gateway" (data.good / data.total, window 1h) in the last 28 days',
    surfacedBy: 'C6 SLOs, error budgets and burn-rate alerts; C5 status pages',
  },
  {
    id: 'growth-weekly-status-pings',
    title: 'A stakeholder pings the Growth PM every week',
    description:
      'The customer-success manager asks for status ("Any update on this?", "ETA?", "… is asking again") on Growth bugs and features every week, and the Growth product manager relays engineering status back ("Update from engineering: fix is in review"). This is the middleman load the status portal should remove.',
    where: `commented events by ${DEMO_CAST.weeklyPinger} on GRO-… items, each usually followed within hours by a comment of ${DEMO_CAST.growthPm} starting "Update from engineering:"`,
    surfacedBy: 'C3 middleman load (status pings and PM relays per week)',
  },
] as const satisfies readonly DemoPattern[];

export const DEMO_SPAN_DAYS = 182;

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const WORK_START_HOUR = 9;
const WORK_END_HOUR = 18;

// --- time -----------------------------------------------------------------

const isWorkday = (ms: number): boolean => {
  const day = new Date(ms).getUTCDay();
  return day !== 0 && day !== 6;
};

/** The first instant at or after `ms` within working hours (Mon–Fri, 09:00–18:00 UTC). */
const nextWorkInstant = (ms: number): number => {
  let day = ms - (ms % DAY);
  let at = ms;
  for (;;) {
    if (isWorkday(day)) {
      if (at < day + WORK_START_HOUR * HOUR) return day + WORK_START_HOUR * HOUR;
      if (at < day + WORK_END_HOUR * HOUR) return at;
    }
    day += DAY;
    at = day;
  }
};

/** Adds a duration counted in working hours only. */
const addWorkTime = (ms: number, duration: number): number => {
  let at = nextWorkInstant(ms);
  let rest = duration;
  for (;;) {
    const dayEnd = at - (at % DAY) + WORK_END_HOUR * HOUR;
    if (rest <= dayEnd - at) return at + rest;
    rest -= dayEnd - at;
    at = nextWorkInstant(dayEnd - (dayEnd % DAY) + DAY);
  }
};

/**
 * A step of work: a log-normal number of working hours after `at`. Now and
 * then (after hours, on a weekend) it runs on the calendar instead.
 */
const later = (random: DemoRandom, at: number, medianHours: number, sigma = 0.8): number => {
  const hours = random.lognormal(medianHours, sigma);
  return random.chance(0.9) ? addWorkTime(at, hours * HOUR) : at + hours * HOUR * 1.6;
};

/** Moves an instant into working hours on the same or next working day (most of the time). */
const toWorkingHours = (random: DemoRandom, at: number): number => {
  if (random.chance(0.08)) return at;
  let day = at - (at % DAY);
  while (!isWorkday(day)) day += DAY;
  const inHours = day === at - (at % DAY) && at >= day + WORK_START_HOUR * HOUR && at < day + WORK_END_HOUR * HOUR;
  if (inHours) return at;
  return day + WORK_START_HOUR * HOUR + random.next() * (WORK_END_HOUR - WORK_START_HOUR) * HOUR;
};

// --- the cast -------------------------------------------------------------

interface TeamCast {
  id: string;
  prefix: string;
  components: readonly string[];
  pm: Person;
  designer: Person;
  techLead: Person;
  managers: Person[];
  engineers: Person[];
  onCall: Person[];
}

interface Cast {
  teams: TeamCast[];
  stakeholders: Person[];
  pinger: Person | undefined;
  delegate: Person | undefined;
}

const buildCast = (charter: Charter): Cast => {
  const byId = new Map(charter.people.map((p) => [p.id, p]));
  const person = (id: string): Person =>
    byId.get(id) ?? { id, name: id, role: 'engineer', email: `${id}@acme.example` };
  const teams = charter.teams.map((team): TeamCast => {
    const members = team.members.map(person);
    const techLead = person(team.trio.tech);
    const engineers = members.filter((p) => p.role === 'engineer');
    if (engineers.length === 0) engineers.push(techLead);
    const sres = members.filter((p) => p.role === 'sre');
    const known = DEMO_TEAMS.find((t) => t.id === team.id);
    return {
      id: team.id,
      prefix:
        known?.jira ??
        team.id
          .replace(/[^a-z0-9]/g, '')
          .slice(0, 4)
          .toUpperCase(),
      components: team.components.length > 0 ? team.components : [team.id],
      pm: person(team.trio.product),
      designer: person(team.trio.design),
      techLead,
      managers: members.filter((p) => p.role === 'engineering-manager'),
      engineers,
      onCall: [techLead, ...engineers, ...sres],
    };
  });
  const stakeholders = charter.people.filter((p) => p.role === 'stakeholder');
  return {
    teams,
    stakeholders,
    pinger: byId.get(DEMO_CAST.weeklyPinger) ?? stakeholders[0],
    delegate: byId.get(DEMO_CAST.bugTriageDelegate),
  };
};

const jiraActor = (p: Person): Identity =>
  p.jira ? { kind: 'jira', id: p.jira } : p.email ? { kind: 'email', id: p.email } : { kind: 'lanes', id: p.id };
const githubActor = (p: Person): Identity => (p.github ? { kind: 'github', id: p.github } : jiraActor(p));
const slackActor = (p: Person): Identity => (p.slack ? { kind: 'slack', id: p.slack } : jiraActor(p));
const firstName = (p: Person): string => p.name.split(' ')[0] ?? p.name;

const DEPLOY_BOT: Identity = { kind: 'bot', id: 'deploy-bot' };
const SENTRY_BOT: Identity = { kind: 'bot', id: 'sentry' };
const CI_BOT: Identity = { kind: 'bot', id: 'github-actions' };

// --- words ----------------------------------------------------------------

const SUBJECTS: Record<string, readonly string[]> = {
  checkout: ['Checkout total', 'Apple Pay sheet', 'Promo code field', 'Order confirmation page', 'Address form'],
  ledger: [
    'Ledger balance',
    'Daily reconciliation job',
    'Refund journal entry',
    'Currency conversion',
    'Ledger export',
  ],
  payouts: ['Payout schedule', 'Seller payout report', 'Bank transfer export', 'Payout webhook'],
  'fraud-rules': ['Fraud score', 'Velocity rule', 'Manual review queue', 'Chargeback alert'],
  onboarding: ['Sign-up form', 'Welcome email', 'Onboarding checklist', 'Email verification link'],
  referrals: ['Referral link', 'Referral credit', 'Invite page', 'Referral reward email'],
  'pricing-page': ['Pricing table', 'Plan comparison', 'Annual billing toggle', 'Tax notice on the pricing page'],
  experiments: ['Experiment assignment', 'A/B results dashboard', 'Feature flag sync', 'Holdout group'],
  'api-gateway': ['Rate limiter', 'Gateway routing', 'Request logging', 'API key validation', 'Search endpoint'],
  auth: ['SSO login', 'Password reset', 'Session refresh', 'MFA enrolment'],
  observability: ['Tracing pipeline', 'Log retention', 'Alert routing', 'Metrics dashboard'],
  'ci-pipeline': ['Build cache', 'Integration test stage', 'Deploy pipeline', 'Preview environments'],
};

const FEATURES: Record<string, readonly string[]> = {
  checkout: ['one-click checkout for returning customers', 'saved cards in checkout', 'PayPal as a payment method'],
  ledger: ['multi-currency ledger accounts', 'a ledger export for finance', 'an audit trail for manual adjustments'],
  payouts: ['instant payouts', 'payout notifications', 'a weekly payout schedule'],
  'fraud-rules': ['a rule simulator', 'an allow-list for trusted merchants', 'explainable fraud scores'],
  onboarding: ['a guided product tour', 'sign-up with Google', 'a progress indicator in onboarding'],
  referrals: ['two-sided referral rewards', 'a referral status page', 'sharing invites via WhatsApp'],
  'pricing-page': ['localised prices', 'an enterprise contact form', 'a plan recommendation quiz'],
  experiments: ['sequential testing', 'experiment templates', 'guardrail metrics on experiments'],
  'api-gateway': ['per-tenant rate limits', 'request replay for debugging', 'GraphQL passthrough'],
  auth: ['passkeys', 'SCIM provisioning', 'a session management page'],
  observability: ['SLO dashboards', 'trace-to-log links', 'a daily alert digest'],
  'ci-pipeline': ['a merge queue', 'test impact analysis', 'canary deploys'],
};

const BUG_PROBLEMS = [
  'fails on Safari 17',
  'times out under load',
  'returns 500 for some EU customers',
  'shows stale data after a refresh',
  'double-submits on slow networks',
  'shows the wrong currency',
  'broke after the last deploy',
  'returns an intermittent 502',
  'shows a misleading validation error',
  'is off by one cent for some totals',
  'ignores the customer locale',
  'is slow for accounts with many orders',
] as const;

const TASKS = [
  'Upgrade dependencies of',
  'Add dashboards for',
  'Write a runbook for',
  'Add a load test for',
  'Add alerts for',
  'Document the API of',
] as const;

const DEBTS = [
  'Remove the legacy code path in',
  'Migrate off the deprecated SDK in',
  'Fix flaky tests in',
  'Split the god module of',
  'Replace hand-rolled retries in',
  'Delete dead feature flags in',
] as const;

const INCIDENT_TITLES = [
  (c: string) => `Elevated 5xx errors on ${c}`,
  (c: string) => `${c} unavailable in eu-west-1`,
  (c: string) => `Degraded ${c}: upstream timeouts`,
  (c: string) => `High latency on ${c}`,
] as const;

const INCIDENT_CAUSES = [
  'a bad config push',
  'connection pool exhaustion after the last deploy',
  'an expired certificate on an upstream',
  'a slow query introduced in the last release',
  'a retry storm from one large tenant',
] as const;

const CUSTOMERS = [
  'Northwind Traders',
  'Globex',
  'Initech',
  'Umbrella Retail',
  'Stark Outfitters',
  'Wayne Books',
  'Hooli',
  'Vandelay Imports',
  'Soylent Foods',
  'Cyberdyne Gear',
] as const;

const EXTERNAL_REPORTERS = [
  'ops@northwind.example',
  'it-support@globex.example',
  'j.doe@initech.example',
  'shop-admin@umbrella-retail.example',
  'finance@wayne-books.example',
] as const;

const PINGS = [
  (c: string) => `Any update on this? ${c} is asking.`,
  () => 'Any update on this?',
  () => 'ETA?',
  (c: string) => `${c} is asking again — is there an ETA?`,
  () => 'Is this still on track for this week?',
  (c: string) => `Any news here? I have a call with ${c} tomorrow.`,
  (c: string) => `Status? ${c} escalated again.`,
] as const;

const ENGINEER_NOTES = [
  'Reproduced locally.',
  'Root cause: a race between the retry and the timeout.',
  'Added a regression test.',
  'Looks like it started with the last dependency upgrade.',
  'Only happens with more than 50 line items.',
  'Can we get a HAR file from the customer?',
] as const;

// --- one item -------------------------------------------------------------

interface Draft {
  at: number;
  source: string;
  actor: Identity | null;
  change: Change;
  snapshot?: ItemRef;
}

/** What a stakeholder would be told at a point in the item's life. */
type Milestone = 'new' | 'triaged' | 'todo' | 'in progress' | 'in review' | 'merged' | 'live' | 'closed' | 'reopened';

const RELAYS: Record<Milestone, (assignee: string) => string> = {
  new: () => 'Update from engineering: not triaged yet, I have asked the team to look at it this week.',
  triaged: () => 'Update from engineering: triaged, not scheduled yet. I will share an ETA once it is planned.',
  todo: () => 'Update from engineering: scheduled for the current sprint.',
  'in progress': (a) => `Update from engineering: ${a} is working on it, ETA end of the week.`,
  'in review': () => 'Update from engineering: fix is in review.',
  merged: () => 'Update from engineering: the fix is merged and goes out with the next deploy.',
  live: () => 'Update from engineering: the fix is live, can you ask the customer to retry?',
  closed: () => 'Update from engineering: this one is closed.',
  reopened: () => 'Update from engineering: the first fix did not hold, the team is on it again.',
};

const DONE_MILESTONES: ReadonlySet<Milestone> = new Set(['live', 'closed']);

interface Shared {
  cast: Cast;
  start: number;
  now: number;
  leaveStart: number;
  /** Next PR number per repository. */
  prNumbers: Map<string, number>;
  /** The most recent bug per component, for duplicates and incident links. */
  lastBug: Map<string, string>;
}

class ItemTimeline {
  readonly drafts: Draft[] = [];
  private readonly milestones: { at: number; label: Milestone }[] = [];
  state = 'open';
  severity: string | null = null;
  priority: string | null = null;
  assignee: Person | null = null;

  constructor(
    readonly key: string,
    readonly random: DemoRandom,
  ) {}

  push(at: number, source: string, actor: Identity | null, change: Change, snapshot?: ItemRef): void {
    this.drafts.push(snapshot ? { at, source, actor, change, snapshot } : { at, source, actor, change });
  }

  mark(at: number, label: Milestone): void {
    this.milestones.push({ at, label });
  }

  milestoneAt(at: number): Milestone {
    let label: Milestone = 'new';
    for (const m of this.milestones) {
      if (m.at > at) break;
      label = m.label;
    }
    return label;
  }

  jira(at: number, p: Person, change: Change): void {
    this.push(at, 'jira', jiraActor(p), change);
  }

  setField(at: number, p: Person, field: 'severity' | 'priority' | 'assignee', to: string): void {
    const from = this[field] === null ? null : field === 'assignee' ? this.assignee!.id : (this[field] as string);
    this.jira(at, p, { kind: 'field_changed', field, from, to });
  }

  setState(at: number, p: Person | null, to: string, source = 'jira'): void {
    const from = this.state;
    this.state = to;
    this.push(at, source, p ? (source === 'slack' ? slackActor(p) : jiraActor(p)) : null, {
      kind: 'field_changed',
      field: 'state',
      from,
      to,
    });
    const label = to as Milestone;
    if (label in RELAYS) this.mark(at, label);
  }

  comment(at: number, p: Person, text: string, source: 'jira' | 'slack' = 'jira'): void {
    this.push(at, source, source === 'slack' ? slackActor(p) : jiraActor(p), { kind: 'commented', text });
  }
}

const SEVERITIES = [
  ['critical', 0.05],
  ['high', 0.22],
  ['medium', 0.48],
  ['low', 0.25],
] as const;
const PRIORITY_OF: Record<string, readonly string[]> = {
  critical: ['P1', 'P1', 'P1', 'P2'],
  high: ['P1', 'P2', 'P2', 'P2', 'P3'],
  medium: ['P2', 'P3', 'P3', 'P3', 'P4'],
  low: ['P3', 'P4', 'P4', 'P4'],
};
/** Median working hours of each step, by severity. */
const PACE: Record<string, { triage: number; assign: number; start: number; work: number }> = {
  critical: { triage: 0.4, assign: 0.3, start: 0.5, work: 3 },
  high: { triage: 2, assign: 4, start: 6, work: 8 },
  medium: { triage: 6, assign: 24, start: 24, work: 12 },
  low: { triage: 14, assign: 60, start: 50, work: 10 },
};

const monthOf = (shared: Shared, at: number): number =>
  Math.min(5, Math.max(0, Math.floor(((at - shared.start) / (DEMO_SPAN_DAYS * DAY)) * 6)));

/** The chance a fixed bug comes back: rising month by month for the ledger (pattern b). */
const reopenChance = (shared: Shared, component: string, createdAt: number): number =>
  component === 'ledger' ? 0.04 + 0.085 * monthOf(shared, createdAt) : 0.06;

/** Who sets a bug's severity and priority (pattern a: the Payments PM). */
const triagerOf = (shared: Shared, team: TeamCast, at: number, random: DemoRandom): Person => {
  if (team.id === 'payments') {
    return random.weighted<Person>([
      [team.pm, 0.78],
      [team.techLead, 0.14],
      [random.pick(team.engineers), 0.08],
    ]);
  }
  const lead =
    team.id === 'platform' && shared.cast.delegate && at >= shared.leaveStart ? shared.cast.delegate : team.techLead;
  return random.weighted<Person>([
    [lead, 0.6],
    [random.pick(team.engineers), 0.3],
    [team.managers[0] ?? lead, 0.05],
    [team.pm, 0.05],
  ]);
};

/** Who assigns a bug to an engineer (pattern a again for Payments). */
const assignerOf = (shared: Shared, team: TeamCast, at: number, assignee: Person, random: DemoRandom): Person => {
  if (team.id === 'payments') {
    return random.weighted<Person>([
      [team.pm, 0.68],
      [team.techLead, 0.17],
      [assignee, 0.15],
    ]);
  }
  const lead =
    team.id === 'platform' && shared.cast.delegate && at >= shared.leaveStart ? shared.cast.delegate : team.techLead;
  return random.weighted<Person>([
    [lead, 0.45],
    [team.managers[0] ?? lead, 0.2],
    [assignee, 0.3],
    [team.pm, 0.05],
  ]);
};

const prData = (
  shared: Shared,
  random: DemoRandom,
  component: string,
  reviewer: Person,
): { pr: number; repo: string; additions: number; deletions: number; reviewer: string } => {
  const repo = demoRepoOf(component);
  const pr = shared.prNumbers.get(repo) ?? 1000;
  shared.prNumbers.set(repo, pr + 1);
  const additions = Math.max(1, Math.round(random.lognormal(60, 1.1)));
  const deletions = Math.round(additions * random.between(0.05, 0.8));
  return { pr, repo, additions, deletions, reviewer: reviewer.id };
};

/**
 * One fix: in progress, a PR with review, merge and deploy, done. Returns the
 * time the work ended (done).
 */
const fixCycle = (
  shared: Shared,
  t: ItemTimeline,
  team: TeamCast,
  component: string,
  from: number,
  severity: string,
  withCode: boolean,
  finish = true,
): number => {
  const { random } = t;
  const pace = PACE[severity] ?? PACE['medium']!;
  const assignee = t.assignee ?? random.pick(team.engineers);
  let at = later(random, from, pace.start, 1);
  if (t.state !== 'in progress') t.setState(at, assignee, 'in progress');
  if (random.chance(0.3)) {
    at = later(random, at, 1.5);
    t.comment(at, assignee, random.pick(ENGINEER_NOTES));
  }
  at = later(random, at, pace.work);
  if (!withCode) {
    t.setState(at, assignee, 'done');
    t.mark(at, 'live');
    return at;
  }
  const others = team.onCall.filter((p) => p.id !== assignee.id && p.role !== 'sre');
  const reviewer = others.length > 0 ? random.pick(others) : team.techLead;
  const data = prData(shared, random, component, reviewer);
  t.push(at, 'github', githubActor(assignee), { kind: 'pr_opened', data });
  if (random.chance(0.55)) {
    t.setState(at + random.int(1, 10) * MINUTE, assignee, 'in review');
  } else {
    t.mark(at, 'in review');
  }
  const unreviewed = random.chance(0.05);
  if (!unreviewed) {
    if (random.chance(0.18)) {
      at = later(random, at, 3);
      t.push(at, 'github', githubActor(reviewer), {
        kind: 'review_submitted',
        data: { ...data, state: 'changes_requested' },
      });
      at = later(random, at, 3);
    }
    // A few reviews are rubber stamps: approved within minutes, whatever the size.
    at = random.chance(0.08) ? at + random.int(1, 4) * MINUTE : later(random, at, 2.5);
    t.push(at, 'github', githubActor(reviewer), { kind: 'review_submitted', data: { ...data, state: 'approved' } });
  }
  at = later(random, at, 0.8);
  t.push(at, 'github', githubActor(assignee), { kind: 'pr_merged', data });
  t.mark(at, 'merged');
  if (random.chance(0.95)) {
    at = later(random, at, 2.5, 1);
    t.push(at, 'deploys', DEPLOY_BOT, {
      kind: 'deployed',
      data: { service: component, environment: 'production', deploymentId: `dep-${random.hex(10)}`, pr: data.pr },
    });
  }
  if (!finish) return at;
  at = later(random, at, 0.7);
  t.setState(at, assignee, 'done');
  t.mark(at, 'live');
  return at;
};

interface ItemPlan {
  key: string;
  kind: ItemKind;
  team: TeamCast;
  component: string;
  createdAt: number;
  title: string | undefined;
}

const bugFlow = (
  shared: Shared,
  t: ItemTimeline,
  plan: ItemPlan,
): { reporter: Person | null; customer: string | undefined } => {
  const { random } = t;
  const { team, component, createdAt } = plan;
  const stakeholder = shared.cast.stakeholders.length > 0 ? random.pick(shared.cast.stakeholders) : team.pm;
  const reporterKind = random.weighted([
    ['stakeholder', 0.33],
    ['engineer', 0.2],
    ['lead', 0.06],
    ['pm', 0.1],
    ['sentry', 0.12],
    ['external', 0.1],
    ['designer', 0.04],
    ['github', 0.05],
  ] as const);
  const reporter: Person | null =
    reporterKind === 'stakeholder'
      ? stakeholder
      : reporterKind === 'engineer' || reporterKind === 'github'
        ? random.pick(team.engineers)
        : reporterKind === 'lead'
          ? team.techLead
          : reporterKind === 'pm'
            ? team.pm
            : reporterKind === 'designer'
              ? team.designer
              : null;
  const customer =
    reporterKind === 'stakeholder' || reporterKind === 'external'
      ? random.chance(0.8)
        ? random.pick(CUSTOMERS)
        : undefined
      : undefined;
  const severity = random.weighted(SEVERITIES);
  const presetSeverity = (reporterKind === 'engineer' || reporterKind === 'sentry') && random.chance(0.5);
  const title =
    plan.title ??
    `${random.pick(SUBJECTS[component] ?? ['Service'])} ${random.pick(BUG_PROBLEMS)}${customer && random.chance(0.3) ? ` (${customer})` : ''}`;
  const snapshot: ItemRef = {
    key: plan.key,
    kind: 'bug',
    title,
    team: team.id,
    component,
    state: 'open',
    url: `https://acme.atlassian.net/browse/${plan.key}`,
  };
  if (presetSeverity) {
    snapshot.severity = severity;
    t.severity = severity;
  }
  if (customer) snapshot.customer = customer;
  const created: Change = { kind: 'created' };
  if (reporterKind === 'sentry') t.push(createdAt, 'sentry', SENTRY_BOT, created, snapshot);
  else if (reporterKind === 'external')
    t.push(createdAt, 'email', { kind: 'email', id: random.pick(EXTERNAL_REPORTERS) }, created, snapshot);
  else if (reporterKind === 'github') t.push(createdAt, 'github', githubActor(reporter!), created, snapshot);
  else if (reporterKind === 'stakeholder' && random.chance(0.3))
    t.push(
      createdAt,
      'email',
      { kind: 'email', id: reporter!.email ?? `${reporter!.id}@acme.example` },
      created,
      snapshot,
    );
  else t.push(createdAt, 'jira', jiraActor(reporter!), created, snapshot);
  t.mark(createdAt, 'new');

  const pace = PACE[severity]!;
  let at = later(random, createdAt, pace.triage, 0.9);
  const triager = triagerOf(shared, team, at, random);
  const original = shared.lastBug.get(component);
  if (original && random.chance(0.05)) {
    t.jira(at, triager, { kind: 'linked', target: original, data: { relation: 'duplicates' } });
    t.push(at + MINUTE, 'jira', jiraActor(triager), {
      kind: 'closed',
      from: t.state,
      to: 'duplicate',
      data: { resolution: 'duplicate', duplicateOf: original },
    });
    t.state = 'duplicate';
    t.mark(at, 'closed');
    return { reporter, customer };
  }
  if (!presetSeverity) {
    t.setField(at, triager, 'severity', severity);
    t.severity = severity;
    at += random.int(1, 5) * MINUTE;
  }
  const priority = random.pick(PRIORITY_OF[severity]!);
  t.setField(at, triager, 'priority', priority);
  t.priority = priority;
  t.setState(at + random.int(1, 3) * MINUTE, triager, 'triaged');

  if (random.chance(severity === 'low' ? 0.18 : 0.04)) {
    at = later(random, at, 24);
    t.comment(at, triager, 'Closing: works as designed / not worth the risk of a change right now.');
    t.push(at + MINUTE, 'jira', jiraActor(triager), {
      kind: 'closed',
      from: t.state,
      to: "won't fix",
      data: { resolution: "won't fix" },
    });
    t.state = "won't fix";
    t.mark(at, 'closed');
    return { reporter, customer };
  }
  // Left in the backlog.
  if (random.chance(severity === 'low' ? 0.3 : severity === 'medium' ? 0.12 : 0.02)) return { reporter, customer };

  at = later(random, at, pace.assign);
  const assignee = random.chance(0.9) ? random.pick(team.engineers) : team.techLead;
  const assigner = assignerOf(shared, team, at, assignee, random);
  t.setField(at, assigner, 'assignee', assignee.id);
  t.assignee = assignee;
  if (random.chance(0.45)) {
    at = later(random, at, 2);
    t.setState(at, assigner, 'todo');
  }

  const chance = reopenChance(shared, component, createdAt);
  for (let cycle = 0; cycle < 3; cycle++) {
    at = fixCycle(shared, t, team, component, at, severity, true);
    if (cycle < 2 && random.chance(chance)) {
      at = later(random, at, 16, 1);
      const who = reporter ?? random.pick(team.engineers);
      t.push(at, 'jira', jiraActor(who), { kind: 'reopened', from: 'done', to: 'reopened' });
      t.state = 'reopened';
      t.mark(at, 'reopened');
      t.comment(
        at + random.int(1, 10) * MINUTE,
        who,
        `Still happening${customer ? ` for ${customer}` : ''} after the fix.`,
      );
      continue;
    }
    if (reporter && (reporter.role === 'stakeholder' || reporter.role === 'product-manager') && random.chance(0.4)) {
      t.push(later(random, at, 20), 'jira', jiraActor(reporter), { kind: 'verified' });
    }
    break;
  }
  return { reporter, customer };
};

const workFlow = (shared: Shared, t: ItemTimeline, plan: ItemPlan): void => {
  const { random } = t;
  const { team, component, createdAt, kind } = plan;
  const feature = random.pick(FEATURES[component] ?? ['a new capability']);
  const subject = random.pick(SUBJECTS[component] ?? [component]);
  const title =
    kind === 'feature'
      ? `${random.pick(['Add', 'Support', 'Introduce'])} ${feature}`
      : kind === 'tech_debt'
        ? `${random.pick(DEBTS)} ${component}`
        : `${random.pick(TASKS)} ${subject.toLowerCase()}`;
  const reporter =
    kind === 'feature'
      ? random.chance(0.85)
        ? team.pm
        : team.designer
      : kind === 'tech_debt'
        ? random.chance(0.6)
          ? random.pick(team.engineers)
          : team.techLead
        : random.weighted<Person>([
            [team.techLead, 0.3],
            [random.pick(team.engineers), 0.45],
            [team.pm, 0.25],
          ]);
  const snapshot: ItemRef = {
    key: plan.key,
    kind,
    title,
    team: team.id,
    component,
    state: 'open',
    url: `https://acme.atlassian.net/browse/${plan.key}`,
  };
  const viaGithub = kind !== 'feature' && reporter.role !== 'product-manager' && random.chance(0.35);
  t.push(
    createdAt,
    viaGithub ? 'github' : 'jira',
    viaGithub ? githubActor(reporter) : jiraActor(reporter),
    { kind: 'created' },
    snapshot,
  );
  t.mark(createdAt, 'new');

  let at = createdAt;
  if (kind === 'feature' && random.chance(0.4)) {
    at = later(random, at, 8);
    t.comment(at, team.designer, `Designs for ${feature} are in Figma, ready for review.`);
  }
  if (random.chance(kind === 'feature' ? 0.8 : 0.45)) {
    at = later(random, at, 12);
    const prioritiser =
      kind === 'feature'
        ? team.pm
        : kind === 'tech_debt'
          ? team.techLead
          : random.chance(0.5)
            ? team.pm
            : team.techLead;
    const priority = random.pick(['P2', 'P3', 'P3', 'P4']);
    t.setField(at, prioritiser, 'priority', priority);
    t.priority = priority;
  }
  if (random.chance(kind === 'tech_debt' ? 0.35 : kind === 'task' ? 0.15 : 0.2)) return; // never picked up (yet)

  at = later(random, at, kind === 'tech_debt' ? 80 : 40, 1);
  const assignee = random.pick(team.engineers);
  const assigner = random.weighted<Person>([
    [assignee, 0.55],
    [team.techLead, 0.3],
    [team.managers[0] ?? team.techLead, 0.1],
    [team.pm, 0.05],
  ]);
  t.setField(at, assigner, 'assignee', assignee.id);
  t.assignee = assignee;
  if (random.chance(0.35)) {
    at = later(random, at, 4);
    t.setState(at, assigner, 'todo');
  }
  const withCode = kind !== 'task' || random.chance(0.7);
  const pace = kind === 'feature' ? 'high' : 'medium';
  if (kind === 'feature' && random.chance(0.45)) {
    // A first slice ships behind a flag in its own PR before the finishing one.
    at = fixCycle(shared, t, team, component, at, pace, true, false);
  }
  fixCycle(shared, t, team, component, at, pace, withCode);
};

const incidentFlow = (shared: Shared, t: ItemTimeline, plan: ItemPlan): void => {
  const { random } = t;
  const { team, component, createdAt } = plan;
  const commander = random.pick(team.onCall);
  let severity = random.chance(0.3) ? 'critical' : 'high';
  const title = random.pick(INCIDENT_TITLES)(component);
  t.push(
    createdAt,
    'slack',
    slackActor(commander),
    { kind: 'created' },
    {
      key: plan.key,
      kind: 'incident',
      title,
      team: team.id,
      component,
      severity,
      state: 'investigating',
      url: `https://status.acme.example/incidents/${plan.key}`,
    },
  );
  t.state = 'investigating';
  t.mark(createdAt, 'in progress');
  let at = createdAt + random.int(1, 3) * MINUTE;
  t.push(at, 'slack', slackActor(commander), {
    kind: 'incident_declared',
    data: { commander: commander.id, severity },
  });
  at += random.int(4, 15) * MINUTE;
  t.comment(at, commander, `Investigating elevated error rates on ${component}.`, 'slack');
  if (severity === 'high' && random.chance(0.25)) {
    at += random.int(10, 30) * MINUTE;
    t.setField(at, commander, 'severity', 'critical');
    severity = 'critical';
  }
  at += random.int(15, 90) * MINUTE;
  t.setState(at, commander, 'identified', 'slack');
  t.comment(at + MINUTE, commander, `Identified: ${random.pick(INCIDENT_CAUSES)}.`, 'slack');
  const cause = shared.lastBug.get(component);
  if (cause && random.chance(0.7)) {
    t.push(at + 2 * MINUTE, 'slack', slackActor(commander), {
      kind: 'linked',
      target: cause,
      data: { relation: 'caused by' },
    });
  }
  if (random.chance(0.6)) {
    t.comment(at + random.int(5, 20) * MINUTE, team.pm, 'Customer update posted on the status page.', 'slack');
  }
  at += random.int(30, 120) * MINUTE;
  t.setState(at, commander, 'monitoring', 'slack');
  t.comment(at + MINUTE, commander, 'A fix is deployed; monitoring.', 'slack');
  at += random.int(60, 360) * MINUTE;
  t.setState(at, commander, 'resolved', 'slack');
  t.push(at + MINUTE, 'slack', slackActor(commander), {
    kind: 'incident_resolved',
    data: { durationMinutes: Math.round((at - createdAt) / MINUTE), severity },
  });
};

/** Status pings by stakeholders, each usually relayed by the team's PM (pattern d). */
const pingOverlay = (
  shared: Shared,
  t: ItemTimeline,
  plan: ItemPlan,
  reporter: Person | null,
  customer: string,
): void => {
  const { random } = t;
  const { team } = plan;
  const ping = (pinger: Person, firstAfterDays: number, max: number, relayChance: number): void => {
    let at = plan.createdAt + firstAfterDays * DAY;
    for (let n = 0; n < max && at <= shared.now; n++) {
      at = toWorkingHours(random, at);
      const stage = t.milestoneAt(at);
      if (DONE_MILESTONES.has(stage)) return;
      t.comment(at, pinger, random.pick(PINGS)(customer), random.chance(0.5) ? 'slack' : 'jira');
      if (random.chance(relayChance)) {
        const relayAt = later(random, at, 2.5, 0.9);
        const assignee = t.assignee ? firstName(t.assignee) : 'the team';
        t.comment(relayAt, team.pm, RELAYS[t.milestoneAt(relayAt)](assignee));
      }
      at += random.between(6, 8) * DAY;
    }
  };
  const pinger = shared.cast.pinger;
  if (pinger && team.id === 'growth' && (plan.kind === 'bug' || plan.kind === 'feature') && random.chance(0.3)) {
    ping(pinger, random.between(2, 5), 5, 0.85);
  } else if (reporter && reporter.role === 'stakeholder' && random.chance(0.25)) {
    ping(reporter, random.between(3, 8), random.int(1, 2), 0.6);
  }
};

// --- items that are not work items ------------------------------------------

const SLI_SERVICES: Record<string, number> = {
  'api-gateway': 240_000,
  auth: 90_000,
  'pricing-page': 60_000,
  checkout: 40_000,
  ledger: 25_000,
  onboarding: 15_000,
  payouts: 6_000,
};

/** The hourly SLI window's error ratio of a service at an instant (pattern c for api-gateway). */
const errorRatio = (service: string, at: number, now: number, interval: number, random: DemoRandom): number => {
  const noise = random.lognormal(1, 0.5);
  if (service !== 'api-gateway') return 0.00015 * noise;
  const burnStart = now - 28 * DAY;
  if (at < burnStart) return 0.00025 * noise;
  const half = Math.max(interval / 2, HOUR);
  for (const [daysAgo, ratio] of [
    [17.6, 0.04],
    [5.3, 0.03],
  ] as const) {
    if (Math.abs(at - (now - daysAgo * DAY)) < half) return ratio * random.between(0.8, 1.2);
  }
  const progress = (at - burnStart) / (28 * DAY);
  return (0.0003 + 0.0024 * progress ** 1.2) * noise;
};

/** SLI samples (scaled to the item count) and weekly coverage reports, in time order. */
function* ambientEvents(
  options: DemoEventOptions,
  prefix: string,
  start: number,
  now: number,
): Generator<[number, EventInput]> {
  const components = new Set(options.charter.teams.flatMap((t) => t.components));
  const services = Object.entries(SLI_SERVICES).filter(([s]) => components.has(s));
  const repos = [...components].map((c) => ({ component: c, repo: demoRepoOf(c) }));
  const interval = Math.min(DAY, Math.max(MINUTE, Math.round((6 * HOUR * 5000) / options.items / MINUTE) * MINUTE));
  const random = createRandom(hashSeed('demo-ambient', options.seed));
  const baseline = new Map(repos.map((r) => [r.repo, random.between(68, 86)]));

  let slot = Math.ceil(start / interval) * interval;
  // Coverage runs every Monday at 07:00 UTC.
  let week = start - (start % DAY) + 7 * HOUR;
  while (new Date(week).getUTCDay() !== 1 || week < start) week += DAY;

  while (slot <= now || week <= now) {
    if (week <= now && (week <= slot || slot > now)) {
      const day = new Date(week).toISOString().slice(0, 10);
      const progress = (week - start) / (DEMO_SPAN_DAYS * DAY);
      for (const { component, repo } of repos) {
        const base = baseline.get(repo)!;
        const lines =
          component === 'ledger' ? 81 - 15 * progress + random.normal(0, 0.6) : base + random.normal(0, 0.8);
        const branches = lines - random.between(7, 12);
        yield [
          week,
          {
            source: 'ci',
            sourceEventId: `${prefix}coverage:${repo}:${day}`,
            occurredAt: new Date(week).toISOString(),
            actor: CI_BOT,
            change: {
              kind: 'coverage_report',
              data: { repo, lines_pct: Math.round(lines * 10) / 10, branches_pct: Math.round(branches * 10) / 10 },
            },
          },
        ];
      }
      week += 7 * DAY;
      continue;
    }
    const occurredAt = new Date(slot).toISOString();
    const hour = new Date(slot).getUTCHours();
    const diurnal = 0.6 + 0.4 * Math.cos(((hour - 14) / 24) * 2 * Math.PI);
    for (const [service, perHour] of services) {
      const total = Math.round(perHour * diurnal * random.between(0.9, 1.1));
      const bad = Math.min(total, Math.round(total * errorRatio(service, slot, now, interval, random)));
      yield [
        slot,
        {
          source: 'sli',
          sourceEventId: `${prefix}sli:${service}:${occurredAt}`,
          occurredAt,
          change: {
            kind: 'sli_sample',
            data: { service, slo: 'availability', good: total - bad, total, window: '1h' },
          },
        },
      ];
    }
    slot += interval;
  }
}

const KIND_WEIGHTS = [
  ['bug', 46],
  ['task', 21],
  ['feature', 16],
  ['tech_debt', 13],
  ['incident', 4],
] as const;

/** Items whose titles carry markup and SQL, to exercise escaping everywhere they are shown. */
const HOSTILE_ITEMS: Record<number, { team: string; component: string; title: string }> = {
  2: { team: 'payments', component: 'checkout', title: 'Checkout shows <b>NaN</b> total for carts with a gift card' },
  5: {
    team: 'platform',
    component: 'api-gateway',
    title: `Search for "'; DROP TABLE items; --" crashes the search endpoint`,
  },
};

/**
 * Streams the demo workspace's events: deterministic for (items, seed, now,
 * charter), six months up to `now`, item by item with the SLI samples and
 * coverage reports interleaved in time. Memory stays bounded for any `items`.
 */
export function* generateDemoEvents(options: DemoEventOptions): Generator<EventInput> {
  const items = Math.floor(options.items);
  if (!(items > 0)) return;
  const cast = buildCast(options.charter);
  if (cast.teams.length === 0) return;
  const now = options.now.getTime();
  const span = DEMO_SPAN_DAYS * DAY;
  const start = now - span;
  const prefix = `demo${options.seed}:`;
  const shared: Shared = {
    cast,
    start,
    now,
    leaveStart: now - DEMO_LEAVE_STARTED_DAYS_AGO * DAY,
    prNumbers: new Map(),
    lastBug: new Map(),
  };
  const counters = new Map<string, number>();
  const nextKey = (prefixOfKey: string): string => {
    const n = (counters.get(prefixOfKey) ?? 0) + 1;
    counters.set(prefixOfKey, n);
    return `${prefixOfKey}-${n}`;
  };
  const teamWeights = cast.teams.map(
    (team) => [team, team.id === 'payments' ? 36 : team.id === 'growth' ? 34 : 30] as const,
  );
  const itemSeed = hashSeed('demo-items', options.seed);
  const ambient = ambientEvents(options, prefix, start, now);
  let pending = ambient.next();

  for (let i = 0; i < items; i++) {
    const random = createRandom(mixSeed(itemSeed, i));
    const base = start + (span * (i + random.next())) / items;
    while (!pending.done && pending.value[0] <= base) {
      yield pending.value[1];
      pending = ambient.next();
    }

    const hostile = HOSTILE_ITEMS[i];
    const kind: ItemKind = hostile ? 'bug' : random.weighted(KIND_WEIGHTS);
    let team = cast.teams.find((t) => t.id === hostile?.team) ?? random.weighted(teamWeights);
    let component = hostile && team.components.includes(hostile.component) ? hostile.component : '';
    if (kind === 'incident' && base >= now - 28 * DAY && random.chance(0.55)) {
      const platform = cast.teams.find((t) => t.components.includes('api-gateway'));
      if (platform) {
        team = platform;
        component = 'api-gateway';
      }
    }
    if (!component) {
      component = random.weighted(team.components.map((c) => [c, c === 'ledger' ? 1.4 : 1] as const));
    }
    let createdAt = kind === 'incident' ? base : toWorkingHours(random, base);
    if (createdAt > now) createdAt = base;
    const plan: ItemPlan = {
      key: nextKey(kind === 'incident' ? 'INC' : team.prefix),
      kind,
      team,
      component,
      createdAt,
      title: hostile?.title,
    };
    const timeline = new ItemTimeline(plan.key, random);
    const customer = random.pick(CUSTOMERS);
    if (kind === 'bug') {
      const bug = bugFlow(shared, timeline, plan);
      pingOverlay(shared, timeline, plan, bug.reporter, bug.customer ?? customer);
      shared.lastBug.set(component, plan.key);
    } else if (kind === 'incident') {
      incidentFlow(shared, timeline, plan);
    } else {
      workFlow(shared, timeline, plan);
      pingOverlay(shared, timeline, plan, null, customer);
    }

    const drafts = timeline.drafts;
    drafts.sort((a, b) => a.at - b.at);
    const ref: ItemRef = { key: plan.key };
    let previous = -Infinity;
    for (let j = 0; j < drafts.length; j++) {
      const draft = drafts[j]!;
      // One second apart at least, so that the log's order is the workflow's order.
      const at = Math.max(Math.round(draft.at), previous + 1000);
      if (at > now) break;
      previous = at;
      const event: EventInput = {
        source: draft.source,
        sourceEventId: `${prefix}${plan.key}:${j}`,
        occurredAt: new Date(at).toISOString(),
        item: draft.snapshot ?? ref,
        change: draft.change,
      };
      if (draft.actor) event.actor = draft.actor;
      yield event;
    }
  }
  while (!pending.done) {
    yield pending.value[1];
    pending = ambient.next();
  }
}
