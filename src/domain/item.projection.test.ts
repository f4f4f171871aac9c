import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LoggedEvent } from './event.js';
import { projectItem } from './item.projection.js';
import { arbitraryEventSet } from './event.arbitrary.test-helper.js';

describe('item projection', () => {
  it('is the same for any delivery order with any duplicates', () => {
    fc.assert(
      fc.property(
        arbitraryEventSet(),
        fc.infiniteStream(fc.nat()),
        fc.array(fc.nat(), { maxLength: 10 }),
        (events, order, dupes) => {
          const reference = projectItem(events);
          const shuffled = [...events];
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = order.next().value % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          for (const d of dupes) if (events.length) shuffled.push(events[d % events.length]!);
          expect(projectItem(shuffled)).toEqual(reference);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts a reopen when a done item goes back to work', () => {
    const base = {
      source: 's',
      receivedAt: '',
      actorIdentity: null,
      actorPersonId: null,
      itemKey: 'A-1',
      item: null,
      field: null,
      from: null,
      to: null,
      text: null,
      target: null,
      data: null,
      payload: null,
      payloadRef: null,
    } as const;
    const events: LoggedEvent[] = [
      { ...base, id: '1', sourceEventId: '1', occurredAt: '2026-01-01T00:00:00.000Z', kind: 'created' },
      {
        ...base,
        id: '2',
        sourceEventId: '2',
        occurredAt: '2026-01-02T00:00:00.000Z',
        kind: 'field_changed',
        field: 'state',
        to: 'done',
      },
      { ...base, id: '3', sourceEventId: '3', occurredAt: '2026-01-03T00:00:00.000Z', kind: 'reopened' },
      { ...base, id: '4', sourceEventId: '4', occurredAt: '2026-01-04T00:00:00.000Z', kind: 'pr_merged' },
    ];
    expect(projectItem(events)).toMatchObject({ reopenCount: 1, closedAt: null, stage: 'fix_ready', eventCount: 4 });
  });
});
