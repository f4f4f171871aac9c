import type { Finding, SignalRow } from '../../src/api/quality.contract.js';
import { ApiError } from './api';

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

const isErrorBody = (value: unknown): value is { error: { code: string; message: string; details?: unknown } } => {
  const error = (value as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
};

const withQuery = (path: string, query: Options['query']): string => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
};

const request = async <T>(method: string, path: string, options: Options = {}): Promise<T> => {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.csrfToken) headers['x-csrf-token'] = options.csrfToken;
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal ?? null,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError(0, 'LANES_NETWORK', 'Could not reach the Lanes server. Check your connection and try again.');
  }
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // A proxy's HTML error page, for instance; reported below with the status.
  }
  if (!response.ok) {
    throw isErrorBody(body)
      ? new ApiError(response.status, body.error.code, body.error.message, body.error.details)
      : new ApiError(
          response.status,
          `HTTP_${response.status}`,
          `The server answered ${response.status} ${response.statusText}.`,
        );
  }
  if (body === undefined) {
    throw new ApiError(response.status, 'LANES_BAD_RESPONSE', 'The server sent an answer that is not JSON.');
  }
  return body as T;
};

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
