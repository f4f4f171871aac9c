import fc from 'fast-check';
import type { Change, ItemKind, LoggedEvent } from './event.js';

/**
 * Random histories of one item for property tests of stages and their words:
 * tracker states of every kind of workflow (incidents' too), resolutions in
 * GitHub's, Jira's and Bugzilla's words, closings, reopenings, pull requests,
 * production and other deployments, verifications, workflow labels and kind
 * changes, in any order.
 */

const STATES = [
  'open',
  'triaged',
  'todo',
  'in progress',
  'in review',
  'waiting',
  'done',
  'closed',
  'released',
  'verified',
  'wont_fix',
  'duplicate',
  'invalid',
  'cannot_reproduce',
  'incomplete',
  'investigating',
  'identified',
  'monitoring',
  'resolved',
  'reopened',
];
const RESOLUTIONS = [
  'Fixed',
  'Done',
  'completed',
  'not_planned',
  "Won't Fix",
  'INVALID',
  'WONTFIX',
  'DUPLICATE',
  'WORKSFORME',
  'INCOMPLETE',
  'VERIFIED',
  'Cannot Reproduce',
  'something else',
];
const KINDS: ItemKind[] = ['bug', 'incident', 'feature', 'task'];

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({
    kind: fc.constant('field_changed' as const),
    field: fc.constant('state' as const),
    to: fc.constantFrom(...STATES),
  }),
  fc.record({
    kind: fc.constant('field_changed' as const),
    field: fc.constant('state' as const),
    to: fc.constantFrom('new', 'acknowledged', 'waiting', 'in_progress'),
    data: fc.constant({ via: 'label', label: 'workflow' }),
  }),
  fc.record({
    kind: fc.constant('field_changed' as const),
    field: fc.constant('resolution' as const),
    to: fc.option(fc.constantFrom(...RESOLUTIONS), { nil: null }),
  }),
  fc.record({
    kind: fc.constant('closed' as const),
    to: fc.constantFrom('done', 'closed', 'wont_fix', 'duplicate', 'verified'),
    data: fc.option(fc.record({ resolution: fc.constantFrom(...RESOLUTIONS) }), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('field_changed' as const),
    field: fc.constant('kind' as const),
    to: fc.constantFrom(...KINDS),
  }),
  fc.record({
    kind: fc.constant('field_changed' as const),
    field: fc.constant('assignee' as const),
    to: fc.constantFrom('ana', null),
  }),
  fc.record({
    kind: fc.constant('deployed' as const),
    data: fc.constantFrom(
      { environment: 'production', state: 'success' },
      { environment: 'production', state: 'failure' },
      { environment: 'staging', state: 'success' },
    ),
  }),
  fc.constantFrom<Change>(
    { kind: 'reopened' },
    { kind: 'pr_opened' },
    { kind: 'pr_merged' },
    { kind: 'verified' },
    { kind: 'commented', text: 'any news?' },
    { kind: 'incident_declared' },
    { kind: 'incident_resolved' },
  ),
);

/** One item's history: a creation (any kind, possibly already closed) and up to `max` changes. */
export const arbitraryItemHistory = (max = 14): fc.Arbitrary<LoggedEvent[]> =>
  fc
    .record({
      team: fc.constantFrom('web', 'api'),
      kind: fc.constantFrom(...KINDS),
      state: fc.option(fc.constantFrom(...STATES), { nil: undefined }),
      resolution: fc.option(fc.constantFrom(...RESOLUTIONS), { nil: undefined }),
      changes: fc.array(
        fc.record({
          change,
          minute: fc.integer({ min: 1, max: 2 * 24 * 60 }),
          source: fc.constantFrom('github', 'jira'),
        }),
        { maxLength: max },
      ),
    })
    .map(({ team, kind, state, resolution, changes }) => {
      const base = {
        receivedAt: '2026-02-01T00:00:00.000Z',
        actorIdentity: null,
        actorPersonId: null,
        itemKey: 'A-1',
        text: null,
        target: null,
        payload: undefined,
        payloadRef: null,
      };
      const at = (minute: number) => new Date(Date.UTC(2026, 0, 1) + minute * 60_000).toISOString();
      const created: LoggedEvent = {
        ...base,
        id: 'e0',
        source: 'jira',
        sourceEventId: 'created',
        occurredAt: at(0),
        item: { kind, team, title: 'Checkout fails', ...(state ? { state } : {}) },
        kind: 'created',
        field: null,
        from: null,
        to: null,
        data: resolution ? { resolution } : null,
      };
      return [
        created,
        ...changes.map(({ change: c, minute, source }, i): LoggedEvent => ({
          ...base,
          id: `e${i + 1}`,
          source,
          sourceEventId: String(i + 1),
          occurredAt: at(minute),
          item: null,
          kind: c.kind,
          field: c.field ?? null,
          from: c.from ?? null,
          to: c.to === undefined ? null : c.to,
          text: c.text ?? null,
          data: c.data ?? null,
        })),
      ];
    });
