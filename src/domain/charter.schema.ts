import { z } from 'zod';
import { botsSectionSchema } from './charter.bots.js';
import { connectorsSchema } from './connector.mapping.js';
import { decisionRulesSectionSchema } from './decision.rules.js';
import { ITEM_KINDS } from './event.js';
import { qualitySettingsSchema } from './quality.settings.js';

/**
 * The shape of `lanes.yaml`, the team charter of decision rights (PRODUCT.md C1).
 * This one schema validates the file and generates the JSON Schema that
 * `lanes schema` prints, so the two can never drift apart. Reference checks
 * (unknown people, one decider per domain, expired delegations, ...) live in
 * `charter.validate.ts`.
 */

export const ROLES = [
  'product-manager',
  'designer',
  'tech-lead',
  'engineering-manager',
  'engineer',
  'sre',
  'engineering-leadership',
  'stakeholder',
] as const;
export type Role = (typeof ROLES)[number];

/** Built-in decision groups; a charter may add its own under `groups`. */
export const BUILTIN_GROUPS = {
  product: { roles: ['product-manager'], description: 'the product manager(s) of the team' },
  design: { roles: ['designer'], description: 'the designer(s) of the team' },
  trio: { roles: [], description: "the team's product trio: PM, designer and tech lead" },
  engineering: {
    roles: ['tech-lead', 'engineering-manager', 'engineer'],
    description: "the team's engineers, tech lead and engineering manager",
  },
  'engineering-on-call': {
    roles: ['tech-lead', 'engineer', 'sre'],
    description: 'the engineer on call (incident commander)',
  },
  'engineering-leadership': { roles: ['engineering-leadership'], description: 'engineering leadership' },
  sre: { roles: ['sre'], description: 'site reliability engineers' },
  stakeholders: { roles: ['stakeholder'], description: 'stakeholders outside the team' },
} as const satisfies Record<string, { roles: Role[]; description: string }>;

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lower-case letters, digits and . _ -');

const isoDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

/** `30m`, `4h`, `2d`, `1w`. */
export const durationSchema = z
  .string()
  .regex(/^\d+(m|h|d|w)$/, 'a duration such as 30m, 4h, 2d or 1w')
  .describe('A duration: a number followed by m (minutes), h (hours), d (days) or w (weeks).');

const aliasList = <T extends z.ZodType>(item: T, what: string) => z.array(item).max(50).optional().describe(what);

/**
 * More identities of one person per source, beside the ones above: an old
 * e-mail address, a renamed login, a second account. Events by any of them are
 * the person's (self-assignment, their role in the charter); `lanes check`
 * refuses an identity two people claim.
 */
export const personAliasesSchema = z
  .strictObject({
    email: aliasList(z.email(), 'Other e-mail addresses (old or secondary).'),
    github: aliasList(z.string().min(1).max(100), 'Other GitHub logins.'),
    jira: aliasList(z.string().min(1).max(200), 'Other Jira account ids or user names.'),
    linear: aliasList(z.string().min(1).max(200), 'Other Linear user ids.'),
    slack: aliasList(z.string().min(1).max(100), 'Other Slack member ids.'),
  })
  .describe("A person's other identities per source (old e-mails, aliases, second accounts).");

export const personSchema = z
  .strictObject({
    id: id.describe('Stable id used everywhere else in this file.'),
    name: z.string().min(1).max(200),
    role: z.enum(ROLES),
    email: z.email().optional(),
    github: z.string().min(1).max(100).optional().describe('GitHub login.'),
    jira: z.string().min(1).max(200).optional().describe('Jira account id (Cloud) or user name (Data Center).'),
    linear: z.string().min(1).max(200).optional().describe('Linear user id.'),
    slack: z.string().min(1).max(100).optional().describe('Slack member id, e.g. U012ABCDEF.'),
    aliases: personAliasesSchema.optional(),
    timezone: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe("IANA time zone of the person's working hours (default: the workspace's)."),
  })
  .describe('A person with their identities in the connected tools.');

