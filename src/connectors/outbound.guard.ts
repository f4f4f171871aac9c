import { promises as dns, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import {
  addressRefusal,
  allowedRanges,
  hostAllowed,
  isLoopbackName,
  NO_OUTBOUND_ALLOWANCES,
  type OutboundAllow,
} from './outbound.address.js';

/**
 * The one way Lanes requests a URL that a user gave it (outgoing webhooks
 * today; any future user-given URL goes through here too). Only http: and
 * https: without credentials; a literal IP host is judged before anything is
 * sent; a host name is resolved by the `lookup` handed to the socket, so the
 * address judged is the address connected to (no DNS-rebinding gap); redirects
 * are returned, never followed. What is refused is in `outbound.address.ts`;
 * `LANES_OUTBOUND_ALLOW` lets named hosts or ranges through.
 */

/** Why a request was not made or did not complete. */
export type OutboundErrorReason = 'invalid' | 'forbidden' | 'timeout' | 'network';

export class OutboundError extends Error {
  override readonly name = 'OutboundError';
  constructor(
    readonly reason: OutboundErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** Resolves a host name to all its addresses (tests inject one). */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: 'invalid' | 'forbidden'; message: string };

const unbracket = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1');
const nameOf = (hostname: string) => hostname.toLowerCase().replace(/\.$/, '');

const verdictOf = (address: string, allow: OutboundAllow, names: boolean): UrlVerdict => {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return { ok: false, reason: 'invalid', message: 'not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'invalid', message: 'only http:// and https:// URLs can be called' };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'invalid', message: 'the URL must not hold a user name or password' };
  }
  const host = unbracket(url.hostname);
  if (isIP(host) !== 0) {
    const refusal = addressRefusal(host, allowedRanges(allow));
    return refusal === null ? { ok: true, url } : { ok: false, reason: 'forbidden', message: refusal };
  }
  const name = nameOf(host);
  if (names && isLoopbackName(name) && !hostAllowed(allow, name)) {
    return { ok: false, reason: 'forbidden', message: `${name} names this machine` };
  }
  return { ok: true, url };
};

/**
 * Judges a URL without resolving anything (what subscription forms can say at
 * once): the scheme, credentials, a literal IP host in any notation the URL
 * standard reads (2130706433, 0177.0.0.1, 0x7f.1, [::ffff:127.0.0.1]) and names
 * that always mean this machine (localhost). Host names are judged again when
 * the request is made, on the addresses they resolve to then.
 */
export const checkOutboundUrl = (address: string, allow: OutboundAllow = NO_OUTBOUND_ALLOWANCES): UrlVerdict =>
  verdictOf(address, allow, true);

/** One request's method, headers, body and limits. */
export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** For the whole exchange: resolving, connecting, sending and reading the answer. */
  timeoutMs: number;
  /** Bytes of the answer's body kept (default 64 KiB); the rest is not read. */
  maxResponseBytes?: number;
}

/** The answer, as it came: a 3xx is returned with its `location`, not followed. */
export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface OutboundGuard {
  /** `checkOutboundUrl` with this guard's allowances. */
  check(url: string): UrlVerdict;
  /**
   * A `lookup` for `net.connect`, `http.request` and agents: resolves the name,
   * keeps only the addresses that may be connected to, and fails with an
   * `OutboundError('forbidden')` when none is left.
   */
  lookup: LookupFunction;
  /** Makes one request; throws `OutboundError` when it is refused, times out or cannot connect. */
  request(url: string, init: OutboundRequest): Promise<OutboundResponse>;
  /** Closes pooled connections. */
  close(): void;
}

export interface OutboundGuardOptions {
  /** `LANES_OUTBOUND_ALLOW`, read by `loadConfig`; nothing internal is allowed by default. */
  allow?: OutboundAllow | undefined;
  /** Default: the system resolver (`dns.lookup`, all addresses). */
  resolve?: Resolve | undefined;
}

/** Bytes of an answer read past `maxResponseBytes` before the connection is dropped instead. */
const DRAIN_BYTES = 64 * 1024;

const systemResolve: Resolve = (hostname) => dns.lookup(hostname, { all: true });

const lookupWith = (allow: OutboundAllow, resolve: Resolve): LookupFunction => {
  const ranges = allowedRanges(allow);
  return (hostname, options, callback) => {
    const name = nameOf(hostname);
    resolve(hostname).then(
      (found) => {
        const permitted = hostAllowed(allow, name)
          ? found
          : found.filter((a) => addressRefusal(a.address, ranges) === null);
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const wanted = family ? permitted.filter((a) => a.family === family) : permitted;
        const first = wanted[0];
        if (!first) {
          const refusals = found.map((a) => addressRefusal(a.address, ranges)).filter((r) => r !== null);
          const message =
            refusals.length > 0
              ? `${name} resolves only to addresses Lanes may not call (${refusals.join('; ')})`
              : `${name} has no address Lanes can use`;
          callback(new OutboundError('forbidden', message), '');
          return;
        }
        if (options.all) callback(null, wanted);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
};

const describeNetworkError = (error: NodeJS.ErrnoException): string => {
  const code = error.code ? ` (${error.code})` : '';
  return `could not connect: ${error.message}${error.message.includes(error.code ?? '\0') ? '' : code}`;
};

/** Builds the guard that every request to a user-given URL goes through. */
export const createOutboundGuard = (options: OutboundGuardOptions = {}): OutboundGuard => {
  const allow = options.allow ?? NO_OUTBOUND_ALLOWANCES;
  const lookup = lookupWith(allow, options.resolve ?? systemResolve);
  // Keep-alive sockets were judged when they connected; a new connection is judged again.
  const agents = {
    'http:': new http.Agent({ keepAlive: true, timeout: 30_000, lookup }),
    'https:': new https.Agent({ keepAlive: true, timeout: 30_000, lookup }),
  };

  const request = (address: string, init: OutboundRequest): Promise<OutboundResponse> =>
    new Promise((resolvePromise, reject) => {
      // Host names are judged by `lookup` at connect time; literal addresses skip lookup, so they are judged here.
      const verdict = verdictOf(address, allow, false);
      if (!verdict.ok) return reject(new OutboundError(verdict.reason, verdict.message));
      const { url } = verdict;
      const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
      const body = init.body === undefined ? undefined : Buffer.from(init.body);
      const max = init.maxResponseBytes ?? 64 * 1024;
      const req = (protocol === 'https:' ? https : http).request(url, {
        method: init.method ?? 'GET',
        headers: { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        agent: agents[protocol],
        lookup,
      });
      let settled = false;
      const finish = (error: Error | null, response?: OutboundResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (response) resolvePromise(response);
        else reject(error);
      };
      const timer = setTimeout(() => {
        const timeout = new OutboundError('timeout', `timed out after ${init.timeoutMs} ms`);
        finish(timeout);
        req.destroy(timeout);
      }, init.timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) =>
        finish(error instanceof OutboundError ? error : new OutboundError('network', describeNetworkError(error))),
      );
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () =>
          finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        res.on('data', (chunk: Buffer) => {
          if (size < max) chunks.push(chunk.subarray(0, max - size));
          size += chunk.length;
          // A little more than what is kept is read to the end, so the connection can be used again.
          if (size > max + DRAIN_BYTES) {
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('error', (error) => finish(new OutboundError('network', `the answer broke off: ${error.message}`)));
      });
      req.end(body);
    });

  return {
    check: (url) => verdictOf(url, allow, true),
    lookup,
    request,
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
};
