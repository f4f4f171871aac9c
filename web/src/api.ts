import type {
  ErrorBody,
  EventDto,
  ItemDetail,
  ItemDto,
  ItemPage,
  ItemSummaryDto,
} from '../../src/api/items.contract.js';
import type { SourceView } from '../../src/api/sources.contract.js';
import type {
  BoundaryReport,
  CrossingExample,
  DirectionCounts,
  DomainReport,
  MiddlemanReport,
  MiddlemanTeam,
  MiddlemanWeek,
  TeamBoundaryReport,
  WeekReport,
} from '../../src/api/boundaries.contract.js';

/**
 * The web app's view of the HTTP contract and its one fetch wrapper. Types come
 * from src/api where a contract file exists; the rest are declared here until
 * their contract lands in src/api.
 */

export type { EventDto, ItemDetail, ItemDto, ItemPage, ItemSummaryDto, SourceView };
export type {
  BoundaryReport,
  CrossingExample,
  DirectionCounts,
  DomainReport,
  MiddlemanReport,
  MiddlemanTeam,
  MiddlemanWeek,
  TeamBoundaryReport,
  WeekReport,
};

export type Stage = ItemDto['stage'];
export type ItemKind = ItemDto['kind'];
export type UserRole = 'admin' | 'member' | 'stakeholder';

export { STAGES, STAGE_LABELS } from '../../src/api/stages.js';

export const KIND_LABELS = {
  bug: 'Bug',
  incident: 'Incident',
  tech_debt: 'Tech debt',
  feature: 'Feature',
  task: 'Task',
} as const satisfies Record<ItemKind, string>;
export const KINDS = Object.keys(KIND_LABELS) as ItemKind[];

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: UserRole;
}
export interface Session {
  user: SessionUser;
  csrfToken: string;
}

export interface Overview {
  workspace: { id: string; name: string };
  totals: { items: number; events: number };
  teams: { id: string; name: string; components: string[]; members: number; open: number; total: number }[];
  byKindStage: { kind: ItemKind; stage: Stage; count: number }[];
  recent: { event: EventDto; itemKey: string | null; itemTitle: string | null }[];
  freshness: {
    source: string;
    eventCount: number;
    duplicateCount: number;
    lastOccurredAt: string | null;
    lastReceivedAt: string;
  }[];
}

export interface Party {
  group: string;
  label: string;
  people: { id: string; name: string; role: string }[];
}
export interface DomainRef {
  id: string;
  title: string;
  question: string;
}
export interface CellDelegation {
  from: string;
  to: string;
  until: string;
  reason: string;
}
export interface DecisionRights {
  domains: DomainRef[];
  teams: { id: string; name: string }[];
  cells: {
    domain: string;
    team: string;
    decides: Party;
    consulted: Party[];
    informed: Party[];
    delegations: CellDelegation[];
  }[];
  delegations: (CellDelegation & { domain: string; team: string | null })[];
}

export interface WhoDecidesAnswer {
  matched: DomainRef | null;
  closest: DomainRef[];
  text: string;
}

/** The parts of GET /api/v1/charter the web uses (the full shape is lanes.yaml's). */
export interface CharterSummary {
  workspace: { id: string; name: string };
  people?: { id: string; name: string; role: string }[];
  teams: { id: string; name: string; components?: string[] }[];
  response_targets?: Record<string, unknown>;
}

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  createdAt: string;
}
export interface AuditEntry {
  id: string;
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  details: unknown;
}
export interface ApiToken {
  id: string;
  name: string;
  /** read, write, events:write, events:write:<source>, admin. */
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** The query of `GET /api/v1/boundaries` and `GET /api/v1/middleman`: a team id, and `90d` or a date. */
export interface BoundaryQuery {
  team?: string;
  since?: string;
}

export interface ItemFilters {
  team?: string;
  kind?: string;
  stage?: string;
  component?: string;
  severity?: string;
  assignee?: string;
  q?: string;
}

/** Which sign-in methods the server offers (GET /api/v1/auth/methods). */
export interface AuthMethods {
  password: boolean;
  oidc: { name: string; startUrl: string } | null;
}

/** An error from the API (or from reaching it), with the stable code a person can quote. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthenticated: (() => void) | null = null;

/** Called when a request finds the session gone (expired or logged out elsewhere). */
export const setUnauthenticatedHandler = (handler: (() => void) | null): void => {
  onUnauthenticated = handler;
};

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** When false, a 401 does not end the session in the app (login, session probe, prefetch). */
  sessionBound?: boolean;
}

const isErrorBody = (value: unknown): value is ErrorBody =>
  typeof value === 'object' &&
  value !== null &&
  'error' in value &&
  typeof (value as ErrorBody).error?.code === 'string' &&
  typeof (value as ErrorBody).error?.message === 'string';

const withQuery = (path: string, query: RequestOptions['query']): string => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
};

