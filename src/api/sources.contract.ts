import { z } from 'zod';

/** `GET /api/v1/sources` and `lanes sources`: what each connected source has delivered. */
export const sourceSyncSchema = z.object({
  scope: z.string(),
  stream: z.string(),
  lastRunStartedAt: z.string(),
  lastSyncedAt: z.string().nullable().describe('When the last complete run finished.'),
  inProgress: z.boolean().describe('A run stopped part-way; the next `lanes sync` resumes it.'),
  units: z.number().int(),
  events: z.number().int(),
  lastError: z.string().nullable(),
});

export const sourceSchema = z.object({
  source: z.string(),
  events: z.number().int(),
  duplicates: z.number().int(),
  lastEventAt: z.string().nullable(),
  lastReceivedAt: z.string().nullable(),
  /** Seconds from the newest event's time to now: how stale what Lanes knows may be. */
  lagSeconds: z.number().nullable(),
  webhooks: z.object({
    active: z.boolean(),
    deliveries: z.number().int(),
    pending: z.number().int(),
    mapped: z.number().int(),
    unknown: z.number().int(),
    failed: z.number().int(),
    lastDeliveryAt: z.string().nullable(),
    unknownTypes: z.array(z.object({ eventType: z.string(), count: z.number().int() })),
  }),
  syncs: z.array(sourceSyncSchema),
  unmapped: z
    .array(z.object({ category: z.string(), value: z.string(), count: z.number().int(), lastSeenAt: z.string() }))
    .describe('The most frequent unmapped values (at most 50); `count`: times seen, once per event and field.'),
  unmappedValues: z.number().int().describe('Distinct unmapped values of the source, all of them.'),
  unmappedTimes: z.number().int().describe('Times they were seen, summed: the unit `lanes import` reports.'),
  errors: z.array(z.object({ at: z.string(), message: z.string() })),
});
export type SourceView = z.infer<typeof sourceSchema>;

export const sourcesSchema = z.object({ sources: z.array(sourceSchema) });
