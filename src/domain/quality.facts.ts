import type { LoggedEvent } from './event.js';
import { deploymentFactsOf } from './stage.evidence.js';

/**
 * The compact facts DORA and review rigor read (docs/dora.md): one record per
 * pull request, merged from all its events whatever order they arrive in, and
 * one per successful production deployment event. Pure: the store keeps them
 * in the append transaction and the full rebuild replays the log through the
 * same functions.
 */

/** The event kinds that carry quality facts. */
export const FACT_KINDS = ['pr_opened', 'review_submitted', 'pr_merged', 'deployed'] as const;

export interface PrFact {
  prKey: string;
  repo: string | null;
  number: string;
  itemKey: string | null;
  openedAt: string | null;
  firstCommitAt: string | null;
  firstReviewAt: string | null;
  mergedAt: string | null;
  mergeSha: string | null;
  approved: boolean;
  discussed: boolean;
  size: number | null;
}

export interface DeploymentFact {
  eventId: string;
  repo: string | null;
  service: string | null;
  deploymentId: string;
  environment: string;
  at: string;
  shas: string[];
  prs: string[];
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const idOf = (v: unknown): string | null =>
  typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
const count = (v: unknown): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
};
/** An ISO time from a payload field, normalised, or null. */
const isoOf = (v: unknown): string | null => {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
};

/** The earlier of two ISO times (null is "unknown", never the earlier). */
export const earlier = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null ? a : a <= b ? a : b;

/** The PR record one event contributes, or null when it names no PR. */
export const prFactOf = (e: Pick<LoggedEvent, 'kind' | 'data' | 'occurredAt' | 'itemKey'>): PrFact | null => {
  if (e.kind !== 'pr_opened' && e.kind !== 'review_submitted' && e.kind !== 'pr_merged') return null;
  const data = e.data ?? {};
  const repo = text(data['repo']);
  const number = idOf(data['pr']);
  if (number === null || (repo === null && e.itemKey === null)) return null;
  const state = text(data['state'])?.toLowerCase() ?? null;
  const size = count(data['additions']) + count(data['deletions']);
  const review = e.kind === 'review_submitted';
  return {
    prKey: `${repo ?? e.itemKey}#${number}`,
    repo,
    number,
    itemKey: e.itemKey,
    openedAt: e.kind === 'pr_opened' ? e.occurredAt : null,
    firstCommitAt: isoOf(data['firstCommitAt']),
    firstReviewAt: review ? e.occurredAt : null,
    mergedAt: e.kind === 'pr_merged' ? e.occurredAt : null,
    mergeSha: e.kind === 'pr_merged' ? (text(data['mergeCommitSha'])?.toLowerCase() ?? null) : null,
    approved: review && state === 'approved',
    discussed: review && (state === 'changes_requested' || state === 'commented' || count(data['comments']) > 0),
    size: data['additions'] === undefined && data['deletions'] === undefined ? null : size,
  };
};

/** Two records of the same PR as one: the earliest times, either review outcome, the largest size. */
export const mergePrFacts = (a: PrFact, b: PrFact): PrFact => ({
  prKey: a.prKey,
  repo: a.repo ?? b.repo,
  number: a.number,
  itemKey: a.itemKey ?? b.itemKey,
  openedAt: earlier(a.openedAt, b.openedAt),
  firstCommitAt: earlier(a.firstCommitAt, b.firstCommitAt),
  firstReviewAt: earlier(a.firstReviewAt, b.firstReviewAt),
  mergedAt: earlier(a.mergedAt, b.mergedAt),
  mergeSha: a.mergeSha ?? b.mergeSha,
  approved: a.approved || b.approved,
  discussed: a.discussed || b.discussed,
  size: a.size === null ? b.size : b.size === null ? a.size : Math.max(a.size, b.size),
});

/** The deployment record of a successful production deployment event with a repository or service, else null. */
export const deploymentFactOf = (
  e: Pick<LoggedEvent, 'id' | 'kind' | 'data' | 'occurredAt'>,
): DeploymentFact | null => {
  const facts = deploymentFactsOf(e);
  if (!facts || !facts.production || !facts.success) return null;
  const data = e.data ?? {};
  const repo = text(data['repo']);
  const service = text(data['service']);
  if (repo === null && service === null) return null;
  const prs = [data['pr'], ...(Array.isArray(data['prs']) ? (data['prs'] as unknown[]).slice(0, 1000) : [])]
    .map(idOf)
    .filter((p): p is string => p !== null);
  return {
    eventId: e.id,
    repo,
    service,
    deploymentId: facts.id ?? e.id,
    environment: facts.environment,
    at: e.occurredAt,
    shas: facts.shas,
    prs: [...new Set(prs)],
  };
};

/** The facts of a batch of events: PRs merged per key (one record each), deployments one per event. */
export const factsOf = (
  events: readonly Pick<LoggedEvent, 'id' | 'kind' | 'data' | 'occurredAt' | 'itemKey'>[],
): { prs: PrFact[]; deployments: DeploymentFact[] } => {
  const prs = new Map<string, PrFact>();
  const deployments: DeploymentFact[] = [];
  for (const e of events) {
    if (e.kind === 'deployed') {
      const d = deploymentFactOf(e);
      if (d) deployments.push(d);
      continue;
    }
    const pr = prFactOf(e);
    if (!pr) continue;
    const seen = prs.get(pr.prKey);
    prs.set(pr.prKey, seen ? mergePrFacts(seen, pr) : pr);
  }
  return { prs: [...prs.values()], deployments };
};
