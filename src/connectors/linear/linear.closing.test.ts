import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LinearMapping } from '../../domain/connector.mapping.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import type { MapContext } from '../connector.types.js';
import { projectMapped } from '../stages.test-helper.js';
import { linearWebhooks } from './linear.webhook.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/external/webhooks/linear-korosuke613');
const NOW = new Date('2026-05-01T12:00:00.000Z');

/** The real 2021 `updateIssue` and `createIssue` deliveries, moved to another workflow state. */
const deliver = (name: string, state: { name: string; type: string } | null, mapping: LinearMapping): EventInput[] => {
  const body = JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as {
    data: Record<string, unknown>;
    webhookTimestamp?: number;
  };
  // The 2021 payloads predate Linear's `webhookTimestamp`; it is set as Linear sets it today.
  body.webhookTimestamp = NOW.getTime();
  if (state) body.data['state'] = { ...(body.data['state'] as object), ...state };
  const raw = Buffer.from(JSON.stringify(body));
  const { eventType } = linearWebhooks.describe(body, raw, { 'linear-delivery': name }, NOW);
  const ctx: MapContext<LinearMapping> = { mapping, unmapped: () => undefined };
  const checked = validateEventBatch(linearWebhooks.map(eventType, body, ctx));
  if (!checked.ok) throw new Error(JSON.stringify(checked.rejections));
  return checked.events;
};

describe('Linear canceled and duplicate states (korosuke613 deliveries)', () => {
  const mapping: LinearMapping = { teams: { KOR: { team: 'payments', default_kind: 'bug' } } };
  const stageAfter = (state: { name: string; type: string }) => {
    // (The anonymised deliveries name the same issue by two numbers: the update alone is KOR-11's history here.)
    return projectMapped(deliver('updateIssue.json', state, mapping)).get('KOR-11')!;
  };

  it('maps the state types and names to stages, never Live without a deployment', () => {
    expect(stageAfter({ name: 'Canceled', type: 'canceled' }).stage).toBe('wont_fix');
    expect(stageAfter({ name: 'Duplicate', type: 'canceled' }).stage).toBe('duplicate');
    expect(stageAfter({ name: 'Done', type: 'completed' }).stage).toBe('fixed');
    expect(stageAfter({ name: 'Shipped', type: 'completed' }).stage).toBe('fixed');
    expect(stageAfter({ name: 'Todo', type: 'unstarted' }).stage).toBe('scheduled');
  });

  it('is Verified from a state the charter maps to verified', () => {
    const verifying: LinearMapping = { ...mapping, states: { 'QA passed': 'verified' } };
    const events = deliver('updateIssue.json', { name: 'QA passed', type: 'completed' }, verifying);
    expect(projectMapped(events).get('KOR-11')!.stage).toBe('verified');
  });

  it('gives issues without a kind label the team’s default kind', () => {
    expect(stageAfter({ name: 'Todo', type: 'unstarted' }).kind).toBe('bug');
    const bare = deliver('createIssue.json', null, { teams: { KOR: { team: 'payments' } } });
    expect([...projectMapped(bare).values()][0]!.kind).toBe('task');
  });
});
