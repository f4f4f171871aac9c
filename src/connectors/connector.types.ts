import type { UnmappedCategory } from '../domain/connector.mapping.js';
import type { EventInput } from '../domain/event.js';

/**
 * The contracts every connector (GitHub, Jira, Linear, files) implements. A
 * connector holds no state and does no database work: webhook providers verify
 * and describe deliveries and map payloads to events; sync streams fetch pages
 * through `SyncHttp` and map them. Storage, checkpoints, retries and progress
 * belong to the services that drive them.
 */

/** Records a value a mapper met but could not translate (shown by `lanes sources`). */
export type UnmappedSink = (category: UnmappedCategory, value: string) => void;

export interface MapContext<M> {
  /** The connector's section of `lanes.yaml` (`connectors.github`, ...), if any. */
  mapping: M | undefined;
  unmapped: UnmappedSink;
  /** When the webhook delivery was received, for payloads that carry no time of their own. */
  receivedAt?: string | undefined;
}

/** Request headers with lower-case names. */
export type WebhookHeaders = Readonly<Record<string, string | undefined>>;

export interface DeliveryDescription {
  /** The provider's delivery id (GitHub `X-GitHub-Delivery`, ...); a delivery seen twice is stored once. */
  deliveryId: string;
  /** e.g. `issues.labeled`, `jira:issue_updated`, `Issue.update`. */
  eventType: string;
}

export interface WebhookProvider<M> {
  readonly name: 'github' | 'jira' | 'linear';
  /** Where the provider's secret comes from, for messages (e.g. `LANES_GITHUB_WEBHOOK_SECRET`). */
  readonly secretName: string;
  /**
   * Throws `AppError('LANES_WEBHOOK_SIGNATURE')` unless the signature header
   * matches an HMAC of the raw body. Runs before the body is parsed.
   */
  verify(secret: string, rawBody: Buffer, headers: WebhookHeaders): Promise<void>;
  /**
   * After verification and JSON parsing: the delivery's id and type. May throw
   * `LANES_WEBHOOK_STALE` (timestamp outside the accepted window) or
   * `LANES_VALIDATION` (not a payload of this provider at all).
   */
  describe(payload: unknown, rawBody: Buffer, headers: WebhookHeaders, now: Date): DeliveryDescription;
  /**
   * When the headers alone identify the delivery (GitHub), the body is stored
   * without being parsed first, which keeps the acknowledgement fast; the JSON
   * is parsed when the delivery is mapped, and a body that is not JSON makes
   * the delivery `failed` then. `refineEventType` completes the type from the
   * parsed body (GitHub's `action`).
   */
  describeFromHeaders?(rawBody: Buffer, headers: WebhookHeaders, now: Date): DeliveryDescription;
  refineEventType?(eventType: string, payload: unknown): string;
  /**
   * Maps a stored delivery to events, or returns null when Lanes does not map
   * this event type (the delivery stays stored raw and is counted).
   */
  map(eventType: string, payload: unknown, ctx: MapContext<M>): EventInput[] | null;
}

// ---------------------------------------------------------------- sync

export interface HttpRequest {
  method?: 'GET' | 'POST';
  /** Absolute URL, or a path resolved against the client's base URL. */
  url: string;
  query?: Readonly<Record<string, string | number | undefined>>;
  /** JSON body (POST). */
  body?: unknown;
  /** ETag from an earlier response: sends `If-None-Match`; a 304 comes back with `body: null`. */
  etag?: string | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or null for 204/304. */
  body: unknown;
  /** The final URL. */
  url: string;
}

/**
 * An HTTP client that already handles auth, timeouts, retries of 5xx and
 * network errors, primary and secondary rate limits (waiting and saying so),
 * and refuses anything but 2xx/304 with `AppError('LANES_UPSTREAM_FAILED')`.
 */
export interface SyncHttp {
  request(req: HttpRequest): Promise<HttpResponse>;
}

/** One stored step of a stream: its events are appended, then `cursor` is saved. */
export interface SyncPage {
  events: EventInput[];
  /** Opaque resume point after this page (a URL, a JSON string), or null when the stream is complete. */
  cursor: string | null;
  /** How many of the stream's units (issues, pull requests, runs) this page covered. */
  units: number;
  /** Total units when the API says so (for the ETA). */
  total?: number | undefined;
  /** Validators to remember once this page is stored: request URL → ETag. */
  etags?: Record<string, string>;
}

export interface SyncStreamArgs<M> {
  http: SyncHttp;
  /** Where the last run stopped (null: from the start). */
  cursor: string | null;
  /** Only what changed at or after this instant (ISO), when the API can filter. */
  since: string | null;
  /** ETags remembered from earlier runs, by request URL. */
  etag(url: string): string | undefined;
  ctx: MapContext<M>;
}

export interface SyncStream<M> {
  /** e.g. `issues`, `pulls`, `deployments`, `runs`. */
  name: string;
  /** What `units` counts, e.g. `issues`. */
  unit: string;
  pages(args: SyncStreamArgs<M>): AsyncIterable<SyncPage>;
}

export interface SyncPlan<M> {
  /** Event source name, e.g. `github`. */
  source: string;
  /** What is synced, e.g. `acme/payments`, `PAY`, `ENG`. */
  scope: string;
  streams: SyncStream<M>[];
}
