import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  COVERAGE_FORMATS,
  coveragePercent,
  parseCoverage,
  type CoverageFormat,
  type CoverageSummary,
} from '../domain/coverage.parse.js';
import { AppError } from '../domain/errors.js';
import type { ServiceContext } from './context.js';
import { appendEvents } from './events.service.js';

/** The source of coverage reports pushed through the API or the CLI. */
export const COVERAGE_SOURCE = 'coverage';

export const pushCoverageInputSchema = z.strictObject({
  component: z.string().min(1).max(120),
  format: z.enum(COVERAGE_FORMATS).optional(),
  text: z.string(),
  commit: z.string().min(1).max(100).optional(),
  /** When the report was made (ISO-8601); default now. */
  at: z.iso.datetime({ offset: true }).optional(),
});
export type PushCoverageInput = z.input<typeof pushCoverageInputSchema>;

export interface PushCoverageResult extends CoverageSummary {
  component: string;
  team: string | null;
  linePct: number | null;
  branchPct: number | null;
  /** False when the same report (component, commit or time, content) was pushed before. */
  stored: boolean;
}

/**
 * Parses a coverage report (lcov, Cobertura XML, Istanbul summary) and appends
 * it to the log as a `coverage_report` event for the component, the figures in
 * `data` (the report itself is not kept). Pushing the same report twice stores it once.
 */
export const pushCoverage = async (ctx: ServiceContext, raw: PushCoverageInput): Promise<PushCoverageResult> => {
  const parsed = pushCoverageInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError('LANES_VALIDATION', `coverage push: ${z.prettifyError(parsed.error)}`);
  }
  const input = parsed.data;
  const loaded = ctx.charter();
  const team = loaded?.index.teamByComponent.get(input.component) ?? null;
  if (loaded && team === null) {
    throw new AppError(
      'LANES_VALIDATION',
      `no team owns the component "${input.component}"; add it to a team's components in lanes.yaml`,
      { component: input.component },
    );
  }
  const summary = parseCoverage(input.text, input.format as CoverageFormat | undefined);
  const at = new Date(input.at ?? ctx.clock()).toISOString();
  const digest = createHash('sha256').update(input.text).digest('hex').slice(0, 16);
  const linePct = coveragePercent(summary.lines);
  const branchPct = coveragePercent(summary.branches);
  const result = await appendEvents(ctx, [
    {
      source: COVERAGE_SOURCE,
      sourceEventId: `${input.component}:${input.commit ?? at}:${digest}`,
      occurredAt: at,
      actor: null,
      change: {
        kind: 'coverage_report',
        data: {
          component: input.component,
          ...(team ? { team } : {}),
          format: summary.format,
          lines: summary.lines,
          branches: summary.branches,
          files: summary.files,
          lines_pct: linePct,
          branches_pct: branchPct,
          ...(input.commit ? { commit: input.commit } : {}),
        },
      },
    },
  ]);
  return { ...summary, component: input.component, team, linePct, branchPct, stored: result.stored > 0 };
};
