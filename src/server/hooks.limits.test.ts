import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from '@octokit/webhooks-methods';
import { sql } from 'kysely';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Secrets } from '../config.js';
import type { ServiceContext } from '../services/context.js';
import { createWebhookIntake, type WebhookIntake } from '../services/webhooks.service.js';
import { listPendingDeliveries } from '../store/connector.repository.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { createServer, type LanesServer } from './server.js';

const SECRETS: Secrets = { LANES_GITHUB_WEBHOOK_SECRET: 'gh-limits-secret-51ab' };
const SECRET = SECRETS.LANES_GITHUB_WEBHOOK_SECRET!;

const starBody = (n: number): Buffer =>
  Buffer.from(JSON.stringify({ action: 'started', sender: { login: `octocat-${n}`, id: n } }));

const githubHeaders = async (body: Buffer, id: string, event = 'watch'): Promise<Record<string, string>> => ({
  'content-type': 'application/json',
  'x-github-event': event,
  'x-github-delivery': id,
  'x-hub-signature-256': await sign(SECRET, body.toString('utf8')),
});

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

const answerOf = (req: ClientRequest): Promise<Answer> =>
  new Promise((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'],
        }),
      );
    });
  });

/** A trigger that makes the database refuse rows of `table` matching `when`: any write it may refuse. */
const refuseRows = async (database: Database, table: string, when: string): Promise<void> => {
  const name = `refuse_${table}`;
  if (database.engine === 'sqlite') {
    await sql
      .raw(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'refused'); END`)
      .execute(database.db);
    return;
  }
  await sql
    .raw(
      `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF ${when} THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`,
    )
    .execute(database.db);
  await sql
    .raw(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`)
    .execute(database.db);
};

