import { z } from 'zod';

/**
 * `GET /api/v1/boundaries` and `lanes report boundaries`: decisions held
 * against the charter (PRODUCT.md C3), per team, domain, week and role. Every
 * count here is of decisions, never of a person's decisions: nothing ranks
 * people. Examples carry a sentence that names who acted, as a reader needs to
 * understand one crossing, and link to the item.
 */

export const DIRECTION_VALUES = ['product_to_engineering', 'engineering_to_product', 'other'] as const;

export const directionCountsSchema = z.object({
  product_to_engineering: z.number().int(),
  engineering_to_product: z.number().int(),
  other: z.number().int(),
});
export type DirectionCounts = z.infer<typeof directionCountsSchema>;

/** Counts of one slice of decisions. `shareInLane` is inLane ÷ (inLane + crossings); null when there are none. */
export const decisionCountsSchema = z.object({
  decisions: z.number().int().describe('Every decision made by a person or a bot.'),
  inLane: z.number().int().describe('Made by a decider per charter (including delegates and incident commanders).'),
  crossings: z.number().int().describe('Made by someone consulted, informed or outside the domain.'),
  bots: z.number().int().describe('Made by bots; reported apart.'),
  charterGaps: z.number().int().describe('Made by people the charter does not name; a gap to fix, not a crossing.'),
  shareInLane: z.number().nullable(),
});
export type DecisionCounts = z.infer<typeof decisionCountsSchema>;

export const domainReportSchema = decisionCountsSchema.extend({
  domain: z.string(),
  title: z.string(),
  /** Who decides per charter, as written (a group or a person id). */
  decidedBy: z.string().nullable(),
  directions: directionCountsSchema,
  /** Decisions and crossings by the actor's role (roles, never people). */
  byRole: z.array(z.object({ role: z.string(), decisions: z.number().int(), crossings: z.number().int() })),
});
export type DomainReport = z.infer<typeof domainReportSchema>;

export const weekReportSchema = decisionCountsSchema.extend({
  /** Monday of the ISO week (UTC), YYYY-MM-DD. */
  week: z.string(),
  directions: directionCountsSchema,
});
export type WeekReport = z.infer<typeof weekReportSchema>;

export const crossingExampleSchema = z.object({
  eventId: z.string(),
  itemKey: z.string().nullable(),
  occurredAt: z.string(),
  domain: z.string(),
  direction: z.enum(DIRECTION_VALUES),
  standing: z.string(),
  actorRole: z.string().nullable(),
  sentence: z.string(),
});
export type CrossingExample = z.infer<typeof crossingExampleSchema>;

export const teamBoundaryReportSchema = z.object({
  team: z.object({ id: z.string(), name: z.string() }),
  totals: decisionCountsSchema.extend({ directions: directionCountsSchema }),
  domains: z.array(domainReportSchema),
  weeks: z.array(weekReportSchema),
  /** Domains with crossings, most crossings first, with their share of the team's crossings. */
  concentration: z.array(
    z.object({ domain: z.string(), title: z.string(), crossings: z.number().int(), share: z.number() }),
  ),
  examples: z.array(crossingExampleSchema),
});
export type TeamBoundaryReport = z.infer<typeof teamBoundaryReportSchema>;

export const boundaryReportSchema = z.object({
  /** First day counted (a Monday), YYYY-MM-DD. */
  since: z.string(),
  generatedAt: z.string(),
  /** False when the charter or the decision rules changed since the last full recompute. */
  current: z.boolean(),
  recomputedAt: z.string().nullable(),
  teams: z.array(teamBoundaryReportSchema),
});
export type BoundaryReport = z.infer<typeof boundaryReportSchema>;

export const boundaryQuerySchema = z.object({
  team: z.string().min(1).max(64).optional(),
  since: z
    .string()
    .regex(/^(\d{1,4}d|\d{4}-\d{2}-\d{2})$/, 'a number of days such as 90d, or a date such as 2026-01-31')
    .optional()
    .describe('How far back: 90d (the default) or a date.'),
});

/**
 * `GET /api/v1/middleman`: how much of a PM's week goes into relaying status.
 * Pings are stakeholders asking for status on the team's items; relays are a
 * product manager passing status on (or chasing it). Portal lookups are
 * status questions the self-serve portal answered without anyone (counted
 * once the portal exists). This is load carried by the PM, reported per PM
 * because that is the question; it is never ordered as a ranking.
 */
export const middlemanWeekSchema = z.object({
  week: z.string(),
  pings: z.number().int(),
  relays: z.number().int(),
  portalLookups: z.number().int(),
});
export type MiddlemanWeek = z.infer<typeof middlemanWeekSchema>;

export const middlemanTeamSchema = z.object({
  team: z.object({ id: z.string(), name: z.string() }),
  weeks: z.array(middlemanWeekSchema),
  totals: middlemanWeekSchema.omit({ week: true }),
  productManagers: z.array(
    z.object({
      personId: z.string(),
      name: z.string(),
      weeks: z.array(middlemanWeekSchema),
      totals: middlemanWeekSchema.omit({ week: true }),
    }),
  ),
});
export type MiddlemanTeam = z.infer<typeof middlemanTeamSchema>;

export const middlemanReportSchema = z.object({
  since: z.string(),
  generatedAt: z.string(),
  teams: z.array(middlemanTeamSchema),
});
export type MiddlemanReport = z.infer<typeof middlemanReportSchema>;

export const recomputeResultSchema = z.object({
  events: z.number().int().describe('Events in the log.'),
  eventsRead: z
    .number()
    .int()
    .describe('Events the walk read: those that can be or change a decision (PR reviews, SLI samples … cannot).'),
  decisions: z.number().int(),
  crossings: z.number().int(),
  middleman: z.number().int(),
  ms: z.number(),
});
export type RecomputeResult = z.infer<typeof recomputeResultSchema>;
