import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import pino from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { openDatabase, type Database } from '../store/database.js';
import { countEvents } from '../store/event.repository.js';
import { listItems } from '../store/item.repository.js';
import type { ServiceContext } from './context.js';
import { createWebhookIntake } from './webhooks.service.js';

const SECRET = 'two-instances-secret';

const examples = (): { event: string; body: Buffer }[] => {
  const require = createRequire(import.meta.url);
  const all = JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples'), 'utf8')) as {
    name: string;
    examples: unknown[];
  }[];
  return all
    .filter((d) => ['issues', 'issue_comment', 'pull_request', 'pull_request_review'].includes(d.name))
    .flatMap((d) => d.examples.map((e) => ({ event: d.name, body: Buffer.from(JSON.stringify(e)) })));
};

const contextOn = (database: Database): ServiceContext => ({
  database,
  logger: pino({ level: 'silent' }),
  clock: () => new Date('2026-06-01T00:00:00Z'),
  newId: randomUUID,
  charter: () => undefined,
});

const pgUrl = inject('pgUrl');

describe.skipIf(!pgUrl)('two Lanes instances on one PostgreSQL', () => {
  it('store each delivery once and map it once, whichever instance receives or drains it', async () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const a = await openDatabase({ url: pgUrl!, pgSchema: schema, poolSize: 4 });
    const b = await openDatabase({ url: pgUrl!, pgSchema: schema, poolSize: 4 });
    const reference = await openDatabase({ url: ':memory:' });
    try {
      const intakeA = createWebhookIntake(contextOn(a), { LANES_GITHUB_WEBHOOK_SECRET: SECRET }, { autoDrain: false });
      const intakeB = createWebhookIntake(contextOn(b), { LANES_GITHUB_WEBHOOK_SECRET: SECRET }, { autoDrain: false });
      const single = createWebhookIntake(
        contextOn(reference),
        { LANES_GITHUB_WEBHOOK_SECRET: SECRET },
        {
          autoDrain: false,
        },
      );
      const list = examples();
      const receipts = await Promise.all(
        list.flatMap((e, i) => {
          const send = async (intake: typeof intakeA) =>
            intake.receive('github', e.body, {
              'x-github-event': e.event,
              'x-github-delivery': `delivery-${i}`,
              'x-hub-signature-256': await sign(SECRET, e.body.toString('utf8')),
            });
          // GitHub redelivers, load balancers retry: the same delivery reaches both instances.
          return [send(intakeA), send(intakeB)];
        }),
      );
      expect(receipts.filter((r) => r.stored)).toHaveLength(list.length);
      for (const [i, e] of list.entries()) {
        await single.receive('github', e.body, {
          'x-github-event': e.event,
          'x-github-delivery': `delivery-${i}`,
          'x-hub-signature-256': await sign(SECRET, e.body.toString('utf8')),
        });
      }

      await Promise.all([intakeA.drain(), intakeB.drain()]);
      await single.drain();
      const statuses = await a.db.selectFrom('webhook_delivery').select(['status']).execute();
      expect(statuses).toHaveLength(list.length);
      expect(statuses.every((s) => s.status === 'mapped')).toBe(true);
      expect(await countEvents(a)).toBe(await countEvents(reference));
      const strip = (items: Awaited<ReturnType<typeof listItems>>) =>
        items.map(({ key, stage, state, assignee, title }) => ({ key, stage, state, assignee, title }));
      expect(strip(await listItems(a, {}, 500))).toEqual(strip(await listItems(reference, {}, 500)));
      await Promise.all([intakeA.close(), intakeB.close(), single.close()]);
    } finally {
      await a.close();
      await b.close();
      await reference.close();
    }
  });
});
