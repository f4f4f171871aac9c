import { z } from 'zod';

/**
 * Quality guardrails (PRODUCT.md C6): signals per team and component with a
 * weekly history, and the findings made from them. Every signal is one row
 * per scope and week in `quality_signal_week`, whatever computed it, so the
 * findings engine, the API and the Quality page read one shape. Team-level
 * only where the issue says so (sustainable pace); nothing is ever per person.
 */

/** The signal ids, by family. A family's module owns its ids. */
export const SIGNALS = {
  dora: [
    'dora.deploy_days', // deployment days in the week (production, successful)
    'dora.deployments', // successful production deployments
    'dora.lead_time_median_h', // first commit → production deployment, median hours
    'dora.change_failure_rate', // production deployments with a linked incident ÷ production deployments
    'dora.recovery_median_h', // failed-deployment recovery time, median hours
  ],
  slo: ['slo.budget_remaining', 'slo.burn_alerts'], // details.slo names the SLO
  review: [
    'review.unreviewed_share', // merged PRs without an approving review ÷ merged PRs
    'review.first_review_median_h',
    'review.first_review_p90_h',
    'review.large_pr_share', // share of merged PRs over 400 changed lines
    'review.silent_large_approvals', // large PRs approved with no review comments ÷ large PRs
  ],
  coverage: ['coverage.line', 'coverage.branch'],
  bugs: [
    'bugs.inflow',
    'bugs.outflow',
    'bugs.open',
    'bugs.open_age_median_d',
    'bugs.reopen_rate', // reopened ÷ fixed in the week
    'bugs.escaped', // found in production (mapped label or field)
    'bugs.regressions',
  ],
  pace: [
    'pace.wip', // items in progress at the end of the week (team level)
    'pace.unplanned_share', // bugs and incidents ÷ all work started
    'pace.after_hours_share', // activity outside working hours in the actor's time zone
    'pace.pages', // on-call pages (incidents declared) per week
  ],
} as const;

export const signalRowSchema = z.object({
  signal: z.string(),
  team: z.string(),
  /** null for a team-level figure. */
  component: z.string().nullable(),
  /** Monday (UTC) of the week, YYYY-MM-DD. */
  week: z.string(),
  /** null when there was nothing to measure (no PRs merged, no deployments…). */
  value: z.number().nullable(),
  numerator: z.number().nullable(),
  denominator: z.number().nullable(),
  /** What the figure is made of: ids of deployments, PRs, incidents, items; the SLO name; "inferred" links. */
  details: z.record(z.string(), z.unknown()).nullable(),
});
export type SignalRow = z.infer<typeof signalRowSchema>;

export const FINDING_STATES = ['open', 'acknowledged', 'action_planned', 'resolved', 'dismissed'] as const;
export const ROOT_CAUSES = ['staffing', 'skills', 'code_health', 'ci_cd', 'observability', 'process_design'] as const;
export const SEVERITIES = ['low', 'medium', 'high'] as const;

export const findingSchema = z.object({
  id: z.string(),
  /** The catalog rule (docs/findings.md), e.g. `bug-inflow-exceeds-outflow`. */
  rule: z.string(),
  team: z.string(),
  component: z.string().nullable(),
  severity: z.enum(SEVERITIES),
  /** The pattern in one sentence. */
  pattern: z.string(),
  /** The guardrail it breaks, in words (e.g. "change failure rate within the 2024 high band (≤ 20 %)"). */
  guardrail: z.string(),
  evidence: z.object({
    figures: z.array(z.object({ label: z.string(), value: z.string() })),
    trend: z.array(z.object({ week: z.string(), value: z.number().nullable() })),
    /** Items, deployments, PRs and incidents behind it. */
    links: z.array(z.object({ kind: z.string(), id: z.string(), label: z.string(), url: z.string().nullable() })),
  }),
  causes: z.array(z.object({ category: z.enum(ROOT_CAUSES), weight: z.number(), reason: z.string() })),
  state: z.enum(FINDING_STATES),
  firstSeen: z.string(),
  lastSeen: z.string(),
});
export type Finding = z.infer<typeof findingSchema>;

export const qualityQuerySchema = z.strictObject({
  team: z.string().min(1).max(64),
  component: z.string().min(1).max(120).optional(),
  weeks: z.coerce.number().int().min(4).max(104).default(26),
  dora_year: z.enum(['2023', '2024']).optional().describe('Benchmark bands of this DORA report (default 2024).'),
});
