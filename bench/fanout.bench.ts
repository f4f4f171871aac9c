/**
 * `npm run bench -- fanout`: one stage change with 10,000 e-mail subscribers,
 * fully delivered to a local SMTP server (the `smtp-server` library on
 * 127.0.0.1), target ≤ 60 s with no duplicates. The floor is the same 10,000
 * messages (composed the same way) sent straight through the same pooled
 * nodemailer transport with the same concurrency, without Lanes: no database,
 * no claims, no delivery log. The ratio is floor time / Lanes time.
 *
 * `BENCH_FANOUT_SUBSCRIBERS` changes the count; `BENCH_FANOUT_DATABASE` (a
 * postgres:// URL) runs Lanes on PostgreSQL instead of a SQLite file.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { mapWithConcurrency } from '../src/connectors/concurrency.js';
import { createEmailSender } from '../src/connectors/notify/email.sender.js';
import { insertPortalItem, insertStageChange, startLocalSmtp } from '../src/connectors/notify/notify.test-helper.js';
import { composeNotification, portalItemUrl } from '../src/domain/notification.js';
import {
  buildNotificationSenders,
  createNotifier,
  deliveryIdOf,
  unsubscribeLink,
} from '../src/services/notifications.service.js';
import { openDatabase } from '../src/store/database.js';
import { chunks } from '../src/store/event.repository.js';
import { demoContext } from './bench.context.js';
import { figure, seconds, writeResults, type Figure } from './bench.lib.js';

const SUBSCRIBERS = Number(process.env['BENCH_FANOUT_SUBSCRIBERS'] ?? 10_000);
const CONCURRENCY = 20;
const PUBLIC = 'https://lanes.bench.example';
const FROM = 'Lanes <lanes@bench.example>';

export const run = async (): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-fanout-'));
  const pgUrl = process.env['BENCH_FANOUT_DATABASE'];
  const pgSchema = `bench_fanout_${Date.now().toString(36)}`;
  const database = await openDatabase(pgUrl ? { url: pgUrl, pgSchema, poolSize: 8 } : { url: join(dir, 'fanout.db') });
  const floorSmtp = await startLocalSmtp({ headersOnly: true });
  const lanesSmtp = await startLocalSmtp({ headersOnly: true });
  const realClock = () => new Date();
  const ctx = demoContext(database, { clock: realClock, newId: randomUUID });
  const figures: Figure[] = [];
  try {
    const now = new Date().toISOString();
    await insertPortalItem(database, { key: 'PAY-231', title: 'Checkout fails for EU cards' }, now);
    const subscriptions = Array.from({ length: SUBSCRIBERS }, (_, i) => ({
      id: randomUUID(),
      user_id: `user-${i}`,
      target_kind: 'item',
      target: 'PAY-231',
      search: null,
      channel: 'email',
      address: `person${i}@customer.example`,
      secret: null,
      cadence: 'immediate',
      feed_token_hash: null,
      created_at: now,
      unsubscribed_at: null,
    }));
    for (const part of chunks(subscriptions, 1000)) await database.db.insertInto('subscription').values(part).execute();
    console.error(`fanout: ${SUBSCRIBERS} subscribers on ${database.engine}`);

    // Floor: the same messages straight through the same pooled transport.
    const change = {
      id: 'sc-bench',
      itemKey: 'PAY-231',
      fromStage: 'fix_ready' as const,
      toStage: 'live' as const,
      occurredAt: now,
      evidence: { summary: 'Deployed to production (deploy-8812)', source: 'github', url: null },
    };
    const email = createEmailSender({ smtpUrl: floorSmtp.url, from: FROM, messageIdDomain: 'lanes.bench.example' });
    const floorStart = process.hrtime.bigint();
    await mapWithConcurrency(subscriptions, CONCURRENCY, async (s) => {
      const unsubscribe = await unsubscribeLink(ctx, PUBLIC, s.id);
      const message = composeNotification({
        change,
        item: { key: 'PAY-231', title: 'Checkout fails for EU cards' },
        target: { kind: 'item', value: 'PAY-231' },
        links: { item: (key) => portalItemUrl(PUBLIC, key), unsubscribe },
      });
      await email.send({
        key: deliveryIdOf(s.id, change.id),
        address: s.address,
        secret: null,
        message,
        unsubscribeUrl: unsubscribe,
      });
    });
    const floor = seconds(floorStart);
    await email.close();

    // Lanes: the stage change is recorded; the notifier plans and sends.
    const senders = buildNotificationSenders(
      { LANES_SMTP_URL: lanesSmtp.url, LANES_MAIL_FROM: FROM },
      { publicUrl: PUBLIC },
    );
    const notifier = createNotifier(ctx, senders, { publicUrl: PUBLIC, concurrency: CONCURRENCY });
    await insertStageChange(database, { id: 'sc-bench', itemKey: 'PAY-231', from: 'fix_ready', to: 'live', at: now });
    const start = process.hrtime.bigint();
    const round = await notifier.runOnce();
    const planned = round.fanOut.deliveries;
    let sent = round.dispatch.sent;
    // Nothing should be left, but a failed send would be retried on a later round.
    while (sent < SUBSCRIBERS && seconds(start) < 120) sent += (await notifier.runOnce()).dispatch.sent;
    const lanes = seconds(start);
    await notifier.close();

    const ids = lanesSmtp.messageIds();
    const unique = new Set(ids).size;
    const duplicates = ids.length - unique;
    const complete = unique === SUBSCRIBERS && planned === SUBSCRIBERS;
    console.error(
      `fanout: Lanes ${lanes.toFixed(1)} s (${ids.length} arrived, ${unique} distinct), floor ${floor.toFixed(1)} s (${floorSmtp.raw.length} arrived)`,
    );
    figures.push(
      figure({
        name: `fanout: 1 stage change → ${SUBSCRIBERS.toLocaleString('en-US')} e-mails delivered (${database.engine})`,
        value: lanes,
        unit: 's',
        floor,
        ratio: floor / lanes,
        target: '<= 60 s, every subscriber once, no duplicates',
        pass: lanes <= 60 && complete && duplicates === 0,
      }),
      figure({
        name: 'fanout: e-mails per second',
        value: ids.length / lanes,
        unit: 'msg/s',
        floor: floorSmtp.raw.length / floor,
        ratio: ids.length / lanes / (floorSmtp.raw.length / floor),
        target: 'report',
        pass: true,
      }),
      figure({
        name: 'fanout: duplicate e-mails',
        value: duplicates,
        unit: 'msgs',
        floor: null,
        ratio: null,
        target: '0',
        pass: duplicates === 0,
      }),
    );
  } finally {
    await floorSmtp.close();
    await lanesSmtp.close();
    if (pgUrl) await sql.raw(`DROP SCHEMA ${pgSchema} CASCADE`).execute(database.db);
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
  writeResults('fanout', figures);
};
