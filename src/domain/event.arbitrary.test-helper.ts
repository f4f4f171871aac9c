import fc from 'fast-check';
import { ITEM_KINDS, type EventInput, type LoggedEvent } from './event.js';

/** Random but valid native events over a few items, for property-based tests. */
const STATES = ['open', 'triaged', 'todo', 'in progress', 'in review', 'done', 'closed', 'reopened', 'verified'];

export const arbitraryEventInput = (
  keys: string[] = ['A-1', 'A-2', 'B-1'],
): fc.Arbitrary<Omit<EventInput, 'sourceEventId'>> =>
  fc.record({
    source: fc.constantFrom('github', 'jira', 'native'),
    occurredAt: fc
      .integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 0, 3) })
      .map((ms) => new Date(ms - (ms % 60_000)).toISOString()),
    item: fc.record({
      key: fc.constantFrom(...keys),
      title: fc.string({ maxLength: 20 }),
      kind: fc.constantFrom(...ITEM_KINDS),
    }),
    change: fc.oneof(
      fc.constant({ kind: 'created' as const }),
      fc.record({
        kind: fc.constant('field_changed' as const),
        field: fc.constant('state' as const),
        to: fc.constantFrom(...STATES),
      }),
      fc.record({
        kind: fc.constant('field_changed' as const),
        field: fc.constantFrom('priority' as const, 'severity' as const, 'assignee' as const),
        to: fc.constantFrom('P1', 'P2', 'high', 'ana', null),
      }),
      fc.record({ kind: fc.constant('commented' as const), text: fc.string({ maxLength: 10 }) }),
      fc.constantFrom(
        { kind: 'pr_opened' as const },
        { kind: 'pr_merged' as const },
        { kind: 'reopened' as const },
        { kind: 'verified' as const },
      ),
    ),
  });

/** A set of logged events with unique (source, sourceEventId). */
export const arbitraryEventSet = (): fc.Arbitrary<LoggedEvent[]> =>
  fc.array(arbitraryEventInput(), { maxLength: 25 }).map((inputs) =>
    inputs.map((input, i) => ({
      id: `e${i}`,
      source: input.source,
      sourceEventId: String(i),
      occurredAt: input.occurredAt,
      receivedAt: '2026-02-01T00:00:00.000Z',
      actorIdentity: null,
      actorPersonId: null,
      itemKey: input.item!.key,
      item: { title: input.item!.title, kind: input.item!.kind },
      kind: input.change.kind,
      field: input.change.field ?? null,
      from: null,
      to: input.change.to === undefined ? null : input.change.to,
      text: input.change.text ?? null,
      target: null,
      data: null,
      payload: undefined,
      payloadRef: null,
    })),
  );
