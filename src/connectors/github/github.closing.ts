import { ruleOfLabel, ruleOfMilestone, type GithubMapping } from '../../domain/connector.mapping.js';
import type { Change } from '../../domain/event.js';

/**
 * How a GitHub issue ended and what it duplicates, read from what GitHub and
 * the repository's own workflow say: `state_reason`, closing-reason labels
 * (`wontfix`, `invalid`, `duplicate`, …), milestones the charter gives a
 * meaning (`connectors.github.milestones`), `marked_as_duplicate` and
 * "Duplicate of #12" comments. Pure; `github.mapper.ts` turns these into events.
 */

/** The first closing reason the labels give (charter first, then Lanes' defaults). */
export const resolutionOfLabels = (
  mapping: GithubMapping | undefined,
  labels: readonly string[],
): string | undefined => {
  for (const label of labels) {
    const rule = ruleOfLabel(mapping, label);
    if (rule?.resolution && !rule.ignore) return rule.resolution;
  }
  return undefined;
};

/**
 * The resolution a closing records: GitHub's `state_reason`, unless that is the
 * default `completed` (or absent, as before 2022) and a label or milestone with
 * a resolution says how it really ended. GitHub's own reason is kept beside it
 * (`data.stateReason`).
 */
export const closingResolution = (
  mapping: GithubMapping | undefined,
  reason: string | null | undefined,
  labels: readonly string[],
  milestone?: string | null,
): string => {
  const stated = reason ?? 'completed';
  if (stated !== 'completed') return stated;
  const byMilestone = milestone ? ruleOfMilestone(mapping, milestone)?.resolution : undefined;
  return resolutionOfLabels(mapping, labels) ?? byMilestone ?? stated;
};

/**
 * The changes a milestone the charter gives a meaning makes besides being set,
 * each with the suffix of its event id: the workflow state of an open item
 * (`needsdiagnosis` → acknowledged, `sitewait` → waiting; `data.via` tells the
 * projection never to reopen a closed item with it), or how the item ended.
 */
export const milestoneMeaning = (
  mapping: GithubMapping | undefined,
  title: string,
  added: boolean,
): { suffix: 'state' | 'resolution'; change: Change }[] => {
  const rule = ruleOfMilestone(mapping, title);
  if (!rule || rule.ignore) return [];
  const data = { via: 'milestone', milestone: title.slice(0, 500) };
  const out: { suffix: 'state' | 'resolution'; change: Change }[] = [];
  if (rule.state && added)
    out.push({ suffix: 'state', change: { kind: 'field_changed', field: 'state', to: rule.state, data } });
  if (rule.resolution) {
    out.push({
      suffix: 'resolution',
      change: added
        ? { kind: 'field_changed', field: 'resolution', to: rule.resolution, data }
        : { kind: 'field_changed', field: 'resolution', from: rule.resolution, to: null, data },
    });
  }
  return out;
};

/** `owner/name#12` when it is an item key the event schema accepts (as `isItemKey` in the mapper). */
const keyOf = (repo: string, number: number): string | null => {
  const key = `${repo}#${number}`;
  return Number.isSafeInteger(number) && key.length <= 120 && /^[A-Za-z0-9][A-Za-z0-9._:/#-]*$/.test(key) ? key : null;
};

/** GitHub's own way to name the original: a comment that starts "Duplicate of #12" (or `owner/repo#12`, or a link). */
const DUPLICATE_OF =
  /^\s*duplicate\s+of\s+(?:([A-Za-z0-9][\w.-]*\/[\w.-]+)?#(\d+)|https?:\/\/[^\s/]+\/([A-Za-z0-9][\w.-]*\/[\w.-]+)\/(?:issues|pull)\/(\d+))/i;

/** The item a "Duplicate of #12" comment names, or null. */
export const duplicateOfComment = (repo: string, body: string | null | undefined): string | null => {
  const match = DUPLICATE_OF.exec(body ?? '');
  return match ? keyOf(match[1] ?? match[3] ?? repo, Number(match[2] ?? match[4])) : null;
};

/**
 * The original a `marked_as_duplicate` timeline event names, when GitHub gives
 * it (`canonical`, or `source.issue`); GitHub's REST description promises
 * neither, so without them the original comes from the "Duplicate of" comment.
 */
export const canonicalOf = (repo: string, ev: { canonical?: unknown; source?: unknown }): string | null => {
  const source = ev.source as { issue?: unknown } | null | undefined;
  const candidate = (ev.canonical ?? source?.issue) as
    { number?: unknown; repository?: { full_name?: unknown } | null } | null | undefined;
  if (!candidate || typeof candidate.number !== 'number') return null;
  const fullName = candidate.repository?.full_name;
  return keyOf(typeof fullName === 'string' ? fullName : repo, candidate.number);
};

/** Author associations of people who can triage: GitHub marks an issue a duplicate only for their comments. */
export const canMarkDuplicates = (association: unknown): boolean =>
  typeof association === 'string' && ['OWNER', 'MEMBER', 'COLLABORATOR'].includes(association.toUpperCase());
