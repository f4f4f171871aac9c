import { request as httpRequest, type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../domain/errors.js';
import { createBodyBudget, type BodyBudget } from './body.budget.js';
import { HTTP_STATUS } from './error-status.js';

const until = async (condition: () => boolean, what: string): Promise<void> => {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > 5_000) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('the byte budget for unverified bodies', () => {
  let app: FastifyInstance;
  let budget: BodyBudget;
  let port: number;
  beforeEach(async () => {
    budget = createBodyBudget({ totalBytes: 1000, bodyLimit: 5000, readTimeoutMs: 300 });
    app = Fastify();
    app.setErrorHandler((error, _request, reply) =>
      isAppError(error)
        ? reply.status(HTTP_STATUS[error.code]).send({ error: { code: error.code } })
        : reply.status(500).send({ error: { code: 'LANES_INTERNAL' } }),
    );
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 5000 }, (_r, body, done) => done(null, body));
    app.post('/', { onRequest: async (request, reply) => budget.admit(request, reply) }, async (request) => ({
      bytes: (request.body as Buffer).length,
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await app.close();
  });

  const post = (headers: Record<string, string>): ClientRequest =>
    httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers, agent: false });
  const statusOf = (req: ClientRequest): Promise<number> =>
    new Promise((resolve, reject) => {
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
    });

  it('reserves declared lengths, refuses beyond the total, and gives bytes back when answered', async () => {
    const first = post({ 'content-length': '600' });
    first.write('x'.repeat(100));
    const firstStatus = statusOf(first);
    await until(() => budget.inUse() === 600, 'the first body is reserved');
    const second = post({ 'content-length': '600' });
    second.flushHeaders();
    expect(await statusOf(second)).toBe(503);
    second.destroy();
    first.end('x'.repeat(500));
    expect(await firstStatus).toBe(200);
    await until(() => budget.inUse() === 0, 'the first body is given back');
    const third = post({ 'content-length': '900' });
    third.end('y'.repeat(900));
    expect(await statusOf(third)).toBe(200);
  });

  it('counts a chunked body as it arrives and refuses it once it passes the total', async () => {
    const chunked = post({ 'transfer-encoding': 'chunked' });
    const status = statusOf(chunked);
    chunked.write('z'.repeat(400));
    await until(() => budget.inUse() === 400, 'the first chunk is counted');
    chunked.write('z'.repeat(700));
    expect(await status).toBe(503);
    chunked.destroy();
    await until(() => budget.inUse() === 0, 'the chunked body is given back');
  });

  it('disconnects a sender that stalls, so it cannot hold the budget', async () => {
    const stalled = post({ 'content-length': '900' });
    stalled.write('x');
    const closed = new Promise<void>((resolve) => stalled.on('error', () => resolve()));
    await until(() => budget.inUse() === 900, 'the stalled body is reserved');
    await closed;
    await until(() => budget.inUse() === 0, 'the stalled body is given back');
  });
});
