import { z } from 'zod';
import { eventSchema } from './items.contract.js';

/** The HTTP contract for the overview, the decision-rights matrix and who-decides. */

export const overviewSchema = z.object({
  workspace: z.object({ id: z.string(), name: z.string() }).nullable(),
  totals: z.object({ items: z.number().int(), events: z.number().int() }),
  teams: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      components: z.array(z.string()),
      members: z.number().int(),
      open: z.number().int(),
      total: z.number().int(),
    }),
  ),
  byKindStage: z.array(z.object({ kind: z.string(), stage: z.string(), count: z.number().int() })),
  recent: z.array(z.object({ event: eventSchema, itemKey: z.string().nullable(), itemTitle: z.string().nullable() })),
  freshness: z.array(
    z.object({
      source: z.string(),
      eventCount: z.number().int(),
      duplicateCount: z.number().int(),
      lastOccurredAt: z.string().nullable(),
      lastReceivedAt: z.string(),
    }),
  ),
});
export type OverviewDto = z.infer<typeof overviewSchema>;

const personSchema = z.object({ id: z.string(), name: z.string(), role: z.string() });
export const partySchema = z.object({
  group: z.string().describe('The group name or person id as written in the charter.'),
  label: z.string(),
  people: z.array(personSchema),
});
const delegationSchema = z.object({ from: z.string(), to: z.string(), until: z.string(), reason: z.string() });

export const rightsSchema = z.object({
  asOf: z.string(),
  domains: z.array(z.object({ id: z.string(), title: z.string(), question: z.string() })),
  teams: z.array(z.object({ id: z.string(), name: z.string() })),
  cells: z.array(
    z.object({
      domain: z.string(),
      team: z.string(),
      decides: partySchema.nullable(),
      consulted: z.array(partySchema),
      informed: z.array(partySchema),
      overridden: z.boolean(),
      delegations: z.array(delegationSchema),
    }),
  ),
  delegations: z.array(delegationSchema.extend({ domain: z.string(), team: z.string().nullable() })),
});
export type RightsDto = z.infer<typeof rightsSchema>;

export const whoDecidesQuerySchema = z.strictObject({ q: z.string().min(1).max(300) });
const domainRefSchema = z.object({ id: z.string(), title: z.string(), question: z.string() });
export const whoDecidesSchema = z.object({
  matched: domainRefSchema.nullable(),
  closest: z.array(domainRefSchema),
  text: z.string().describe('The answer in plain words, several lines.'),
});

export const reloadSchema = z.object({ reloaded: z.boolean(), issues: z.number().int() });
