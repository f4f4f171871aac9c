import { z } from 'zod';
import { ITEM_KINDS } from '../domain/event.js';
import { STAGES } from '../domain/stage.js';

/**
 * The self-serve status portal (PRODUCT.md C4): what a stakeholder, a support
 * agent or an executive sees of an item, in plain words, without a tracker
 * seat. Only items and fields the charter's `portal` section makes visible;
 * items marked security-sensitive never appear on any portal surface. No
 * comments, no internal chatter, no assignee unless the charter shows it.
 */

export const portalSearchQuerySchema = z.strictObject({
  q: z.string().max(500).optional().describe('Words, an item key, or a pasted tracker or Slack link naming an item.'),
  reporter: z.string().min(1).max(320).optional().describe('Items reported by this person (id or identity).'),
  customer: z.string().min(1).max(200).optional().describe('Items for this customer or account.'),
  team: z.string().min(1).max(64).optional(),
  component: z.string().min(1).max(120).optional(),
  stage: z.enum(STAGES).optional(),
  mine: z.enum(['reported', 'followed']).optional().describe("The signed-in user's own items."),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type PortalSearchQuery = z.infer<typeof portalSearchQuerySchema>;

/** A field is null when the charter hides it from the portal (or the item has none). */
export const portalItemSummarySchema = z.object({
  key: z.string(),
  kind: z.enum(ITEM_KINDS),
  title: z.string().nullable(),
  severity: z.string().nullable(),
  team: z.string().nullable(),
  component: z.string().nullable(),
  customer: z.string().nullable(),
  stage: z.enum(STAGES),
  stageLabel: z.string(),
  updatedAt: z.string(),
});
export type PortalItemSummary = z.infer<typeof portalItemSummarySchema>;

export const portalSearchResultSchema = z.object({
  items: z.array(portalItemSummarySchema),
  nextCursor: z.string().nullable(),
  /** Set when `q` named an item directly (a key or a link) and it is visible. */
  exact: z.string().nullable(),
});
export type PortalSearchResult = z.infer<typeof portalSearchResultSchema>;

export const stageEvidenceSchema = z.object({
  /** Plain words: "Pull request #412 was merged", "Deployed to production (deploy-8812)". */
  summary: z.string(),
  source: z.string(),
  url: z.string().nullable(),
});

export const stageStepSchema = z.object({
  id: z.string(),
  at: z.string(),
  from: z.enum(STAGES).nullable(),
  to: z.enum(STAGES),
  label: z.string(),
  evidence: stageEvidenceSchema,
});
export type StageStep = z.infer<typeof stageStepSchema>;

export const portalItemSchema = portalItemSummarySchema.extend({
  /** One sentence: where it stands. */
  status: z.string(),
  /** What happens next, in plain words. */
  next: z.string(),
  /** When the next update is due per the charter's response targets for its severity; null when none applies. */
  nextUpdateDue: z.string().nullable(),
  /** The response target that sets `nextUpdateDue`, e.g. "an update every 4 hours for high severity". */
  responseTarget: z.string().nullable(),
  /** The original of a duplicate, when known and visible (its key, for a link to its page). */
  duplicateOf: z.string().nullable(),
  /** A linked incident, when there is one and it is visible. */
  incident: z
    .object({ key: z.string(), title: z.string().nullable(), stage: z.enum(STAGES), stageLabel: z.string() })
    .nullable(),
  history: z.array(stageStepSchema),
  related: z.array(portalItemSummarySchema),
  /** Whether the signed-in user follows it (false for a share link). */
  following: z.boolean(),
  reportedAt: z.string(),
});
export type PortalItem = z.infer<typeof portalItemSchema>;

export const portalItemParamsSchema = z.strictObject({ key: z.string().min(1).max(120) });

/** A read-only link to one item for people without an account: unguessable, revocable. */
export const shareLinkSchema = z.object({
  id: z.string(),
  itemKey: z.string(),
  /** The full secret URL; only returned when the link is created. */
  url: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string(),
  revokedAt: z.string().nullable(),
});
export type ShareLink = z.infer<typeof shareLinkSchema>;

export const shareLinksSchema = z.object({ links: z.array(shareLinkSchema) });
export const shareLinkParamsSchema = z.strictObject({ id: z.string().min(1).max(100) });
export const shareTokenParamsSchema = z.strictObject({ token: z.string().min(10).max(200) });
