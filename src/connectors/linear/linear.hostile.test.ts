import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEventBatch } from '../../domain/event.js';
import type { LinearMapping } from '../../domain/connector.mapping.js';
import type { MapContext } from '../connector.types.js';
import { assertWellBehaved, mutated } from '../github/hostile.test-helper.js';
import { linearIssueSchema, mapLinearIssue, type LinearIssue } from './linear.sync.js';
import { linearWebhooks } from './linear.webhook.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/external/webhooks/linear-korosuke613');
const payloads = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as Record<string, unknown>);

const ctx: MapContext<LinearMapping> = {
  mapping: { teams: { KOR: { team: 'payments', component: 'checkout' } } },
  unmapped: () => undefined,
};

/** An issue as the GraphQL sync reads it, with one history entry of each kind. */
const issue: LinearIssue = {
  id: '2f3c0e1a-issue',
  identifier: 'KOR-7',
  number: 7,
  title: 'Checkout <b>fails</b>',
  createdAt: '2026-01-05T09:00:00.000Z',
  updatedAt: '2026-01-07T09:00:00.000Z',
  url: 'https://linear.app/kor/issue/KOR-7',
  priority: 2,
  estimate: 3,
  team: { key: 'KOR' },
  state: { name: 'In Progress', type: 'started' },
  assignee: { id: 'u-bob', name: 'Bob' },
  creator: { id: 'u-alice', name: 'Alice' },
  labels: { nodes: [{ name: 'Bug' }] },
  cycle: { name: null, number: 4 },
  history: {
    nodes: [
      {
        id: 'h1',
        createdAt: '2026-01-06T09:00:00.000Z',
        actor: { id: 'u-alice', name: 'Alice' },
        fromState: { name: 'Todo', type: 'unstarted' },
        toState: { name: 'In Progress', type: 'started' },
        fromAssignee: null,
        toAssignee: { id: 'u-bob', name: 'Bob' },
        fromPriority: 3,
        toPriority: 2,
        fromEstimate: 1,
        toEstimate: 3,
        fromTitle: 'Checkout fails',
        toTitle: 'Checkout <b>fails</b>',
        fromCycle: null,
        toCycle: { name: null, number: 4 },
        addedLabels: [{ name: 'Bug' }],
        removedLabels: [{ name: 'triage' }],
      },
    ],
    pageInfo: { hasNextPage: false, endCursor: null },
  },
};

describe('Linear mappers on hostile versions of real payloads (property)', () => {
  it('webhooks: throw only AppErrors and return only valid events', () => {
    assertWellBehaved(fc.constantFrom(...payloads).chain(mutated), (payload) => {
      const p = payload as { type?: unknown; action?: unknown } | null;
      return linearWebhooks.map(`${String(p?.type)}.${String(p?.action)}`, payload, ctx);
    });
  });

  it('sync: mapLinearIssue returns only valid events for any values its schema lets through', () => {
    // The sync parses GraphQL answers with a schema first; feed it what that schema accepts.
    assertWellBehaved(mutated(issue), (value) => {
      const parsed = linearIssueSchema.safeParse(value);
      return parsed.success ? mapLinearIssue(parsed.data, parsed.data.history.nodes, ctx) : null;
    });
  });
});

describe('Linear payloads with odd values', () => {
  it('keeps a label without a name by its id, clips long titles, and reads a deleted issue', () => {
    const updated = structuredClone(payloads.find((p) => p['type'] === 'Issue' && p['action'] === 'update')!);
    const data = updated['data'] as Record<string, unknown>;
    data['labelIds'] = ['lbl-1'];
    data['labels'] = [{ id: 'lbl-1', name: '' }];
    data['title'] = 't'.repeat(6000);
    updated['updatedFrom'] = { labelIds: [], title: 'old', assigneeId: 'u'.repeat(400) };
    const events = linearWebhooks.map('Issue.update', updated, ctx)!;
    expect(validateEventBatch(events).ok).toBe(true);
    expect(events.find((e) => e.change.kind === 'label_added')?.change.target).toBe('id:lbl-1');
    expect(events.find((e) => e.change.field === 'title')?.change.to).toHaveLength(500);

    const removed = payloads.find((p) => p['type'] === 'Issue' && p['action'] === 'remove')!;
    const [closed] = linearWebhooks.map('Issue.remove', removed, ctx)!;
    expect(closed!.change).toMatchObject({ kind: 'closed', to: 'wont_fix', data: { resolution: 'deleted' } });
  });

  it('refuses an issue that gives no usable key with an AppError', () => {
    const created = structuredClone(payloads.find((p) => p['type'] === 'Issue' && p['action'] === 'create')!);
    const data = created['data'] as Record<string, unknown>;
    data['id'] = 'not a key';
    data['identifier'] = null;
    data['number'] = 1e21;
    expect(() => linearWebhooks.map('Issue.create', created, ctx)).toThrow(/no usable key/);
  });
});
