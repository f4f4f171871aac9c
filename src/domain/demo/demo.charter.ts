import { Document, isMap, isSeq } from 'yaml';
import type { Charter, Person, Role } from '../charter.schema.js';
import { createRandom, hashSeed } from './demo.random.js';

/**
 * The charter of the demo workspace, "Acme Commerce": three teams (Payments,
 * Growth, Platform), 29 people covering every role, one per-team override, one
 * delegation in force, response targets and connector mappings. Names and ids
 * are fixed; the seed only draws the Jira account ids and Slack member ids, and
 * `now` only dates the delegation. See docs/demo.md.
 */

export const DEMO_WORKSPACE = { id: 'acme', name: 'Acme Commerce' } as const;

interface DemoPersonSpec {
  id: string;
  name: string;
  role: Role;
  /** Job title, written as a YAML comment: the charter has no field for it. */
  title: string;
  github: string;
  team?: 'payments' | 'growth' | 'platform';
}

const PEOPLE: readonly DemoPersonSpec[] = [
  // Payments
  {
    id: 'priya.raman',
    name: 'Priya Raman',
    role: 'product-manager',
    title: 'Product Manager, Payments',
    github: 'priya-raman',
    team: 'payments',
  },
  {
    id: 'lucas.moreau',
    name: 'Lucas Moreau',
    role: 'designer',
    title: 'Product Designer, Payments',
    github: 'lmoreau',
    team: 'payments',
  },
  {
    id: 'daniel.okafor',
    name: 'Daniel Okafor',
    role: 'tech-lead',
    title: 'Tech Lead, Payments',
    github: 'dokafor',
    team: 'payments',
  },
  {
    id: 'mei.chen',
    name: 'Mei Chen',
    role: 'engineer',
    title: 'Senior Engineer',
    github: 'meichen-dev',
    team: 'payments',
  },
  {
    id: 'tomas.alvarez',
    name: 'Tomás Álvarez',
    role: 'engineer',
    title: 'Engineer',
    github: 'talvarez',
    team: 'payments',
  },
  {
    id: 'sara.lindqvist',
    name: 'Sara Lindqvist',
    role: 'engineer',
    title: 'Engineer',
    github: 'saralind',
    team: 'payments',
  },
  // Growth
  {
    id: 'hannah.becker',
    name: 'Hannah Becker',
    role: 'product-manager',
    title: 'Product Manager, Growth',
    github: 'hbecker',
    team: 'growth',
  },
  {
    id: 'yuki.tanaka',
    name: 'Yuki Tanaka',
    role: 'designer',
    title: 'Product Designer, Growth',
    github: 'yukitanaka',
    team: 'growth',
  },
  {
    id: 'marcus.johnson',
    name: 'Marcus Johnson',
    role: 'tech-lead',
    title: 'Tech Lead, Growth',
    github: 'mjohnson',
    team: 'growth',
  },
  {
    id: 'aisha.khan',
    name: 'Aisha Khan',
    role: 'engineer',
    title: 'Senior Engineer',
    github: 'aishakhan',
    team: 'growth',
  },
  { id: 'jonas.weber', name: 'Jonas Weber', role: 'engineer', title: 'Engineer', github: 'jweber', team: 'growth' },
  {
    id: 'elena.petrova',
    name: 'Elena Petrova',
    role: 'engineer',
    title: 'Engineer',
    github: 'epetrova',
    team: 'growth',
  },
  // Platform
  {
    id: 'olivia.brooks',
    name: 'Olivia Brooks',
    role: 'product-manager',
    title: 'Product Manager, Platform',
    github: 'obrooks',
    team: 'platform',
  },
  {
    id: 'noah.fischer',
    name: 'Noah Fischer',
    role: 'designer',
    title: 'Product Designer, Platform',
    github: 'noahfischer',
    team: 'platform',
  },
  {
    id: 'ravi.shankar',
    name: 'Ravi Shankar',
    role: 'tech-lead',
    title: 'Tech Lead, Platform',
    github: 'rshankar',
    team: 'platform',
  },
  {
    id: 'kenji.watanabe',
    name: 'Kenji Watanabe',
    role: 'engineer',
    title: 'Staff Engineer',
    github: 'kwatanabe',
    team: 'platform',
  },
  { id: 'fatima.zahra', name: 'Fatima Zahra', role: 'engineer', title: 'Engineer', github: 'fzahra', team: 'platform' },
  {
    id: 'liam.oconnor',
    name: "Liam O'Connor",
    role: 'engineer',
    title: 'Engineer',
    github: 'liamoc',
    team: 'platform',
  },
  {
    id: 'chloe.dubois',
    name: 'Chloé Dubois',
    role: 'engineer',
    title: 'Engineer',
    github: 'cdubois',
    team: 'platform',
  },
  {
    id: 'ingrid.svensson',
    name: 'Ingrid Svensson',
    role: 'sre',
    title: 'Site Reliability Engineer',
    github: 'isvensson',
    team: 'platform',
  },
  {
    id: 'mateo.rossi',
    name: 'Mateo Rossi',
    role: 'sre',
    title: 'Site Reliability Engineer',
    github: 'mateorossi',
    team: 'platform',
  },
  // Engineering management and leadership
  {
    id: 'grace.liu',
    name: 'Grace Liu',
    role: 'engineering-manager',
    title: 'Engineering Manager, Payments and Growth',
    github: 'graceliu',
  },
  {
    id: 'ben.carter',
    name: 'Ben Carter',
    role: 'engineering-manager',
    title: 'Engineering Manager, Platform',
    github: 'bcarter',
    team: 'platform',
  },
  {
    id: 'catherine.wright',
    name: 'Catherine Wright',
    role: 'engineering-leadership',
    title: 'VP Engineering',
    github: 'cwright',
  },
  {
    id: 'ahmed.hassan',
    name: 'Ahmed Hassan',
    role: 'engineering-leadership',
    title: 'Director of Engineering',
    github: 'ahassan',
  },
  // Stakeholders outside the teams
  {
    id: 'rachel.green',
    name: 'Rachel Green',
    role: 'stakeholder',
    title: 'Account Executive, Sales',
    github: 'rgreen-acme',
  },
  { id: 'victor.nguyen', name: 'Victor Nguyen', role: 'stakeholder', title: 'Support Lead', github: 'vnguyen-acme' },
  {
    id: 'sofia.martins',
    name: 'Sofia Martins',
    role: 'stakeholder',
    title: 'Customer Success Manager',
    github: 'smartins-acme',
  },
  { id: 'patrick.doyle', name: 'Patrick Doyle', role: 'stakeholder', title: 'Support Engineer', github: 'pdoyle-acme' },
];

