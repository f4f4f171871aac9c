import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Principal } from '../domain/access.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import type { Charter } from '../domain/charter.schema.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { EventInput } from '../domain/event.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { appendEvents } from './events.service.js';
import { ensurePortalIndex } from './portal.index.js';
import { portalItem, slackStatus } from './portal.service.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const demo = buildDemoCharter(42, NOW);
const lead = demo.teams.find((t) => t.id === 'payments')!.trio.tech;
const leadJira = demo.people.find((p) => p.id === lead)!.jira!;

const stakeholder: Principal = {
  user: { id: 'u-sam', email: 'sam@acme.example', name: 'Sam', role: 'stakeholder', createdAt: NOW.toISOString() },
  via: 'session',
};

let seq = 0;
const ev = (key: string, at: string, change: EventInput['change'], item: Partial<EventInput['item']> = {}) => ({
  source: 'jira',
  sourceEventId: `st-${++seq}`,
  occurredAt: at,
  actor: { kind: 'jira' as const, id: leadJira },
  item: { key, ...item },
  change,
});
const created = (key: string, kind: 'bug' | 'incident' = 'bug', title = 'Refunds fail') =>
  ev(key, '2026-05-20T09:00:00Z', { kind: 'created' }, { kind, title, team: 'payments', severity: 'high' });

describe.each(testEngines())('stages stakeholders read on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let loaded: LoadedCharter;
  let n = 0;
  const load = (charter: Charter) => {
    loaded = { charter, index: buildCharterIndex(charter), path: 'lanes.yaml', loadedAt: NOW.toISOString() };
  };
  beforeEach(async () => {
    database = await open();
    load(demo);
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => `s${String(++n).padStart(6, '0')}`,
      charter: () => loaded,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  it('shows a closed bug without deploy data as fixed with its release not tracked, never Live', async () => {
    await appendEvents(ctx, [
      created('PAY-500'),
      ev('PAY-500', '2026-05-21T10:00:00Z', { kind: 'closed', to: 'done', data: { resolution: 'Fixed' } }),
    ]);
    const item = await portalItem(ctx, stakeholder, 'PAY-500');
    expect([item.stage, item.stageLabel]).toEqual(['fixed', 'Fixed — release not tracked']);
    expect(item.status).toMatch(/^Closed as fixed on 21 May 2026\. The team does not record its releases in Lanes/);
    expect(item.nextUpdateDue).toBeNull();
  });

  it('keeps a mapped INVALID on a wont_fix state closed without a fix', async () => {
    await appendEvents(ctx, [
      created('PAY-501'),
      ev('PAY-501', '2026-05-21T10:00:00Z', { kind: 'field_changed', field: 'state', to: 'wont_fix' }),
      ev('PAY-501', '2026-05-21T10:00:01Z', { kind: 'field_changed', field: 'resolution', to: 'INVALID' }),
    ]);
    const item = await portalItem(ctx, stakeholder, 'PAY-501');
    expect(item.stage).toBe('invalid');
    expect(item.status).not.toMatch(/live/i);
  });

  it('makes closed-as-completed Live once the team’s charter says so, says why, and notifies nobody of the past', async () => {
    await appendEvents(ctx, [
      created('PAY-502'),
      ev('PAY-502', '2026-05-21T10:00:00Z', { kind: 'closed', to: 'done', data: { resolution: 'Done' } }),
    ]);
    expect(await ensurePortalIndex(ctx)).toBe('rebuilt'); // the stage rules were never recorded for these items
    await database.db.updateTable('item_stage_change').set({ fanned_out_at: NOW.toISOString() }).execute();
    load({ ...demo, teams: demo.teams.map((t) => (t.id === 'payments' ? { ...t, released_on_close: true } : t)) });
    expect(await ensurePortalIndex(ctx)).toBe('rebuilt');
    expect(await ensurePortalIndex(ctx)).toBeNull();
    const item = await portalItem(ctx, stakeholder, 'PAY-502');
    expect(item.stage).toBe('live');
    expect(item.status).toBe(
      'Closed as completed on 21 May 2026, which for this team means released: its charter says so, as its deployments are not recorded in Lanes.',
    );
    const waiting = await database.db
      .selectFrom('item_stage_change')
      .select('id')
      .where('fanned_out_at', 'is', null)
      .execute();
    expect(waiting).toEqual([]);
  });

  it('tells an incident in incident words on the page and in Slack', async () => {
    await appendEvents(ctx, [
      created('PAY-503', 'incident', 'Payments down'),
      ev('PAY-503', '2026-05-20T09:10:00Z', { kind: 'field_changed', field: 'state', to: 'monitoring' }),
      ev('PAY-503', '2026-05-20T09:11:00Z', { kind: 'pr_opened', data: { pr: 12 } }),
    ]);
    const item = await portalItem(ctx, stakeholder, 'PAY-503');
    expect([item.stage, item.stageLabel]).toEqual(['monitoring', 'Monitoring']);
    expect(`${item.status} ${item.next}`).not.toMatch(/\bfix/i);
    const slack = await slackStatus(ctx, 'status PAY-503', 'U1', 'https://lanes.example');
    expect(slack.text).toMatch(/Monitoring/);
    expect(slack.text).not.toMatch(/\bfix/i);
  });

  it('names and links the original of a duplicate', async () => {
    await appendEvents(ctx, [
      created('PAY-504', 'bug', 'Double charge'),
      created('PAY-505', 'bug', 'Charged twice'),
      ev('PAY-505', '2026-05-21T10:00:00Z', { kind: 'linked', target: 'PAY-504', data: { relation: 'duplicates' } }),
      ev('PAY-505', '2026-05-21T10:01:00Z', { kind: 'closed', to: 'done', data: { resolution: 'Duplicate' } }),
    ]);
    const item = await portalItem(ctx, stakeholder, 'PAY-505');
    expect([item.stage, item.duplicateOf, item.status]).toEqual([
      'duplicate',
      'PAY-504',
      'Closed as a duplicate of PAY-504.',
    ]);
  });
});
