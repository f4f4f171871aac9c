import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';

/**
 * A byte budget for request bodies read before anything vouches for them (a
 * webhook body is read whole before its signature can be checked). Each
 * admitted request holds its bytes until its response is finished or its
 * connection closes; a request that would take the total over the budget is
 * answered 503 `LANES_BUSY` with `Retry-After` before its body is read, so
 * memory stays bounded however many large unsigned posts arrive at once.
 */
export interface BodyBudget {
  /**
   * Admits a request or throws `AppError('LANES_BUSY')` (the reply then carries
   * `Retry-After`). A request with a Content-Length reserves that many bytes
   * up front; a chunked one is counted as its chunks arrive and is refused
   * midway if the budget runs out. Call it from an `onRequest` hook.
   */
  admit(request: FastifyRequest, reply: FastifyReply): void;
  /** Bytes reserved right now. */
  inUse(): number;
}

export interface BodyBudgetOptions {
  /** Bytes of bodies read at once, across every request that uses this budget. */
  totalBytes: number;
  /** The route's body limit: a larger Content-Length is refused (413) without being read, so it reserves nothing. */
  bodyLimit: number;
  /** What `Retry-After` says, in seconds (2 by default). */
  retryAfterSeconds?: number;
  /**
   * How long an admitted body may take to arrive (60 s by default): a sender
   * that declares a large body and then trickles or stalls is disconnected,
   * so it cannot hold the budget for ever.
   */
  readTimeoutMs?: number;
}

/** Creates a budget; one per route (or group of routes) whose bodies it bounds. */
export const createBodyBudget = (options: BodyBudgetOptions): BodyBudget => {
  const retryAfter = String(options.retryAfterSeconds ?? 2);
  const readTimeoutMs = options.readTimeoutMs ?? 60_000;
  let used = 0;
  const busy = (reply: FastifyReply): AppError => {
    reply.header('retry-after', retryAfter);
    return new AppError(
      'LANES_BUSY',
      `Lanes is reading as many unverified bodies as it allows (${options.totalBytes} bytes); retry in ${retryAfter} s`,
      { retryAfterSeconds: Number(retryAfter) },
    );
  };

  const admit = (request: FastifyRequest, reply: FastifyReply): void => {
    let held = 0;
    const take = (bytes: number): boolean => {
      if (used + bytes > options.totalBytes) return false;
      used += bytes;
      held += bytes;
      return true;
    };
    const release = (): void => {
      used -= held;
      held = 0;
    };
    const lengthHeader = request.headers['content-length'];
    const declared = lengthHeader === undefined ? Number.NaN : Number(lengthHeader);
    const chunked = !(Number.isFinite(declared) && declared >= 0) && request.headers['transfer-encoding'] !== undefined;
    if (chunked) countAsStreamed(request, take, () => busy(reply));
    else if (!take(declared > options.bodyLimit ? 0 : declared || 0)) throw busy(reply);
    const deadline = held > 0 || chunked ? setTimeout(() => request.raw.destroy(), readTimeoutMs) : undefined;
    deadline?.unref();
    const done = (): void => {
      clearTimeout(deadline);
      release();
    };
    request.raw.once('end', () => clearTimeout(deadline));
    reply.raw.once('finish', done);
    reply.raw.once('close', done);
  };

  return { admit, inUse: () => used };
};

/**
 * Counts a chunked body as it streams. The stream is paused first, so this
 * listener does not start the flow: the body parser resumes it and both see
 * every chunk. When the budget runs out, the parser is handed the error.
 */
const countAsStreamed = (request: FastifyRequest, take: (bytes: number) => boolean, refuse: () => AppError): void => {
  const raw = request.raw;
  raw.pause();
  const onData = (chunk: Buffer | string): void => {
    if (take(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length)) return;
    raw.removeListener('data', onData);
    if (raw.listenerCount('error') > 0) raw.emit('error', refuse());
    else raw.destroy();
  };
  raw.on('data', onData);
};