/** The people the planted patterns revolve around (see `DEMO_PATTERNS`). */
export const DEMO_CAST = {
  paymentsPm: 'priya.raman',
  growthPm: 'hannah.becker',
  /** The customer-success stakeholder who pings the Growth PM every week. */
  weeklyPinger: 'sofia.martins',
  platformTechLead: 'ravi.shankar',
  /** Holds eng.bug-triage for Platform while the tech lead is on leave. */
  bugTriageDelegate: 'kenji.watanabe',
} as const;

/** Days the Platform tech lead has been on leave before `now` (the delegation's start). */
export const DEMO_LEAVE_STARTED_DAYS_AGO = 21;

export const DEMO_TEAMS = [
  {
    id: 'payments',
    name: 'Payments',
    jira: 'PAY',
    components: ['checkout', 'ledger', 'payouts', 'fraud-rules'],
    trio: { product: 'priya.raman', design: 'lucas.moreau', tech: 'daniel.okafor' },
    manager: 'grace.liu',
    escalation: 'ahmed.hassan',
  },
  {
    id: 'growth',
    name: 'Growth',
    jira: 'GRO',
    components: ['onboarding', 'referrals', 'pricing-page', 'experiments'],
    trio: { product: 'hannah.becker', design: 'yuki.tanaka', tech: 'marcus.johnson' },
    manager: 'grace.liu',
    escalation: 'ahmed.hassan',
  },
  {
    id: 'platform',
    name: 'Platform',
    jira: 'PLAT',
    components: ['api-gateway', 'auth', 'observability', 'ci-pipeline'],
    trio: { product: 'olivia.brooks', design: 'noah.fischer', tech: 'ravi.shankar' },
    manager: 'ben.carter',
    escalation: 'catherine.wright',
  },
] as const;

/** The GitHub repository of a component: one repository per component. */
export const demoRepoOf = (component: string): string => `acme/${component}`;

const DAY_MS = 86_400_000;
const SLACK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * Builds the demo charter. Deterministic for (seed, now): the seed draws the
 * Jira and Slack ids, `now` dates the delegation (in force until now + 30 days).
 */
