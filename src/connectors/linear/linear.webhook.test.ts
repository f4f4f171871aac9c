import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LinearMapping } from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import type { MapContext } from '../connector.types.js';
import { linearWebhooks } from './linear.webhook.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/external/webhooks/linear-korosuke613');
const SECRET = 'lin_wh_test_secret';
const NOW = new Date('2026-05-01T12:00:00.000Z');

const fixtureNames = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));

/**
 * The korosuke613 payloads are from 2021, before Linear added `webhookTimestamp`,
 * so each test sets it (to `now` unless told otherwise) and signs the result,
 * as Linear signs the body it sends.
 */
const delivery = (name: string, patch: (body: Record<string, unknown>) => void = () => {}, timestamp = NOW) => {
  const body = JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
  body['webhookTimestamp'] = timestamp.getTime();
  patch(body);
  const raw = Buffer.from(JSON.stringify(body));
  const signature = createHmac('sha256', SECRET).update(raw).digest('hex');
  return { body, raw, headers: { 'linear-signature': signature, 'linear-delivery': `d-${name}` } };
};

const mapping: LinearMapping = { teams: { KOR: { team: 'payments', component: 'checkout' } } };

const context = (m: LinearMapping | undefined = mapping) => {
  const unmapped: string[] = [];
  const ctx: MapContext<LinearMapping> = { mapping: m, unmapped: (c, v) => unmapped.push(`${c}:${v}`) };
  return { ctx, unmapped };
};

const mapFixture = (name: string, patch?: (body: Record<string, unknown>) => void, m?: LinearMapping) => {
  const { body, raw, headers } = delivery(name, patch);
  const { eventType } = linearWebhooks.describe(body, raw, headers, NOW);
  const { ctx, unmapped } = context(m);
  const events = linearWebhooks.map(eventType, body, ctx);
  if (events) {
    const checked = validateEventBatch(events);
    expect(checked.ok ? [] : checked.rejections).toEqual([]);
  }
  return { events, unmapped, eventType };
};

const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
  try {
    await promise;
    return undefined;
  } catch (e) {
    return e instanceof AppError ? e.code : 'not an AppError';
  }
};

const codeOfSync = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof AppError ? e.code : 'not an AppError';
  }
};

describe('linear webhook signatures and freshness', () => {
  it('has the fixtures it claims to test', () => {
    expect(fixtureNames).toHaveLength(10);
  });

  it.each(fixtureNames)('%s: a signed body verifies; forged, missing or altered ones do not', async (name) => {
    const { raw, headers } = delivery(name);
    await expect(linearWebhooks.verify(SECRET, raw, headers)).resolves.toBeUndefined();

    expect(await codeOf(linearWebhooks.verify('another secret', raw, headers))).toBe('LANES_WEBHOOK_SIGNATURE');
    expect(await codeOf(linearWebhooks.verify(SECRET, raw, {}))).toBe('LANES_WEBHOOK_SIGNATURE');
    expect(await codeOf(linearWebhooks.verify(SECRET, raw, { 'linear-signature': 'zz' }))).toBe(
      'LANES_WEBHOOK_SIGNATURE',
    );
    const truncated = headers['linear-signature'].slice(0, 32);
    expect(await codeOf(linearWebhooks.verify(SECRET, raw, { 'linear-signature': truncated }))).toBe(
      'LANES_WEBHOOK_SIGNATURE',
    );
    const altered = Buffer.from(raw.toString('utf8').replace('"action":"', '"action":"x'));
    expect(await codeOf(linearWebhooks.verify(SECRET, altered, headers))).toBe('LANES_WEBHOOK_SIGNATURE');
  });

  it.each(fixtureNames)('%s: fresh is accepted, five minutes old is stale', (name) => {
    const fresh = delivery(name);
    expect(linearWebhooks.describe(fresh.body, fresh.raw, fresh.headers, NOW).deliveryId).toBe(`d-${name}`);

    const old = delivery(name, undefined, new Date(NOW.getTime() - 5 * 60_000));
    expect(codeOfSync(() => linearWebhooks.describe(old.body, old.raw, old.headers, NOW))).toBe('LANES_WEBHOOK_STALE');
  });

  it('treats a missing timestamp as stale and says why', () => {
    const { body, raw, headers } = delivery('createIssue.json', (b) => delete b['webhookTimestamp']);
    expect(() => linearWebhooks.describe(body, raw, headers, NOW)).toThrow(/no webhookTimestamp/);
  });

  it('accepts a little clock skew in both directions', () => {
    for (const offset of [-59_000, 59_000]) {
      const d = delivery('createIssue.json', undefined, new Date(NOW.getTime() + offset));
      expect(linearWebhooks.describe(d.body, d.raw, d.headers, NOW).eventType).toBe('Issue.create');
    }
  });

  it('derives a stable delivery id from the body when Linear sends none', () => {
    const { body, raw } = delivery('updateIssue.json');
    const a = linearWebhooks.describe(body, raw, {}, NOW);
    const b = linearWebhooks.describe(body, raw, {}, NOW);
    expect(a.deliveryId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a).toEqual(b);
    expect(a.eventType).toBe('Issue.update');
  });

  it('refuses something that is not a Linear payload', () => {
    expect(codeOfSync(() => linearWebhooks.describe({ hello: 1 }, Buffer.from('{}'), {}, NOW))).toBe(
      'LANES_VALIDATION',
    );
  });
});

