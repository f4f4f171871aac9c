import { z } from 'zod';

/**
 * The `quality:` section of `lanes.yaml` (PRODUCT.md C6): how signals are
 * read from the log and the thresholds of the findings catalog
 * (docs/findings.md). Every field has a default.
 */
export const qualitySettingsSchema = z
  .strictObject({
    dora_year: z.enum(['2023', '2024']).default('2024').describe('DORA report whose benchmark bands apply.'),
    incident_window_hours: z
      .number()
      .min(1)
      .max(24 * 30)
      .default(72)
      .describe(
        'An incident without an explicit deployment is attributed to the last successful production deployment within this many hours before it (marked inferred).',
      ),
    escaped_labels: z
      .array(z.string().min(1))
      .default(['escaped', 'found-in-production', 'production', 'prod-bug', 'customer-reported'])
      .describe('Labels that mark a bug found in production.'),
    regression_labels: z.array(z.string().min(1)).default(['regression']).describe('Labels that mark a regression.'),
    working_hours: z
      .strictObject({
        start: z.number().int().min(0).max(23).default(9),
        end: z.number().int().min(1).max(24).default(18),
        days: z
          .array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']))
          .default(['mon', 'tue', 'wed', 'thu', 'fri']),
      })
      .default({ start: 9, end: 18, days: ['mon', 'tue', 'wed', 'thu', 'fri'] })
      .describe("Working hours, in each person's own time zone (people[].timezone, else the workspace's)."),
    coverage: z
      .record(
        z.string(),
        z.strictObject({ line: z.number().min(0).max(100).optional(), branch: z.number().min(0).max(100).optional() }),
      )
      .default({})
      .describe('Coverage guardrails per component, in percent.'),
    thresholds: z
      .record(z.string(), z.number())
      .default({})
      .describe('Overrides of the findings catalog thresholds, by name (docs/findings.md).'),
  })
  .describe('Quality guardrails: signals and findings thresholds.');
export type QualitySettings = z.output<typeof qualitySettingsSchema>;

/** The settings with every default, for a charter without a `quality:` section. */
export const defaultQualitySettings = (): QualitySettings => qualitySettingsSchema.parse({});