/** The one request of the web app: JSON, the session's CSRF token on writes, `ApiError` with the API's code, sign-in again on 401. */
export const request = async <T>(method: string, path: string, options: RequestOptions = {}): Promise<T> => {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError(0, 'LANES_NETWORK', 'Could not reach the Lanes server. Check your connection and try again.');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // A proxy's HTML error page, for instance; reported below with the status.
  }
  if (!response.ok) {
    const error = isErrorBody(body)
      ? new ApiError(response.status, body.error.code, body.error.message, body.error.details)
      : new ApiError(
          response.status,
          `HTTP_${response.status}`,
          `The server answered ${response.status} ${response.statusText}.`,
        );
    if (response.status === 401 && options.sessionBound !== false) {
      csrfToken = null;
      onUnauthenticated?.();
    }
    throw error;
  }
  if (body === undefined) {
    throw new ApiError(response.status, 'LANES_BAD_RESPONSE', 'The server sent an answer that is not JSON.');
  }
  return body as T;
};

const rememberSession = (session: Session): Session => {
  csrfToken = session.csrfToken;
  return session;
};

const enc = encodeURIComponent;

export const api = {
  getSession: async (signal?: AbortSignal): Promise<Session | null> => {
    try {
      return rememberSession(await request<Session>('GET', '/api/v1/session', { signal, sessionBound: false }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  },
  login: async (email: string, password: string): Promise<Session> =>
    rememberSession(
      await request<Session>('POST', '/api/v1/session', { body: { email, password }, sessionBound: false }),
    ),
  /** Signs out; for a session from the identity provider, returns its logout page to visit next. */
  logout: async (): Promise<string | undefined> => {
    try {
      const ended = await request<{ endSessionUrl: string } | undefined>('DELETE', '/api/v1/session', {
        sessionBound: false,
      });
      return ended?.endSessionUrl;
    } finally {
      csrfToken = null;
    }
  },
  authMethods: (signal?: AbortSignal) =>
    request<AuthMethods>('GET', '/api/v1/auth/methods', { signal, sessionBound: false }),

  overview: (signal?: AbortSignal, sessionBound = true) =>
    request<Overview>('GET', '/api/v1/overview', { signal, sessionBound }),
  charter: (signal?: AbortSignal) => request<CharterSummary>('GET', '/api/v1/charter', { signal }),
  rights: (signal?: AbortSignal) => request<DecisionRights>('GET', '/api/v1/charter/rights', { signal }),
  whoDecides: (q: string, signal?: AbortSignal) =>
    request<WhoDecidesAnswer>('GET', '/api/v1/who-decides', { query: { q }, signal }),

  items: (filters: ItemFilters, cursor: string | null, signal?: AbortSignal) =>
    request<ItemPage>('GET', '/api/v1/items', {
      query: { ...filters, cursor: cursor ?? undefined, limit: 50 },
      signal,
    }),
  item: (key: string, signal?: AbortSignal) => request<ItemDetail>('GET', `/api/v1/items/${enc(key)}`, { signal }),

  sources: (signal?: AbortSignal) => request<{ sources: SourceView[] }>('GET', '/api/v1/sources', { signal }),

  boundaries: (query: BoundaryQuery, signal?: AbortSignal) =>
    request<BoundaryReport>('GET', '/api/v1/boundaries', { query: { ...query }, signal }),
  middleman: (query: BoundaryQuery, signal?: AbortSignal) =>
    request<MiddlemanReport>('GET', '/api/v1/middleman', { query: { ...query }, signal }),

  users: (signal?: AbortSignal) => request<{ users: UserRow[] }>('GET', '/api/v1/users', { signal }),
  audit: (signal?: AbortSignal) => request<{ entries: AuditEntry[] }>('GET', '/api/v1/audit', { signal }),
  tokens: (signal?: AbortSignal) => request<{ tokens: ApiToken[] }>('GET', '/api/v1/tokens', { signal }),
  createToken: (name: string, scopes: string[]) =>
    request<{ token: ApiToken; secret: string }>('POST', '/api/v1/tokens', { body: { name, scopes } }),
  revokeToken: (id: string) => request<void>('DELETE', `/api/v1/tokens/${enc(id)}`),
};

let sessionPrefetch: Promise<Session | null> | null = null;
let overviewPrefetch: Promise<Overview> | null = null;

/**
 * Asks who is signed in as soon as the script runs, before React first renders;
 * on `/` also starts loading the overview alongside, so a signed-in person waits
 * for one round trip instead of two.
 */
export const prefetchStart = (path: string): void => {
  sessionPrefetch = api.getSession();
  sessionPrefetch.catch(() => undefined);
  if (path === '/') {
    overviewPrefetch = api.overview(undefined, false);
    overviewPrefetch.catch(() => undefined);
  }
};

/** The session check started by `prefetchStart`, once; later checks ask the server again. */
export const takeSession = (signal: AbortSignal): Promise<Session | null> => {
  const pending = sessionPrefetch;
  sessionPrefetch = null;
  return pending ?? api.getSession(signal);
};

/** The prefetched overview, once; falls back to a fresh request when the prefetch failed. */
export const takeOverview = (signal: AbortSignal): Promise<Overview> => {
  const pending = overviewPrefetch;
  overviewPrefetch = null;
  return pending ? pending.catch(() => api.overview(signal)) : api.overview(signal);
};