describe('linear webhook mapping', () => {
  it('maps Issue.create to created with the snapshot, the scope and no actor', () => {
    const { events, unmapped } = mapFixture('createIssue.json');
    expect(events).toHaveLength(1);
    const [created] = events as [EventInput];
    expect(created).toMatchObject({
      source: 'linear',
      sourceEventId: '236e0fe8-xxxx-xxxx-xxxx-b2df06e33810/created',
      occurredAt: '2021-01-30T11:19:39.427Z',
      actor: null,
      item: {
        key: 'KOR-70',
        title: 'webhook test',
        team: 'payments',
        component: 'checkout',
        state: 'acknowledged',
        url: 'https://linear.app/korosuke613/issue/KOR-11/webhook-test',
      },
      change: { kind: 'created', data: { sourceState: 'Backlog' } },
    });
    expect(created.item).not.toHaveProperty('priority'); // priority 0 = none
    expect(unmapped).toEqual([]);
  });

  it('counts a team missing from the mapping as an unmapped scope', () => {
    const { events, unmapped } = mapFixture('createIssue.json', undefined, { teams: {} });
    expect(events?.[0]?.item).not.toHaveProperty('team');
    expect(unmapped).toEqual(['scope:KOR']);
  });

  it('maps Issue.update: the state and cycle in updatedFrom, nothing for unchanged nulls', () => {
    const { events, unmapped } = mapFixture('updateIssue.json');
    expect(events?.map((e) => [e.change.field, e.change.from, e.change.to])).toEqual([
      ['sprint', undefined, '8becebd5-xxxx-xxxx-xxxx-5a4c46206590'],
      ['state', undefined, 'scheduled'],
    ]);
    const state = events!.find((e) => e.change.field === 'state')!;
    expect(state).toMatchObject({
      sourceEventId: '236e0fe8-xxxx-xxxx-xxxx-b2df06e33810/state@2021-01-30T11:24:17.747Z',
      occurredAt: '2021-01-30T11:24:17.747Z',
      actor: null,
      item: { key: 'KOR-11', assignee: '80e102b0-xxxx-xxxx-xxxx-044bcfb4cd39', state: 'scheduled' },
      change: { data: { sourceState: 'Todo', fromStateId: 'c02edc3a-xxxx-xxxx-xxxx-85c349766a13' } },
    });
    expect(unmapped).toEqual([]);
  });

  it('maps updateIssueWithAddIssueLabel as far as the payload says: archivedAt is unmapped, the label is unknown', () => {
    // This payload's updatedFrom holds only updatedAt and archivedAt, not labelIds,
    // so no label event can be derived from it; its label shows in the snapshot only.
    const { events, unmapped } = mapFixture('updateIssueWithAddIssueLabel.json');
    expect(events).toEqual([]);
    expect(unmapped.sort()).toEqual(['field:archivedAt', 'label:Improvement']);
  });

  it('maps a labelIds change to label_added and the kind the label means', () => {
    const { events, unmapped } = mapFixture('updateIssueWithAddIssueLabel.json', (body) => {
      const data = body['data'] as { labels: { id: string; name: string }[] };
      data.labels.push({ id: '80a1fec2-xxxx-xxxx-xxxx-0ad8b5e394eb', name: 'Bug' });
      body['updatedFrom'] = {
        updatedAt: '2022-01-23T14:58:11.258Z',
        labelIds: ['80a1fec2-xxxx-xxxx-xxxx-0ad8b5e394e8'],
      };
    });
    expect(events?.map((e) => [e.change.kind, e.change.field ?? e.change.target, e.change.to])).toEqual([
      ['label_added', 'Bug', undefined],
      ['field_changed', 'kind', 'bug'],
    ]);
    expect(events?.[0]?.sourceEventId).toBe('0d69dbdd-xxxx-xxxx-xxxx-ae377ce0db02/label+Bug@2022-01-25T10:35:50.570Z');
    expect(events?.[1]?.sourceEventId).toBe(`${events?.[0]?.sourceEventId}/kind`);
    expect(events?.[0]?.item).toMatchObject({ key: 'KOR-57', kind: 'bug', state: 'in_review' });
    expect(unmapped).toEqual(['label:Improvement']);
  });

  it('maps a removed label whose name is gone to label_removed by id', () => {
    const { events } = mapFixture('updateIssueWithAddIssueLabel.json', (body) => {
      body['updatedFrom'] = {
        labelIds: ['80a1fec2-xxxx-xxxx-xxxx-0ad8b5e394e8', '80a1fec2-xxxx-xxxx-xxxx-0ad8b5e394eb', 'gone'],
      };
    });
    expect(events?.map((e) => [e.change.kind, e.change.target])).toEqual([['label_removed', 'id:gone']]);
  });

  it('maps priority, estimate, title and assignee changes with from and to', () => {
    const { events } = mapFixture('updateIssue.json', (body) => {
      Object.assign(body['data'] as object, { priority: 2, estimate: 3, title: 'checkout fails' });
      body['updatedFrom'] = { priority: 0, estimate: 1, title: 'webhook test', assigneeId: null, dueDate: null };
      (body['data'] as Record<string, unknown>)['dueDate'] = '2021-02-01';
      body['actor'] = { id: 'user-1', name: 'Ada', type: 'user' };
    });
    expect(events?.map((e) => [e.change.field, e.change.from, e.change.to])).toEqual([
      ['priority', null, 'P2'],
      ['estimate', '1', '3'],
      ['title', 'webhook test', 'checkout fails'],
      ['assignee', null, '80e102b0-xxxx-xxxx-xxxx-044bcfb4cd39'],
    ]);
    expect(events?.[0]?.actor).toEqual({ kind: 'linear', id: 'user-1', name: 'Ada' });
  });

  it('counts fields Lanes has no place for', () => {
    const { unmapped } = mapFixture('updateIssue.json', (body) => {
      body['updatedFrom'] = { dueDate: null, projectId: 'p1' };
      (body['data'] as Record<string, unknown>)['dueDate'] = '2021-02-01';
    });
    expect(unmapped).toEqual(['field:dueDate', 'field:projectId']);
  });

  it('maps Issue.remove to closed with resolution deleted', () => {
    const { events } = mapFixture('removeIssue.json');
    expect(events).toEqual([
      expect.objectContaining({
        sourceEventId: 'ac36bcc2-xxxx-xxxx-xxxx-3e13107f89be/removed@2021-01-30T11:48:48.707Z',
        actor: null,
        item: expect.objectContaining({ key: 'KOR-12', title: 'webhook test 2' }),
        change: { kind: 'closed', to: 'wont_fix', data: { resolution: 'deleted', sourceState: 'Backlog' } },
      }),
    ]);
  });

  it.each([
    ['createIssueLabel.json', 'IssueLabel', 'create', 'new label', undefined],
    ['updateIssueLabel.json', 'IssueLabel', 'update', 'update new label', 'new label'],
    ['removeIssueLabel.json', 'IssueLabel', 'remove', 'update new label', undefined],
    ['createProject.json', 'Project', 'create', 'new!!!', undefined],
    ['updateProject.json', 'Project', 'update', 'rename project', 'fffff'],
    ['removeProject.json', 'Project', 'remove', 'rename project', undefined],
  ])('maps %s to an itemless definition_changed', (name, type, action, label, previousName) => {
    const { events } = mapFixture(name);
    expect(events).toHaveLength(1);
    const [event] = events as [EventInput];
    expect(event.item).toBeUndefined();
    expect(event.actor).toBeNull();
    expect(event.change.kind).toBe('definition_changed');
    expect(event.change.data).toMatchObject({ type, action, name: label });
    expect(event.change.data?.['previousName']).toBe(previousName);
  });

  it('maps Comment.create to commented on the issue, with its author', () => {
    const payload = {
      type: 'Comment',
      action: 'create',
      createdAt: '2026-05-01T11:59:00.000Z',
      data: {
        id: 'c-1',
        body: 'Still failing: <b>500</b> on `SELECT * FROM orders;`',
        createdAt: '2026-05-01T11:59:00.000Z',
        issueId: 'i-1',
        userId: 'u-9',
        issue: { id: 'i-1', identifier: 'KOR-70', title: 'webhook test' },
      },
    };
    const { ctx } = context();
    const events = linearWebhooks.map('Comment.create', payload, ctx);
    expect(events).toEqual([
      {
        source: 'linear',
        sourceEventId: 'comment/c-1',
        occurredAt: '2026-05-01T11:59:00.000Z',
        actor: { kind: 'linear', id: 'u-9' },
        item: { key: 'KOR-70', title: 'webhook test' },
        change: { kind: 'commented', text: payload.data.body, data: { commentId: 'c-1' } },
      },
    ]);
  });

  it('gives the same ids on redelivery and returns null for types it does not map', () => {
    expect(mapFixture('updateIssue.json').events).toEqual(mapFixture('updateIssue.json').events);
    const { ctx } = context();
    expect(linearWebhooks.map('Reaction.create', { type: 'Reaction', action: 'create', data: {} }, ctx)).toBeNull();
    expect(linearWebhooks.map('Comment.remove', { type: 'Comment', action: 'remove', data: { id: 'x' } }, ctx)).toBe(
      null,
    );
  });

  it('names the bots listed in lanes.yaml as bots', () => {
    const { events } = mapFixture(
      'updateIssue.json',
      (body) => {
        body['actor'] = { id: 'app-1', name: 'Triage Bot', type: 'OauthClient' };
      },
      { ...mapping, bots: ['Triage Bot'] },
    );
    expect(events?.[0]?.actor).toEqual({ kind: 'bot', id: 'app-1', name: 'Triage Bot' });
  });
});
