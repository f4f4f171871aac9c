import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, rmdirSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/database.js';
import { startLanesInstance, type LanesInstance } from '../support/lanes-instance.js';
import { byStatus, issueOpenedBody, postDelivery, type Answer } from '../support/webhook-stream.js';

/**
 * The disk under a SQLite database fills up while deliveries arrive: Lanes
 * answers 507 with a stable code and Retry-After (not a 500), says so once in
 * the log, reports not ready, and, once space is freed, takes writes again
 * without a restart, with the database intact and every acknowledged delivery
 * in it. Runs on a small tmpfs, which needs root (`mount -t tmpfs`).
 */
const SIZE_MB = 8;

const mountTmpfs = (): string | undefined => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-disk-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE_MB}m`, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch (error) {
    rmdirSync(dir);
    const message = `cannot mount a ${SIZE_MB} MB tmpfs (${(error as Error).message.split('\n')[0]}): the disk-full test needs root`;
    if (process.env['CI'] === 'true') throw new Error(`${message}; CI must run it`, { cause: error });
    console.warn(`\n${'!'.repeat(78)}\n!! ${message}.\n!! The disk-full test is SKIPPED.\n${'!'.repeat(78)}\n`);
    return undefined;
  }
};

/** Writes zeros to `path` until the volume refuses (ENOSPC). */
const fillVolume = (path: string): number => {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return written;
};

const dir = mountTmpfs();

describe.skipIf(!dir)('SQLite on a full disk', () => {
  let database: Database;
  let lanes: LanesInstance;
  let n = 0;
  let closed = false;
  const answers: Answer[] = [];
  /** Sends `count` deliveries (incompressible bodies of about 6 KB), 4 at a time. */
  const send = async (count: number, prefix: string): Promise<Answer[]> => {
    const batch: Answer[] = [];
    for (let i = 0; i < count; i += 4) {
      const round = await Promise.all(
        Array.from({ length: Math.min(4, count - i) }, () => {
          const k = n++;
          const body = issueOpenedBody(k + 1).replace('"body":"', `"body":"${randomBytes(4500).toString('base64')}`);
          return postDelivery(lanes.port, `${prefix}-${k}`, body);
        }),
      );
      batch.push(...round);
    }
    answers.push(...batch);
    return batch;
  };

  beforeAll(async () => {
    database = await openDatabase({ url: join(dir!, 'lanes.db') });
    lanes = await startLanesInstance(database);
  });

  afterAll(async () => {
    if (!closed) {
      await lanes?.close();
      await database?.close();
    }
    execFileSync('umount', [dir!]);
    rmdirSync(dir!);
  });

  it('answers 507 with a stable code while full, logs the cause once, and resumes when space returns', async () => {
    expect(byStatus(await send(40, 'before'))).toEqual({ 202: 40 });
    const filler = join(dir!, 'filler');
    const filled = fillVolume(filler);
    // Deliveries keep coming while the disk is full.
    let refused: Answer[] = [];
    for (let round = 0; round < 40 && refused.length < 200; round++) {
      refused = [...refused, ...(await send(40, 'full')).filter((a) => a.status !== 202)];
    }
    const events = await lanes.call('/api/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        events: Array.from({ length: 500 }, (_, i) => ({
          source: 'deploys',
          sourceEventId: `full-${i}`,
          occurredAt: '2026-05-01T12:00:00Z',
          actor: { kind: 'github', id: 'octocat' },
          item: { key: `FULL-${i}`, kind: 'bug', title: randomBytes(300).toString('base64') },
          change: { kind: 'created' },
        })),
      }),
    });
    const eventsBody = (await events.json()) as { error?: { code: string } };
    const ready = await fetch(`http://127.0.0.1:${lanes.port}/readyz`);
    const readyBody = (await ready.json()) as { error?: { code: string; message: string } };
    const health = await fetch(`http://127.0.0.1:${lanes.port}/healthz`);
    const healthBody = (await health.json()) as { status: string; problem?: { code: string } };
    const fullLogs = lanes.logLines.filter((l) => /SQLITE_FULL|disk is full|database or disk is full/i.test(l));
    const rollbackLogs = lanes.logLines.filter((l) => l.includes('cannot rollback'));
    console.log(
      `disk full: filler ${filled} bytes; while full ${JSON.stringify(byStatus(refused))} of ${answers.length - 40} deliveries; ` +
        `events POST ${events.status} ${eventsBody.error?.code}; readyz ${ready.status} ${readyBody.error?.code}; ` +
        `healthz ${health.status} ${healthBody.status}; log lines naming the cause ${fullLogs.length}, 'cannot rollback' ${rollbackLogs.length}`,
    );
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.status).toBe(507);
      expect(a.code).toBe('LANES_STORAGE_FULL');
      expect(a.retryAfter).toMatch(/^\d+$/);
    }
    expect(events.status).toBe(507);
    expect(eventsBody.error?.code).toBe('LANES_STORAGE_FULL');
    expect(ready.status).toBe(503);
    expect(readyBody.error?.code).toBe('LANES_STORAGE_FULL');
    expect(health.status).toBe(200);
    expect(healthBody).toMatchObject({ status: 'degraded', problem: { code: 'LANES_STORAGE_FULL' } });
    expect(rollbackLogs).toEqual([]);
    expect(fullLogs.length).toBeGreaterThanOrEqual(1);
    expect(fullLogs.length).toBeLessThanOrEqual(3);

    // Space returns: the same process takes writes again.
    rmSync(filler);
    const after = await send(40, 'after');
    expect(byStatus(after)).toEqual({ 202: 40 });
    expect((await fetch(`http://127.0.0.1:${lanes.port}/readyz`)).status).toBe(200);
    expect(((await (await fetch(`http://127.0.0.1:${lanes.port}/healthz`)).json()) as { status: string }).status).toBe(
      'ok',
    );
    // Mapping catches up on what was stored.
    const deadline = Date.now() + 30_000;
    let pending = -1;
    while (Date.now() < deadline) {
      pending = Number(
        (
          await database.db
            .selectFrom('webhook_delivery')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('status', '=', 'pending')
            .executeTakeFirstOrThrow()
        ).n,
      );
      if (pending === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(pending).toBe(0);
    closed = true;
    await lanes.close();
    await database.close();

    // The database is intact and holds every acknowledged delivery.
    const check = new SqliteDatabase(join(dir!, 'lanes.db'), { readonly: true });
    try {
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      const stored = new Set(
        (check.prepare('SELECT delivery_id FROM webhook_delivery').all() as { delivery_id: string }[]).map(
          (r) => r.delivery_id,
        ),
      );
      const acked = answers.filter((a) => a.status === 202).map((a) => a.deliveryId);
      expect(acked.filter((id) => !stored.has(id))).toEqual([]);
      console.log(`disk full: ${acked.length} acknowledged deliveries, all stored; integrity_check ok`);
    } finally {
      check.close();
    }
  });
});