/** Who decides / is consulted / is informed: names of groups or person ids. */
export const raciSchema = z.strictObject({
  decides: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('Exactly one group (or person id) that decides.'),
  consulted: z.array(z.string()).optional(),
  informed: z.array(z.string()).optional(),
});
export type Raci = z.infer<typeof raciSchema>;

export const domainSchema = raciSchema
  .extend({
    id: z
      .string()
      .regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/, 'a dotted id such as eng.bug-triage')
      .describe('Domain id, e.g. eng.bug-triage.'),
    title: z.string().min(1).max(120).optional(),
    question: z.string().min(1).max(300).optional(),
    keywords: z.array(z.string().min(1)).optional().describe('Words that route free-text questions here.'),
  })
  .describe('A decision domain. Ids from the default catalog override its defaults; new ids add domains.');

/**
 * Boundary nudges of one team (PRODUCT.md C3): a short, kind note naming the
 * owner per charter when someone decides outside their lane. Off unless the
 * team turns them on; `dry-run` (the default mode) only records what would
 * have been sent.
 */
export const nudgeSettingsSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Turn nudges on for this team (off by default).'),
    mode: z
      .enum(['dry-run', 'send'])
      .default('dry-run')
      .describe('dry-run records what would be sent without sending; send posts it.'),
    channel: z
      .enum(['source', 'slack'])
      .default('source')
      .describe('source: a comment on the GitHub issue or Jira issue; slack: a message in `slack_channel`.'),
    slack_channel: z.string().min(1).max(100).optional().describe('Slack channel id for channel: slack.'),
    daily_cap: z.number().int().min(1).max(100).default(5).describe('At most this many nudges per team per day.'),
    domains: z.array(z.string().min(1)).optional().describe('Only these decision domains (default: every domain).'),
  })
  .describe('Boundary nudges for this team.');
export type NudgeSettings = z.output<typeof nudgeSettingsSchema>;

export const teamSchema = z.strictObject({
  id,
  name: z.string().min(1).max(120),
  members: z.array(z.string()).min(1).describe('Person ids.'),
  trio: z
    .strictObject({ product: z.string(), design: z.string(), tech: z.string() })
    .describe('The product trio: product manager, designer and tech lead (person ids).'),
  components: z.array(z.string().min(1)).default([]).describe('Components and services this team owns.'),
  escalation: z.string().describe('Person id of the engineering-leadership contact for systemic issues.'),
  decisions: z
    .record(z.string(), raciSchema)
    .optional()
    .describe('Per-team overrides of the decision catalog, keyed by domain id.'),
  nudges: nudgeSettingsSchema.optional(),
  released_on_close: z
    .boolean()
    .optional()
    .describe(
      'For a team without deploy data: an item closed as completed counts as released (Live), and the status portal says that the charter makes it so. Leave it out when deployments reach Lanes.',
    ),
});

export const delegationSchema = z.strictObject({
  domain: z.string(),
  team: z.string().optional().describe('Team id; omit for every team.'),
  from: z.string().describe('Group or person id handing over the decision.'),
  to: z.string().describe('Person or group id receiving it.'),
  until: isoDate.describe('The delegation ends at this date (inclusive) or instant.'),
  reason: z.string().min(1).max(500),
});

export const responseTargetSchema = z.strictObject({
  acknowledge: durationSchema,
  update_every: durationSchema,
  resolve: durationSchema.optional(),
});

/** Item fields the portal may show stakeholders; the stage is always shown. */
export const PORTAL_FIELDS = ['title', 'severity', 'team', 'component', 'customer'] as const;
export type PortalField = (typeof PORTAL_FIELDS)[number];
/** Labels that mark an item security-sensitive: it never appears on any portal surface. */
export const DEFAULT_SENSITIVE_LABELS = ['security', 'vulnerability', 'security-sensitive', 'cve', 'embargoed'];

