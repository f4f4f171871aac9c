import { describe, expect, it } from 'vitest';
import { BoundaryEvaluator, logFilterOf } from './boundary.evaluate.js';
import { weekOf } from './week.js';
import { buildDemoCharter } from './demo/demo.charter.js';
import { buildDecisionRules, DEFAULT_DECISION_RULE_SET } from './decision.rules.js';
import type { LoggedEvent } from './event.js';
import { loggedEvent } from './event.test-helper.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const charter = buildDemoCharter(42, NOW);
const person = (id: string) => charter.people.find((p) => p.id === id)!;

let seq = 0;
const by = (personId: string, at: string, over: Partial<LoggedEvent>): LoggedEvent => {
  seq += 1;
  return loggedEvent({
    id: `e${seq}`,
    sourceEventId: `x/${seq}`,
    occurredAt: at,
    actorIdentity: `jira:${person(personId).jira!.toLowerCase()}`,
    actorPersonId: personId,
    ...over,
  });
};

/** The evaluation of `event` itself (a walk may also release held-back ones). */
const judged = (walk: BoundaryEvaluator, event: LoggedEvent) =>
  walk.evaluate(event).find((e) => e.event.id === event.id)!;

describe('weekOf', () => {
  it('gives the Monday (UTC) of the ISO week, across month and year ends', () => {
    expect(weekOf('2026-06-01T00:00:00.000Z')).toBe('2026-06-01'); // a Monday
    expect(weekOf('2026-06-07T23:59:59.999Z')).toBe('2026-06-01'); // the Sunday after
    expect(weekOf('2026-01-01T10:00:00.000Z')).toBe('2025-12-29'); // Thursday of week 1
    expect(weekOf('2024-03-03T12:00:00+05:00')).toBe('2024-02-26'); // leap year, offset
  });
});

describe('logFilterOf', () => {
  it('reads only kinds a default rule or the walk needs, plus events naming a field', () => {
    const filter = logFilterOf(DEFAULT_DECISION_RULE_SET);
    expect(filter.dataField).toBe(true);
    expect(filter.kinds).toContain('field_changed');
    expect(filter.kinds).toContain('commented');
    expect(filter.kinds).not.toContain('pr_opened');
    expect(filter.kinds).not.toContain('sli_sample');
  });

  it('adds the kinds a team rule names, and reads everything for a rule with no kind', () => {
    expect(
      logFilterOf(
        buildDecisionRules({ rules: [{ id: 'merge', domain: 'eng.release', when: { change: ['pr_merged'] } }] }),
      ).kinds,
    ).toContain('pr_merged');
    expect(
      logFilterOf(buildDecisionRules({ rules: [{ id: 'any', domain: 'eng.release', when: { item_kind: ['bug'] } }] }))
        .kinds,
    ).toBeNull();
  });
});

describe('BoundaryEvaluator', () => {
  it("puts the incident commander's triage in lane while the incident on the component is open, and only then", () => {
    // Olivia is Platform's PM: outside Payments' bug triage, unless she commands an incident on its component.
    const olivia = 'olivia.brooks';
    expect(person(olivia).role).toBe('product-manager');
    const walk = new BoundaryEvaluator({ charter, now: NOW });
    const bug = { key: 'PAY-1', kind: 'bug' as const, team: 'payments', component: 'checkout' };
    const incident = { key: 'INC-1', kind: 'incident' as const, team: 'payments', component: 'checkout' };
    const sets = (at: string) =>
      judged(walk, by(olivia, at, { itemKey: 'PAY-1', item: bug, field: 'priority', to: 'P1' })).judgement;

    walk.evaluate(by('daniel.okafor', '2026-05-01T09:00:00Z', { itemKey: 'PAY-1', item: bug, kind: 'created' }));
    expect(sets('2026-05-01T10:00:00Z')).toMatchObject({ standing: 'outside', crossing: true });

    walk.evaluate(
      by('daniel.okafor', '2026-05-01T11:00:00Z', {
        itemKey: 'INC-1',
        item: { ...incident, assignee: person(olivia).jira! },
        kind: 'incident_declared',
      }),
    );
    expect(sets('2026-05-01T11:30:00Z')).toMatchObject({ standing: 'decider', via: 'incident', crossing: false });

    walk.evaluate(by('daniel.okafor', '2026-05-01T12:00:00Z', { itemKey: 'INC-1', kind: 'incident_resolved' }));
    expect(sets('2026-05-01T12:30:00Z')).toMatchObject({ standing: 'outside', crossing: true });
  });

  it('judges an event against the item as it stood before it (labels included), then folds it in', () => {
    const walk = new BoundaryEvaluator({ charter, now: NOW });
    const item = { key: 'PAY-2', kind: 'task' as const, team: 'payments', title: 'Payment retries' };
    walk.evaluate(by('daniel.okafor', '2026-05-02T09:00:00Z', { itemKey: 'PAY-2', item, kind: 'created' }));
    const label = judged(
      walk,
      by('priya.raman', '2026-05-02T09:10:00Z', { itemKey: 'PAY-2', kind: 'label_added', target: 'ADR' }),
    );
    expect(label.judgement).toMatchObject({ domain: 'eng.architecture', rule: 'architecture-label' });
    // Now the item carries the label: moving it is an architecture decision too.
    const state = judged(
      walk,
      by('priya.raman', '2026-05-02T09:20:00Z', { itemKey: 'PAY-2', field: 'state', to: 'done' }),
    );
    expect(state.judgement).toMatchObject({ domain: 'eng.architecture', rule: 'architecture-item-state' });
    expect(state.week).toBe('2026-04-27');
  });

  it("counts a stakeholder's status ping for the team's PM, a PM's relay for the PM, and not engineers' chatter", () => {
    const walk = new BoundaryEvaluator({ charter, now: NOW });
    const bug = { key: 'PAY-3', kind: 'bug' as const, team: 'payments' };
    walk.evaluate(by('daniel.okafor', '2026-05-03T09:00:00Z', { itemKey: 'PAY-3', item: bug, kind: 'created' }));
    const comment = (personId: string | null, text: string) =>
      judged(
        walk,
        personId === null
          ? loggedEvent({
              id: `c${++seq}`,
              sourceEventId: `c/${seq}`,
              occurredAt: '2026-05-03T10:00:00Z',
              actorIdentity: 'email:buyer@customer.example',
              itemKey: 'PAY-3',
              kind: 'commented',
              text,
            })
          : by(personId, '2026-05-03T10:00:00Z', { itemKey: 'PAY-3', kind: 'commented', text }),
      ).signal;
    const pm = charter.teams.find((t) => t.id === 'payments')!.trio.product;
    expect(comment(null, 'Any update on this? When will it be fixed?')).toMatchObject({ kind: 'ping', personId: pm });
    expect(comment(pm, 'Quick update from engineering: the fix is merged and ships Thursday.')).toMatchObject({
      kind: 'relay',
      personId: pm,
    });
    expect(comment('mei.chen', 'Any update on this? When will it be fixed?')).toBeNull();
    expect(comment(null, 'Thanks, the screenshots help.')).toBeNull();
  });
});