describe.each(testEngines())('webhook bodies under bad input on $engine', ({ open }) => {
  let database: Database;
  let server: LanesServer;
  let intake: WebhookIntake;

  const build = (pendingBytes?: number) => {
    let n = 0;
    const ctx: ServiceContext = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => new Date('2026-06-01T00:00:00Z'),
      newId: () => `id-${(++n).toString().padStart(7, '0')}`,
      charter: () => undefined,
    };
    intake = createWebhookIntake(ctx, SECRETS, { autoDrain: false });
    server = createServer(ctx, {
      bodyLimit: 64 * 1024,
      version: 'test',
      webhooks: { intake, bodyLimit: 1 << 20, active: ['github'], pendingBytes },
    });
  };

  beforeEach(async () => {
    database = await open();
    build();
  });
  afterEach(async () => {
    await intake.close();
    await server.app.close();
    await database.close();
  });

  const post = async (body: Buffer, id: string, event?: string) =>
    server.app.inject({
      method: 'POST',
      url: '/hooks/github',
      headers: await githubHeaders(body, id, event),
      payload: body,
    });

  it('stores a delivery whose raw body holds a NUL byte, byte for byte, beside the rest of its group commit', async () => {
    const withNul = Buffer.from('{"action":"opened","issue":{"title":"a\u0000b"}}');
    const bigWithNul = Buffer.concat([withNul.subarray(0, -2), Buffer.from(`,"pad":"${'x'.repeat(2000)}"}}`)]);
    const invalidUtf8 = Buffer.from([...Buffer.from('{"action":"opened","t":"'), 0xff, 0xfe, ...Buffer.from('"}')]);
    const bodies = [...Array.from({ length: 8 }, (_, i) => starBody(i)), withNul, bigWithNul, invalidUtf8];
    // Sent together, so that they are written in one group commit.
    const answers = await Promise.all(bodies.map((b, i) => post(b, `d-${i}`, i < 8 ? 'watch' : 'issues')));
    expect(answers.map((a) => a.statusCode)).toEqual(Array<number>(11).fill(202));
    const stored = await listPendingDeliveries(database, 100);
    expect(stored).toHaveLength(11);
    for (const [i, b] of bodies.entries()) {
      expect(stored.find((d) => d.deliveryId === `d-${i}`)!.body.equals(b), `body ${i}`).toBe(true);
    }
    const drained = await intake.drain();
    expect(drained).toMatchObject({ deliveries: 11, unknown: 8 });
    const failed = await database.db
      .selectFrom('webhook_delivery')
      .select(['delivery_id', 'error'])
      .where('status', '=', 'failed')
      .execute();
    expect(failed.map((f) => f.delivery_id).sort()).toEqual(['d-10', 'd-8', 'd-9']);
  });

  it('answers 503 to the one delivery the database refuses, and stores and acknowledges the rest of its group commit', async () => {
    // Stands for any row the database refuses (a constraint, a full disk): a trigger refuses delivery "poison".
    await refuseRows(database, 'webhook_delivery', "NEW.delivery_id = 'poison'");
    const ids = ['a', 'b', 'c', 'poison', 'd', 'e'];
    const answers = await Promise.all(ids.map((id, i) => post(starBody(i), id)));
    expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202, 503, 202, 202]);
    expect(answers[3]!.json()).toMatchObject({ error: { code: 'LANES_WEBHOOK_NOT_STORED' } });
    const stored = await listPendingDeliveries(database, 100);
    expect(stored.map((d) => d.deliveryId).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('marks failed only the delivery whose events the database refuses; the rest of its batch is mapped', async () => {
    await refuseRows(database, 'event', "NEW.item_key = 'acme/shop#3'");
    const issue = (n: number) =>
      Buffer.from(
        JSON.stringify({
          action: 'opened',
          issue: {
            number: n,
            title: `Issue ${n}`,
            state: 'open',
            html_url: `https://github.com/acme/shop/issues/${n}`,
            user: { login: 'octocat', id: 1 },
            labels: [],
            created_at: '2026-05-01T12:00:00Z',
            updated_at: '2026-05-01T12:00:00Z',
          },
          repository: { full_name: 'acme/shop', name: 'shop', owner: { login: 'acme' } },
          sender: { login: 'octocat', id: 1 },
        }),
      );
    for (const n of [1, 2, 3, 4]) expect((await post(issue(n), `issue-${n}`, 'issues')).statusCode).toBe(202);
    const drained = await intake.drain();
    expect(drained).toMatchObject({ deliveries: 4, mapped: 3, failed: 1 });
    const rows = await database.db.selectFrom('webhook_delivery').select(['delivery_id', 'status', 'error']).execute();
    expect(rows.find((r) => r.delivery_id === 'issue-3')).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('storing its events failed'),
    });
    const keys = await database.db.selectFrom('item').select('key').orderBy('key').execute();
    expect(keys.map((k) => k.key)).toEqual(['acme/shop#1', 'acme/shop#2', 'acme/shop#4']);
  });

  describe('over a real connection', () => {
    let port: number;
    const BUDGET = 256 * 1024;
    beforeEach(async () => {
      await server.app.close();
      build(BUDGET);
      await server.app.listen({ port: 0, host: '127.0.0.1' });
      port = (server.app.server.address() as AddressInfo).port;
    });

    const open = (headers: Record<string, string>): ClientRequest =>
      httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/hooks/github', headers, agent: false });
    /** A round trip on another connection: whatever was sent before it has been read by the server. */
    const barrier = async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const ping = httpRequest({ host: '127.0.0.1', port, path: '/healthz', agent: false });
      ping.end();
      await answerOf(ping);
    };

    it('refuses a delivery without a signature header before its body is sent', async () => {
      const req = open({
        'content-type': 'application/json',
        'x-github-event': 'watch',
        'x-github-delivery': 'unsigned',
        'content-length': String(10 << 20),
      });
      req.flushHeaders();
      const answer = await answerOf(req);
      req.destroy();
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: 'LANES_WEBHOOK_SIGNATURE' } });
    });

    it('answers 503 with Retry-After beyond the byte budget; signed deliveries within it are stored', async () => {
      const bodies = [0, 1, 2].map((i) =>
        Buffer.from(JSON.stringify({ action: 'started', sender: { id: i }, pad: 'x'.repeat(100 * 1024) })),
      );
      // Two slow senders hold about 200 KB of the 256 KB budget while their bodies trickle in.
      const slow = await Promise.all(
        bodies.slice(0, 2).map(async (b, i) => {
          const req = open({ ...(await githubHeaders(b, `slow-${i}`)), 'content-length': String(b.length) });
          req.write(b.subarray(0, 1000));
          return { req, body: b, answer: answerOf(req) };
        }),
      );
      await barrier();
      const third = open({
        ...(await githubHeaders(bodies[2]!, 'third')),
        'content-length': String(bodies[2]!.length),
      });
      third.flushHeaders();
      const refused = await answerOf(third);
      third.destroy();
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(refused.body).toMatchObject({ error: { code: 'LANES_BUSY' } });

      // A chunked body is counted as it streams and refused once it passes the budget.
      const chunked = open({ ...(await githubHeaders(bodies[2]!, 'chunked')), 'transfer-encoding': 'chunked' });
      const chunkedAnswer = answerOf(chunked);
      for (let sent = 0; sent < BUDGET; sent += 16 * 1024) chunked.write(Buffer.alloc(16 * 1024, 0x20));
      const chunkedRefused = await chunkedAnswer;
      chunked.destroy();
      expect(chunkedRefused.status).toBe(503);
      expect(chunkedRefused.body).toMatchObject({ error: { code: 'LANES_BUSY' } });

      for (const s of slow) s.req.end(s.body.subarray(1000));
      const done = await Promise.all(slow.map((s) => s.answer));
      expect(done.map((a) => a.status)).toEqual([202, 202]);
      // Their bytes are given back: the third delivery now fits.
      const retried = open({
        ...(await githubHeaders(bodies[2]!, 'third')),
        'content-length': String(bodies[2]!.length),
      });
      retried.end(bodies[2]);
      expect((await answerOf(retried)).status).toBe(202);
      const stored = await listPendingDeliveries(database, 10);
      expect(stored.map((d) => d.deliveryId).sort()).toEqual(['slow-0', 'slow-1', 'third']);
    });
  });
});
