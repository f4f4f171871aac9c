import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundaryEvaluator, type Evaluation } from './boundary.evaluate.js';
import { completesMove, mergedMove, MOVE_WINDOW_MS } from './boundary.moves.js';
import type { Charter } from './charter.schema.js';
import { buildDemoCharter } from './demo/demo.charter.js';
import { compareEvents, type LoggedEvent } from './event.js';
import { loggedEvent } from './event.test-helper.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const demo = buildDemoCharter(42, NOW);
const charter: Charter = {
  ...demo,
  people: demo.people.map((p) =>
    p.id === 'mei.chen' ? { ...p, aliases: { email: ['mei@old-payments.example'], github: ['mei-old'] } } : p,
  ),
  bots: { email: ['jenkins@acme.example'], patterns: ['-automation$'] },
};
const person = (id: string) => charter.people.find((p) => p.id === id)!;
const BUG = { key: 'o/r#7', kind: 'bug' as const, team: 'payments', component: 'checkout' };

let seq = 0;
/** A GitHub event on the bug, as the mapper writes it (ids sort like GitHub's). */
const gh = (login: string | null, at: string, over: Partial<LoggedEvent>): LoggedEvent => {
  seq += 1;
  return loggedEvent({
    id: `e${seq}`,
    source: 'github',
    sourceEventId: over.sourceEventId ?? `o/r#7/${seq}`,
    occurredAt: at,
    actorIdentity: login === null ? null : login.includes(':') ? login : `github:${login}`,
    itemKey: BUG.key,
    item: BUG,
    ...over,
  });
};

/** Walks the events in log order and returns every final evaluation that carries a judgement. */
const walk = (events: readonly LoggedEvent[], c: Charter = charter): Evaluation[] => {
  const evaluator = new BoundaryEvaluator({ charter: c, now: NOW });
  const out: Evaluation[] = [];
  for (const e of [...events].sort(compareEvents)) out.push(...evaluator.evaluate(e));
  out.push(...evaluator.flush());
  return out.filter((e) => e.judgement !== null);
};

const created = () => gh('dokafor', '2026-05-04T09:00:00Z', { kind: 'created', sourceEventId: 'o/r#7/created' });
const milestone = (login: string, at: string, title: string, added: boolean) =>
  gh(login, at, {
    field: 'milestone',
    from: added ? null : title,
    to: added ? title : null,
    sourceEventId: `o/r#7/${added ? 'milestoned' : 'demilestoned'}/${title}/${at}`,
  });