/** What stakeholders may see in the self-serve portal (PRODUCT.md C4). */
export const portalSettingsSchema = z
  .strictObject({
    visible_kinds: z
      .array(z.enum(ITEM_KINDS))
      .default(['bug', 'incident', 'feature'])
      .describe('Kinds of items stakeholders can find and follow.'),
    visible_fields: z
      .array(z.enum(PORTAL_FIELDS))
      .default([...PORTAL_FIELDS])
      .describe('Fields shown to stakeholders besides the key and the stage.'),
    sensitive_labels: z
      .array(z.string().min(1).max(200))
      .default(DEFAULT_SENSITIVE_LABELS)
      .describe('An item with any of these labels is security-sensitive and never appears in the portal.'),
    hidden_teams: z.array(z.string().min(1)).default([]).describe('Teams whose items stay out of the portal.'),
  })
  .describe('The self-serve status portal: what stakeholders may see.');
export type PortalSettings = z.output<typeof portalSettingsSchema>;

/** The most people and teams a charter may hold (the 1 MiB file limit comes first for most shapes). */
export const MAX_PEOPLE = 10_000;
export const MAX_TEAMS = 1_000;

export const charterSchema = z
  .strictObject({
    version: z.literal(1),
    workspace: z.strictObject({
      id,
      name: z.string().min(1).max(120),
      timezone: z.string().default('UTC'),
    }),
    groups: z
      .record(id, z.strictObject({ roles: z.array(z.enum(ROLES)).min(1), description: z.string().optional() }))
      .optional()
      .describe('Extra decision groups by role, beside the built-in ones.'),
    people: z
      .array(personSchema)
      .min(1)
      .max(MAX_PEOPLE, `at most ${MAX_PEOPLE.toLocaleString('en-US')} people`),
    teams: z
      .array(teamSchema)
      .min(1)
      .max(MAX_TEAMS, `at most ${MAX_TEAMS.toLocaleString('en-US')} teams`),
    domains: z.array(domainSchema).optional(),
    delegations: z.array(delegationSchema).optional(),
    response_targets: z
      .record(z.string(), responseTargetSchema)
      .optional()
      .describe('Stakeholder response targets per severity (e.g. critical, high, medium, low).'),
    portal: portalSettingsSchema.optional(),
    quality: qualitySettingsSchema.optional(),
    slos: z
      .array(z.record(z.string(), z.unknown()))
      .optional()
      .describe('Service level objectives as OpenSLO v1 documents (kind SLO), checked by `lanes check` (docs/slo.md).'),
    decision_rules: decisionRulesSectionSchema
      .optional()
      .describe('Which change events are which decisions: extra rules (tried first) and defaults turned off.'),
    trusted_sources: z
      .array(
        z
          .string()
          .min(1)
          .max(64)
          .regex(/^[a-z0-9][a-z0-9._-]*$/, 'an event source: lower-case letters, digits and . _ -'),
      )
      .max(100)
      .optional()
      .describe(
        'Native event sources (e.g. deploys, pagerduty) whose API-posted events the boundary monitor attributes to the actor they name; other API-posted decisions are held against the user who reported them (docs/boundaries.md).',
      ),
    bots: botsSectionSchema.optional(),
    connectors: connectorsSchema
      .optional()
      .describe('Connector mappings: repositories, projects and teams to Lanes teams; labels, fields and states.'),
  })
  .describe('Lanes charter: who decides what, per team.');

export type CharterInput = z.input<typeof charterSchema>;
export type Charter = z.output<typeof charterSchema>;
export type Person = z.output<typeof personSchema>;
export type Team = z.output<typeof teamSchema>;
export type Delegation = z.output<typeof delegationSchema>;
export type DomainEntry = z.output<typeof domainSchema>;

/** The JSON Schema of lanes.yaml, for editor completion. */
export const charterJsonSchema = (): Record<string, unknown> => ({
  ...z.toJSONSchema(charterSchema, { io: 'input', target: 'draft-2020-12' }),
  $id: 'https://lanes.dev/schema/lanes.yaml.json',
  title: 'lanes.yaml',
});
