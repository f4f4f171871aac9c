import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNoOpChange, SAME_FACT_WINDOW_MS, twinEvents } from './event.converge.js';
import type { EventInput, LoggedEvent } from './event.js';
import { loggedEvent } from './event.test-helper.js';

const input = (change: EventInput['change']): EventInput => ({
  source: 'github',
  sourceEventId: 'x',
  occurredAt: '2026-05-01T10:00:00Z',
  item: { key: 'o/r#1' },
  change,
});

describe('isNoOpChange', () => {
  it('drops a change to the value the field had, and keeps everything else', () => {
    expect(isNoOpChange(input({ kind: 'field_changed', field: 'kind', from: 'bug', to: 'bug' }))).toBe(true);
    expect(isNoOpChange(input({ kind: 'field_changed', field: 'assignee', from: null, to: null }))).toBe(true);
    expect(isNoOpChange(input({ kind: 'field_changed', field: 'kind', from: 'task', to: 'bug' }))).toBe(false);
    // No `from`: the source did not say what was there before.
    expect(isNoOpChange(input({ kind: 'field_changed', field: 'kind', to: 'bug' }))).toBe(false);
    expect(isNoOpChange(input({ kind: 'label_added', target: 'bug' }))).toBe(false);
  });

  it('keeps a step of the tracker between two states Lanes names alike (Jira Resolved → Closed)', () => {
    const step = { kind: 'field_changed' as const, field: 'state' as const, from: 'done', to: 'done' };
    expect(isNoOpChange(input({ ...step, data: { fromSourceState: 'Resolved', sourceState: 'Closed' } }))).toBe(false);
    expect(isNoOpChange(input({ ...step, data: { fromSourceState: 'Done', sourceState: 'done' } }))).toBe(true);
  });
});

let n = 0;
const at = (s: number) => new Date(Date.parse('2026-05-01T10:00:00Z') + s * 1000).toISOString();
const ev = (second: number, over: Partial<LoggedEvent>): LoggedEvent => {
  n += 1;
  return loggedEvent({ id: `e${n}`, sourceEventId: `s${n}`, occurredAt: at(second), itemKey: 'o/r#1', ...over });
};
const closed = (second: number, over: Partial<LoggedEvent> = {}) =>
  ev(second, { kind: 'closed', to: 'done', data: { sourceState: 'closed' }, ...over });
const twinsOf = (stored: LoggedEvent[], fresh: LoggedEvent[]) =>
  [...twinEvents([...stored, ...fresh], new Set(fresh.map((e) => e.id)))].sort();

describe('twinEvents', () => {
  it("takes the timeline's close a second after `closed_at` as the same close, whichever is stored first", () => {
    const fromIssue = closed(0);
    const fromTimeline = closed(1, { data: { sourceState: 'closed', githubEventId: 6567571146 } });
    expect(twinsOf([fromIssue], [fromTimeline])).toEqual([fromTimeline.id]);
    expect(twinsOf([fromTimeline], [fromIssue])).toEqual([fromIssue.id]);
    // Both new in one batch: the first in log order stays.
    expect(twinsOf([], [fromTimeline, fromIssue])).toEqual([fromTimeline.id]);
  });

  it('keeps a close after a reopen, a close further away than the window, and a different state', () => {
    expect(twinsOf([closed(0), ev(1, { kind: 'reopened', to: 'new' })], [closed(2)])).toEqual([]);
    expect(twinsOf([closed(0)], [closed(SAME_FACT_WINDOW_MS / 1000 + 1)])).toEqual([]);
    expect(twinsOf([closed(0)], [closed(1, { to: 'wont_fix' })])).toEqual([]);
  });

  it('takes a close and a change of the state to the same state as one fact, but not two tracker states', () => {
    const moved = ev(1, { field: 'state', to: 'done', data: null });
    expect(twinsOf([closed(0)], [moved])).toEqual([moved.id]);
    const resolved = ev(0, { field: 'state', from: 'in_progress', to: 'done', data: { sourceState: 'Resolved' } });
    const closedJira = ev(2, { field: 'state', from: 'done', to: 'done', data: { sourceState: 'Closed' } });
    expect(twinsOf([resolved], [closedJira])).toEqual([]);
  });

  it('never merges comments, and keeps a label added again after its removal', () => {
    const text = 'Same words';
    expect(twinsOf([ev(0, { kind: 'commented', text })], [ev(1, { kind: 'commented', text })])).toEqual([]);
    const added = ev(0, { kind: 'label_added', target: 'bug' });
    const removed = ev(1, { kind: 'label_removed', target: 'bug' });
    const again = ev(2, { kind: 'label_added', target: 'bug' });
    expect(twinsOf([added, removed], [again])).toEqual([]);
    const webhook = ev(1, { kind: 'label_added', target: 'Bug' });
    expect(twinsOf([added], [webhook])).toEqual([webhook.id]);
  });

  it('a property: each fact reported by several paths, up to two seconds apart, in any batches, is kept once', () => {
    const fact = fc.record({
      kind: fc.constantFrom('closed', 'reopened', 'label', 'priority'),
      // Copies land up to 2 s after their fact, so facts are apart by more than the window plus that jitter.
      gap: fc.integer({ min: SAME_FACT_WINDOW_MS / 1000 + 3, max: 600 }),
      copies: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(fact, { minLength: 1, maxLength: 8 }), fc.infiniteStream(fc.boolean()), (facts, split) => {
        let t = 0;
        let p = 0;
        const all: LoggedEvent[] = [];
        for (const f of facts) {
          t += f.gap;
          for (const jitter of f.copies) {
            const base = { kind: 'field_changed' as const, field: 'priority' as const, to: `P${(p % 4) + 1}` };
            if (f.kind === 'closed') all.push(closed(t + jitter));
            else if (f.kind === 'reopened') all.push(ev(t + jitter, { kind: 'reopened', to: 'new' }));
            else if (f.kind === 'label') all.push(ev(t + jitter, { kind: 'label_added', target: `l${t}` }));
            else all.push(ev(t + jitter, base));
          }
          p += 1;
        }
        // Some events arrive first (stored), the rest in one later batch.
        const it = split[Symbol.iterator]();
        const stored: LoggedEvent[] = [];
        const fresh: LoggedEvent[] = [];
        for (const e of all) (it.next().value ? stored : fresh).push(e);
        const storedTwins = twinEvents(stored, new Set(stored.map((e) => e.id)));
        const kept = stored.filter((e) => !storedTwins.has(e.id));
        const twins = twinEvents([...kept, ...fresh], new Set(fresh.map((e) => e.id)));
        expect(kept.length + fresh.length - twins.size).toBe(facts.length);
      }),
      { numRuns: 300 },
    );
  });
});
