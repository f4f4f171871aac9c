import { describe, expect, it } from 'vitest';
import { describeEvent } from './events';
import type { EventDto } from './api';

/** The sentences the item history shows for what the connectors bring in. */
const event = (over: Partial<EventDto>): EventDto =>
  ({
    id: 'e1',
    source: 'github',
    sourceEventId: 'x',
    occurredAt: '2026-06-01T00:00:00.000Z',
    receivedAt: '2026-06-01T00:00:00.000Z',
    actor: { identity: 'github:octocat', personId: null },
    kind: 'created',
    field: null,
    from: null,
    to: null,
    text: null,
    target: null,
    data: null,
    ...over,
  }) as EventDto;

describe('item history sentences for connector events', () => {
  it('says which label was added or removed, and what a milestone or estimate became', () => {
    expect(describeEvent(event({ kind: 'label_added', target: 'bug' }))).toBe('added the label “bug”');
    expect(describeEvent(event({ kind: 'label_removed', target: 'needs-triage' }))).toBe(
      'removed the label “needs-triage”',
    );
    expect(describeEvent(event({ kind: 'field_changed', field: 'milestone', to: 'v2.1' }))).toBe(
      'set the milestone to “v2.1”',
    );
    expect(describeEvent(event({ kind: 'field_changed', field: 'estimate', from: '3', to: '5' }))).toBe(
      'changed the estimate from “3” to “5”',
    );
  });

  it('names GitHub activity that changes no field in words', () => {
    expect(describeEvent(event({ kind: 'activity', data: { action: 'pull_request.synchronize' } }))).toBe(
      'pushed new commits',
    );
    expect(describeEvent(event({ kind: 'activity', data: { action: 'something.new' } }))).toBe('worked on the item');
  });
});
