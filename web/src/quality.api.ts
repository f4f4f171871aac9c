import type { Finding, SignalRow } from '../../src/api/quality.contract.js';
import { request as apiRequest } from './api';

/**
 * The Quality page's and the Escalations inbox's calls. The same error
 * semantics as `api.ts` (an `ApiError` with the API's code); writes carry the
 * session's CSRF token, passed in by the page. The response shapes are
 * declared here until they land in src/api.
 */

export type { Finding, SignalRow };
export type FindingState = Finding['state'];
export type DoraBand = 'elite' | 'high' | 'medium' | 'low';

export interface HistoryEntry {
  at: string;
  from: FindingState | null;
  to: FindingState;
  by: string;
  byName?: string;
  planUrl?: string;
  reason?: string;
}

export interface Escalation {
  id: string;
  finding: Finding;
  active: boolean;
  state: FindingState;
  addressedTo: { id: string; name: string; role: string } | null;
  planUrl: string | null;
  reason: string | null;
  history: HistoryEntry[];
  updatedAt: string;
  reopenedCount: number;
}

export interface BriefCrossing {
  eventId: string;
  itemKey: string | null;
  itemTitle: string | null;
  component: string | null;
  occurredAt: string;
  domain: string;
  actorRole: string;
  direction: string;
  sentence: string;
}

export interface EscalationBrief extends Escalation {
  crossings: BriefCrossing[];
  crossingCount: number;
  transitions: FindingState[];
}

export interface CurrentFigure {
  signal: string;
  component: string | null;
  week: string;
  value: number | null;
  band: DoraBand | null;
  details: Record<string, unknown> | null;
}

export interface SloView {
  name: string;
  displayName: string | null;
  component: string | null;
  target: number;
  windowDays: number;
  budgetRemaining: number | null;
  burn?: { window?: string; rate?: number | null; [k: string]: unknown }[];
  alertsFiring?: { rule: string; severity: string; firedAt: string }[];
}

export interface QualityOverview {
  team: { id: string; name: string; components: string[] };
  component: string | null;
  weeks: number;
  doraYear: '2023' | '2024';
  currentWeek: string;
  signals: SignalRow[];
  current: CurrentFigure[];
  slo: SloView[];
  findings: Escalation[];
}

export const STATE_LABELS: Record<FindingState, string> = {
  open: 'Open',
  acknowledged: 'Acknowledged',
  action_planned: 'Action planned',
  resolved: 'Resolved',
  dismissed: 'Dismissed',
};

interface Options {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal | undefined;
  csrfToken?: string | undefined;
}

/** Calls go through `request` in `api.ts` (the CSRF token comes from the session there; `csrfToken` is not needed). */
const request = <T>(method: string, path: string, options: Options = {}): Promise<T> =>
  apiRequest<T>(method, path, {
    ...(options.query ? { query: options.query } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });

const enc = encodeURIComponent;

export const qualityApi = {
  quality: (
    q: { team: string; component?: string | undefined; weeks?: number; dora_year?: string | undefined },
    signal?: AbortSignal,
  ) => request<QualityOverview>('GET', '/api/v1/quality', { query: q, signal }),
  escalations: (q: { team?: string | undefined; all?: 'true' | undefined }, signal?: AbortSignal) =>
    request<{ escalations: Escalation[] }>('GET', '/api/v1/escalations', { query: q, signal }),
  brief: (id: string, signal?: AbortSignal) =>
    request<EscalationBrief>('GET', `/api/v1/escalations/${enc(id)}`, { signal }),
  transition: (
    id: string,
    input: { to: FindingState; planUrl?: string | undefined; reason?: string | undefined },
    csrfToken: string,
  ) => request<EscalationBrief>('POST', `/api/v1/escalations/${enc(id)}/transition`, { body: input, csrfToken }),
};

export const escalationPath = (id: string): string => `/escalations/${encodeURIComponent(id)}`;