describe('moves', () => {
  it('judges a GitHub milestone move (demilestoned + milestoned) once, as a change, in either log order', () => {
    for (const [cleared, set] of [
      ['2026-05-04T10:00:00Z', '2026-05-04T10:00:01Z'],
      ['2026-05-04T10:00:01Z', '2026-05-04T10:00:00Z'],
      ['2026-05-04T10:00:00Z', '2026-05-04T10:00:00Z'],
    ] as const) {
      const judged = walk([
        created(),
        milestone('priya-raman', cleared, 'v1.2', false),
        milestone('priya-raman', set, 'v1.3', true),
      ]);
      expect(judged).toHaveLength(1);
      expect(judged[0]!.event.to).toBe('v1.3');
      expect(judged[0]!.judgement).toMatchObject({ domain: 'eng.bug-triage', rule: 'bug-schedule', crossing: true });
      expect(judged[0]!.judgement!.sentence).toMatch(/^Milestone of bug o\/r#7 was changed by a product manager/);
    }
  });

  it('judges a Jira fix version move (removed and added in one changelog entry) once', () => {
    const jira = (index: number, from: string | null, to: string | null) =>
      loggedEvent({
        id: `j${index}`,
        sourceEventId: `PAY-9/changelog/10230/${index}`,
        occurredAt: '2026-05-04T10:00:00.000Z',
        actorIdentity: `jira:${person('priya.raman').jira!.toLowerCase()}`,
        actorPersonId: 'priya.raman',
        itemKey: 'PAY-9',
        item: { ...BUG, key: 'PAY-9' } as LoggedEvent['item'],
        field: 'milestone',
        from,
        to,
      });
    const judged = walk([jira(0, '2.0', null), jira(1, null, '2.1')]);
    expect(judged.map((e) => e.event.sourceEventId)).toEqual(['PAY-9/changelog/10230/1']);
  });

  it('keeps two decisions when two people act, or the halves are further apart than the window', () => {
    expect(
      walk([
        created(),
        milestone('priya-raman', '2026-05-04T10:00:00Z', 'v1.2', false),
        milestone('dokafor', '2026-05-04T10:00:01Z', 'v1.3', true),
      ]),
    ).toHaveLength(2);
    const later = new Date(Date.parse('2026-05-04T10:00:00Z') + MOVE_WINDOW_MS + 1000).toISOString();
    expect(
      walk([
        created(),
        milestone('priya-raman', '2026-05-04T10:00:00Z', 'v1.2', false),
        milestone('priya-raman', later, 'v1.3', true),
      ]),
    ).toHaveLength(2);
  });

  it('counts a value removed and put back within seconds as no decision', () => {
    expect(
      walk([
        created(),
        milestone('priya-raman', '2026-05-04T10:00:00Z', 'v1.2', true),
        milestone('priya-raman', '2026-05-04T10:00:02Z', 'v1.2', false),
      ]),
    ).toHaveLength(0);
  });

  it('judges unassign-then-assign of someone else once, by the whole move', () => {
    const judged = walk([
      created(),
      gh('dokafor', '2026-05-04T11:00:00Z', { field: 'assignee', from: 'dokafor', to: null }),
      gh('dokafor', '2026-05-04T11:00:00Z', { field: 'assignee', from: null, to: 'talvarez' }),
    ]);
    expect(judged).toHaveLength(1);
    expect(judged[0]!.judgement).toMatchObject({ domain: 'eng.assignment' });
    expect(judged[0]!.judgement!.sentence).toMatch(/assigned to Tomás/);
  });

  it('pairs halves of the same field, item and actor only', () => {
    const a = milestone('priya-raman', '2026-05-04T10:00:00Z', 'v1', false);
    expect(completesMove(a, milestone('priya-raman', '2026-05-04T10:00:03Z', 'v2', true))).toBe(true);
    expect(completesMove(a, milestone('priya-raman', '2026-05-04T10:00:03Z', 'v2', false))).toBe(false);
    expect(completesMove(a, { ...milestone('priya-raman', '2026-05-04T10:00:03Z', 'v2', true), field: 'sprint' })).toBe(
      false,
    );
    expect(mergedMove(a, milestone('priya-raman', '2026-05-04T10:00:03Z', 'v2', true))).toMatchObject({
      from: 'v1',
      to: 'v2',
    });
  });

  it('a property: whatever the times and order of a history of moves, each pair within the window is one decision', () => {
    const step = fc.record({
      gapMs: fc.integer({ min: 0, max: 4 * MOVE_WINDOW_MS }),
      pairGapMs: fc.integer({ min: 0, max: 2 * MOVE_WINDOW_MS }),
      clearFirst: fc.boolean(),
      actorSwap: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
        let t = Date.parse('2026-05-04T10:00:00Z');
        const events = [created()];
        let expected = 0;
        let value = 'v0';
        steps.forEach((s, i) => {
          // Each move starts well after the previous one ended.
          t += s.gapMs + 3 * MOVE_WINDOW_MS;
          const next = `v${i + 1}`;
          const first = new Date(t).toISOString();
          const second = new Date(t + s.pairGapMs).toISOString();
          const other = s.actorSwap ? 'dokafor' : 'priya-raman';
          const clear = milestone('priya-raman', s.clearFirst ? first : second, value, false);
          const set = milestone(other, s.clearFirst ? second : first, next, true);
          events.push(clear, set);
          expected += !s.actorSwap && s.pairGapMs <= MOVE_WINDOW_MS ? 1 : 2;
          value = next;
        });
        expect(walk(events)).toHaveLength(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('identities and bots', () => {
  it('sees a person taking an item under an old e-mail or login as self-assignment, not a decision', () => {
    const byOldEmail = gh('email:mei@old-payments.example', '2026-05-04T12:00:00Z', {
      field: 'assignee',
      from: null,
      to: 'meichen-dev',
    });
    const byLogin = gh('meichen-dev', '2026-05-04T12:10:00Z', { field: 'assignee', from: null, to: 'mei-old' });
    expect(walk([created(), byOldEmail, byLogin])).toHaveLength(0);
    // Assigning someone else is still a decision, judged on Mei's role through her alias.
    const other = gh('mei-old', '2026-05-04T12:20:00Z', { field: 'assignee', from: null, to: 'saralind' });
    expect(walk([created(), other])[0]!.judgement).toMatchObject({ actor: { personId: 'mei.chen', role: 'engineer' } });
  });

  it('reports bots of the top-level `bots:` section apart, from any source, and never as status pings', () => {
    const fromImport = gh('email:jenkins@acme.example', '2026-05-04T13:00:00Z', { field: 'priority', to: 'P1' });
    const byPattern = gh('jira:release-automation', '2026-05-04T13:01:00Z', { field: 'severity', to: 'high' });
    const judged = walk([created(), fromImport, byPattern]);
    expect(judged.map((e) => e.judgement!.standing)).toEqual(['bot', 'bot']);
    const ping = gh('email:jenkins@acme.example', '2026-05-04T13:02:00Z', {
      kind: 'commented',
      text: 'Any update on this? When will it be fixed?',
    });
    const evaluator = new BoundaryEvaluator({ charter, now: NOW });
    evaluator.evaluate(created());
    expect(evaluator.evaluate(ping)[0]!.signal).toBeNull();
  });
});