export const buildDemoCharter = (seed: number, now: Date): Charter => {
  const random = createRandom(hashSeed('acme-charter', seed));
  const usedJira = new Set<string>();
  const usedSlack = new Set<string>();
  const people: Person[] = PEOPLE.map((spec) => {
    let jira: string;
    do jira = random.pick(['5', '6']) + random.hex(23);
    while (usedJira.has(jira));
    usedJira.add(jira);
    let slack: string;
    do slack = `U0${random.chars(SLACK_ALPHABET, 9)}`;
    while (usedSlack.has(slack));
    usedSlack.add(slack);
    return {
      id: spec.id,
      name: spec.name,
      role: spec.role,
      email: `${spec.id}@acme.example`,
      github: spec.github,
      jira,
      slack,
    };
  });

  const teams: Charter['teams'] = DEMO_TEAMS.map((team) => {
    const members = PEOPLE.filter((p) => p.team === team.id).map((p) => p.id);
    if (!members.includes(team.manager)) members.push(team.manager);
    return {
      id: team.id,
      name: team.name,
      members,
      trio: { ...team.trio },
      components: [...team.components],
      escalation: team.escalation,
      ...(team.id === 'growth'
        ? {
            decisions: {
              // Growth runs discovery with customer success in the room.
              'trio.discovery': { decides: 'trio', consulted: ['engineering', 'stakeholders'] },
            },
          }
        : {}),
    };
  });

  const until = new Date(now.getTime() + 30 * DAY_MS).toISOString().slice(0, 10);
  const repos: Record<string, { team: string; component: string }> = {};
  for (const team of DEMO_TEAMS) {
    for (const component of team.components) repos[demoRepoOf(component)] = { team: team.id, component };
  }

  return {
    version: 1,
    workspace: { id: DEMO_WORKSPACE.id, name: DEMO_WORKSPACE.name, timezone: 'UTC' },
    people,
    teams,
    delegations: [
      {
        domain: 'eng.bug-triage',
        team: 'platform',
        from: DEMO_CAST.platformTechLead,
        to: DEMO_CAST.bugTriageDelegate,
        until,
        reason: 'tech lead on parental leave',
      },
    ],
    // The planted pattern "api-gateway is burning its error budget" needs an SLO to burn (docs/slo.md).
    slos: [
      {
        apiVersion: 'openslo/v1',
        kind: 'SLO',
        metadata: { name: 'api-gateway-availability', displayName: 'API gateway availability' },
        spec: {
          service: 'api-gateway',
          indicator: {
            metadata: { name: 'api-gateway-good-requests' },
            spec: {
              ratioMetric: {
                counter: true,
                good: { metricSource: { type: 'lanes', spec: { event: 'sli_sample', field: 'good' } } },
                total: { metricSource: { type: 'lanes', spec: { event: 'sli_sample', field: 'total' } } },
              },
            },
          },
          timeWindow: [{ duration: '28d', isRolling: true }],
          budgetingMethod: 'Occurrences',
          objectives: [{ displayName: '99.9 % of requests succeed', target: 0.999 }],
        },
      },
    ],
    response_targets: {
      critical: { acknowledge: '30m', update_every: '2h', resolve: '1d' },
      high: { acknowledge: '2h', update_every: '8h', resolve: '5d' },
      medium: { acknowledge: '1d', update_every: '3d', resolve: '4w' },
      low: { acknowledge: '3d', update_every: '2w' },
    },
    connectors: {
      github: { repos },
      jira: {
        site: 'https://acme.atlassian.net',
        projects: Object.fromEntries(DEMO_TEAMS.map((t) => [t.jira, { team: t.id }])),
        issue_types: { Bug: 'bug', Task: 'task', Story: 'feature', 'Tech Debt': 'tech_debt', Incident: 'incident' },
      },
    },
  };
};

/** The demo charter as `lanes.yaml` text, with a header saying it was generated. */
export const demoCharterYaml = (seed: number, now: Date): string => {
  const charter = buildDemoCharter(seed, now);
  const doc = new Document(charter);
  doc.commentBefore = [
    ' Generated by `lanes demo` (seed ' + String(seed) + '): the charter of the Acme Commerce demo workspace.',
    ' Edit freely, or regenerate it. See docs/demo.md for the teams, people and planted patterns.',
  ].join('\n');
  const people = doc.get('people');
  if (isSeq(people)) {
    people.items.forEach((node, i) => {
      const spec = PEOPLE[i];
      if (!spec || !isMap(node)) return;
      const team = DEMO_TEAMS.find((t) => t.id === spec.team);
      node.commentBefore = ` ${spec.title}${team && !spec.title.includes(',') ? `, ${team.name}` : ''}`;
    });
  }
  return doc.toString({ lineWidth: 0 });
};
