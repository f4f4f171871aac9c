import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holdAgainstCharter, STANDINGS, type BoundaryItem, type BoundaryJudgement } from './boundary.js';
import { buildCharterIndex } from './charter.identity.js';
import type { Charter } from './charter.schema.js';
import { DEFAULT_DOMAINS } from './charter.catalog.js';
import { decisionOf, foldLabels, type Decision } from './decision.rules.js';
import { identityKey, toUtcIso, type EventInput, type LoggedEvent } from './event.js';
import { arbitraryEventSet } from './event.arbitrary.test-helper.js';
import { loggedEvent } from './event.test-helper.js';
import { applyEvent, type ItemState } from './item.projection.js';
import { DEMO_CAST, buildDemoCharter } from './demo/demo.charter.js';
import { generateDemoEvents } from './demo/demo.events.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const charter = buildDemoCharter(42, NOW);

/** The demo charter with Payments' bug triage given to its tech lead alone, product consulted: the issue's example. */
const exampleCharter: Charter = {
  ...charter,
  teams: charter.teams.map((t) =>
    t.id === 'payments'
      ? { ...t, decisions: { ...t.decisions, 'eng.bug-triage': { decides: 'daniel.okafor', consulted: ['product'] } } }
      : t,
  ),
};

/** The same, with Payments' bug triage handed to Mei until the end of May: someone who would otherwise be outside. */
const leadCharter: Charter = {
  ...exampleCharter,
  delegations: [
    ...(charter.delegations ?? []),
    {
      domain: 'eng.bug-triage',
      team: 'payments',
      from: 'daniel.okafor',
      to: 'mei.chen',
      until: '2026-05-31',
      reason: 'tech lead at a conference.',
    },
  ],
};

const person = (id: string) => charter.people.find((p) => p.id === id)!;

let seq = 0;
const event = (over: Partial<LoggedEvent>): LoggedEvent => {
  seq += 1;
  return loggedEvent({
    id: `e${seq}`,
    sourceEventId: `x/${seq}`,
    occurredAt: '2026-05-20T10:00:00.000Z',
    receivedAt: '2026-05-20T10:00:01.000Z',
    itemKey: 'PAY-231',
    ...over,
  });
};

/** An event by a charter person, with the Jira identity the demo gives them. */
const by = (personId: string, over: Partial<LoggedEvent>): LoggedEvent =>
  event({ actorIdentity: `jira:${person(personId).jira!.toLowerCase()}`, actorPersonId: personId, ...over });

const paymentsBug: BoundaryItem = {
  key: 'PAY-231',
  kind: 'bug',
  title: 'Checkout total fails',
  team: 'payments',
  component: 'checkout',
};

const judge = (e: LoggedEvent, item = paymentsBug, c: Charter = charter, extra = {}): BoundaryJudgement | null => {
  const decision = decisionOf(e, item);
  expect(decision, 'the event is a decision').not.toBeNull();
  return holdAgainstCharter(e, decision!, item, { charter: c, now: NOW, ...extra });
};

describe('holdAgainstCharter', () => {
  it('reports the Payments PM setting a bug priority as a product → engineering crossing', () => {
    const j = judge(by('priya.raman', { field: 'priority', to: 'P1' }), paymentsBug, exampleCharter)!;
    expect(j).toMatchObject({
      domain: 'eng.bug-triage',
      rule: 'bug-priority',
      team: { id: 'payments', name: 'Payments' },
      actor: { personId: 'priya.raman', role: 'product-manager' },
      standing: 'consulted',
      crossing: true,
      direction: 'product_to_engineering',
      owners: { decides: 'daniel.okafor', people: [{ id: 'daniel.okafor' }], consulted: ['product'] },
    });
    expect(j.sentence).toBe(
      'Priority of bug PAY-231 was set by a product manager (Priya). In the Payments charter, bug priority is decided by the tech lead (Daniel); product is consulted.',
    );
  });

  it('names the whole deciding group when the charter gives the decision to a group', () => {
    const j = judge(by('priya.raman', { field: 'severity', from: 'low', to: 'high' }))!;
    expect(j.crossing).toBe(true);
    expect(j.sentence).toBe(
      'Severity of bug PAY-231 was changed by a product manager (Priya). In the Payments charter, bug severity is decided by engineering (the tech lead Daniel, the engineering manager Grace and the engineers Mei, Tomás and Sara); product is consulted.',
    );
  });

  it('keeps the tech lead in lane', () => {
    const j = judge(by('daniel.okafor', { field: 'priority', to: 'P1' }), paymentsBug, leadCharter)!;
    expect(j).toMatchObject({ standing: 'decider', via: 'charter', crossing: false, direction: 'other' });
    expect(j.sentence).toBe(
      'Priority of bug PAY-231 was set by a tech lead (Daniel), who decides bug priority in the Payments charter.',
    );
  });

  it('counts a delegation in force as deciding, and an expired one not', () => {
    const inForce = judge(by('mei.chen', { field: 'priority', to: 'P2' }), paymentsBug, leadCharter)!;
    expect(inForce).toMatchObject({ standing: 'decider', via: 'delegation', crossing: false });
    expect(inForce.owners.delegates.map((p) => p.id)).toEqual(['mei.chen']);
    expect(inForce.sentence).toContain('by delegation until 2026-05-31 (tech lead at a conference)');

    const expired = judge(
      by('mei.chen', { field: 'priority', to: 'P2', occurredAt: '2026-06-01T00:00:00.000Z' }),
      paymentsBug,
      leadCharter,
      { now: new Date('2026-06-03T00:00:00Z') },
    )!;
    expect(expired).toMatchObject({ standing: 'outside', crossing: true, direction: 'other' });
    expect(expired.owners.delegates).toEqual([]);
    const priya = judge(by('priya.raman', { field: 'priority', to: 'P1' }), paymentsBug, leadCharter)!;
    expect(priya.sentence).toContain('(Daniel); until 2026-05-31 it is delegated to Mei; product is consulted.');

    // Judged at the event's time: a decision made while the delegation held stays in lane later on.
    const earlier = judge(by('mei.chen', { field: 'priority', to: 'P2' }), paymentsBug, leadCharter, {
      now: new Date('2026-07-01T00:00:00Z'),
    })!;
    expect(earlier.via).toBe('delegation');
  });

  it("honours the demo charter's delegation to the Platform delegate", () => {
    const j = judge(by(DEMO_CAST.bugTriageDelegate, { field: 'priority', to: 'P1' }), {
      ...paymentsBug,
      key: 'PLAT-9',
      team: 'platform',
      component: 'auth',
    })!;
    expect(j.standing).toBe('decider');
  });

  it('does not judge self-assignment, and reports assignment by the PM as a crossing', () => {
    const self = by('mei.chen', { field: 'assignee', to: 'mei.chen' });
    expect(decisionOf(self, paymentsBug)).toBeNull();

    const j = judge(by('priya.raman', { field: 'assignee', to: 'mei.chen' }))!;
    expect(j).toMatchObject({
      domain: 'eng.assignment',
      standing: 'informed',
      crossing: true,
      direction: 'product_to_engineering',
    });
    expect(j.sentence).toBe(
      'Bug PAY-231 was assigned to Mei by a product manager (Priya). In the Payments charter, assignment is decided by engineering (the tech lead Daniel, the engineering manager Grace and the engineers Mei, Tomás and Sara).',
    );
  });

  it('reports an engineer deciding a trio domain as engineering → product', () => {
    const j = judge(by('mei.chen', { field: 'priority', to: 'P1' }), { ...paymentsBug, kind: 'feature' })!;
    expect(j).toMatchObject({
      domain: 'trio.prioritization',
      standing: 'consulted',
      crossing: true,
      direction: 'engineering_to_product',
    });
  });

  it('reports bots apart', () => {
    for (const actorIdentity of ['github:dependabot[bot]', 'bot:sentry', 'jira:automation-for-jira']) {
      const j = judge(event({ actorIdentity, field: 'priority', to: 'P3' }), paymentsBug, charter, {
        bots: ['automation-for-jira'],
      })!;
      expect(j, actorIdentity).toMatchObject({ standing: 'bot', crossing: false, charterGap: false });
    }
    const j = judge(event({ actorIdentity: 'github:dependabot[bot]', field: 'priority', to: 'P3' }))!;
    expect(j.sentence).toBe(
      'Priority of bug PAY-231 was set by a bot (dependabot[bot]); bots are reported apart, not held against the charter.',
    );
  });

  it('reports a person missing from the charter as a charter gap, not a crossing', () => {
    const j = judge(event({ actorIdentity: 'jira:5f00dead', field: 'priority', to: 'P1' }))!;
    expect(j).toMatchObject({ standing: 'unknown', crossing: false, charterGap: true, actor: { personId: null } });
    expect(j.sentence).toBe(
      'Priority of bug PAY-231 was set by jira:5f00dead, who is not in the charter: a charter gap, not a crossing.',
    );
  });

  it('resolves the actor from the identity when ingestion could not', () => {
    const j = judge(event({ actorIdentity: 'github:priya-raman', field: 'priority', to: 'P1' }))!;
    expect(j.actor.personId).toBe('priya.raman');
  });

  it("keeps the incident commander's triage in lane during an incident on the component", () => {
    // Olivia, Platform's PM, commands an incident on checkout (unusual, but the charter must not call it a crossing).
    const e = by('olivia.brooks', { field: 'severity', to: 'critical' });
    const during = judge(e, paymentsBug, charter, { activeIncidents: { checkout: 'olivia.brooks' } })!;
    expect(during).toMatchObject({ standing: 'decider', via: 'incident', crossing: false });
    expect(during.sentence).toContain('the commander of the active incident on checkout');
    const elsewhere = judge(e, paymentsBug, charter, { activeIncidents: new Map([['ledger', 'olivia.brooks']]) })!;
    expect(elsewhere).toMatchObject({ standing: 'outside', crossing: true, direction: 'product_to_engineering' });
  });

  it('returns null when there is no team or no such domain to hold the decision against', () => {
    const e = by('priya.raman', { field: 'priority', to: 'P1' });
    const d: Decision = { domain: 'eng.bug-triage', rule: 'bug-priority' };
    expect(holdAgainstCharter(e, d, { kind: 'bug' }, { charter, now: NOW })).toBeNull();
    expect(holdAgainstCharter(e, { domain: 'eng.nope', rule: 'x' }, paymentsBug, { charter, now: NOW })).toBeNull();
    // The team follows from the component when the item names none.
    expect(holdAgainstCharter(e, d, { kind: 'bug', component: 'ledger' }, { charter, now: NOW })?.team.id).toBe(
      'payments',
    );
  });

  it('never throws on arbitrary events, actors and domains', () => {
    const actors = fc.constantFrom<[string | null, string | null]>(
      [null, null],
      ['jira:unknown-1', null],
      ['github:renovate[bot]', null],
      [`jira:${person('priya.raman').jira!}`, 'priya.raman'],
      ['lanes:mei.chen', 'mei.chen'],
      ['email:ghost@acme.example', 'ghost'],
    );
    const domains = fc.constantFrom(...DEFAULT_DOMAINS.map((d) => d.id), 'custom.thing', 'eng');
    fc.assert(
      fc.property(
        arbitraryEventSet(),
        fc.array(fc.tuple(actors, domains, fc.constantFrom('payments', 'growth', 'nope', null)), { minLength: 25 }),
        (events, extras) => {
          let item: ItemState | undefined;
          events.forEach((raw, i) => {
            const [[actorIdentity, actorPersonId], domain, team] = extras[i % extras.length]!;
            const e: LoggedEvent = { ...raw, actorIdentity, actorPersonId };
            item = applyEvent(item?.key === e.itemKey ? item : undefined, e);
            const withTeam = { ...item, team };
            const decision = decisionOf(e, withTeam) ?? { domain, rule: 'forced' };
            const j = holdAgainstCharter(e, decision, withTeam, {
              charter: leadCharter,
              now: NOW,
              activeIncidents: { checkout: 'mei.chen' },
            });
            if (j) {
              expect(STANDINGS).toContain(j.standing);
              expect(j.sentence.length).toBeGreaterThan(20);
              expect(j.crossing).toBe(['consulted', 'informed', 'outside'].includes(j.standing));
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the demo workspace', () => {
  it('shows the planted patterns plainly', () => {
    const index = buildCharterIndex(charter);
    const toLogged = (input: EventInput, n: number): LoggedEvent => {
      const actorIdentity = input.actor ? identityKey(input.actor) : null;
      const { key, ...snapshot } = input.item ?? { key: '' };
      return {
        id: `d${n}`,
        source: input.source,
        sourceEventId: input.sourceEventId,
        occurredAt: toUtcIso(input.occurredAt),
        receivedAt: toUtcIso(input.occurredAt),
        actorIdentity,
        actorPersonId: actorIdentity ? (index.personByIdentity.get(actorIdentity) ?? null) : null,
        itemKey: input.item ? key : null,
        item: input.item ? snapshot : null,
        kind: input.change.kind,
        field: input.change.field ?? null,
        from: input.change.from ?? null,
        to: input.change.to === undefined ? null : input.change.to,
        text: input.change.text ?? null,
        target: input.change.target ?? null,
        data: input.change.data ?? null,
        payload: undefined,
        payloadRef: null,
      };
    };

    // Events arrive item by item, each item's in order: fold as we go.
    const items = new Map<string, { state: ItemState; labels: ReadonlySet<string> }>();
    const judgements: BoundaryJudgement[] = [];
    let n = 0;
    for (const input of generateDemoEvents({ items: 300, seed: 42, now: NOW, charter })) {
      const e = toLogged(input, n++);
      if (e.itemKey === null) continue;
      const before = items.get(e.itemKey);
      const state = applyEvent(before?.state, e);
      const labels = foldLabels(before?.labels ?? new Set(), e);
      items.set(e.itemKey, { state, labels });
      const item = { ...state, labels };
      const decision = decisionOf(e, item);
      if (!decision) continue;
      const j = holdAgainstCharter(e, decision, item, { charter, now: NOW });
      if (j) judgements.push(j);
    }

    const share = (team: string, domain: string, pred: (j: BoundaryJudgement) => boolean) => {
      const all = judgements.filter(
        (j) =>
          j.team.id === team &&
          j.domain === domain &&
          j.standing !== 'bot' &&
          items.get(j.itemKey ?? '')?.state.kind === 'bug',
      );
      return { n: all.length, share: all.filter(pred).length / all.length };
    };
    const pmCrossing = (j: BoundaryJudgement) => j.crossing && j.actor.role === 'product-manager';

    const paymentsTriage = share('payments', 'eng.bug-triage', pmCrossing);
    const growthTriage = share('growth', 'eng.bug-triage', pmCrossing);
    expect(paymentsTriage.n).toBeGreaterThan(30);
    expect(growthTriage.n).toBeGreaterThan(30);
    expect(paymentsTriage.share).toBeGreaterThan(0.6);
    expect(growthTriage.share).toBeLessThan(0.12);

    // On bugs: the planted pattern is about bugs (tasks and features are assigned by engineering everywhere).
    const paymentsAssign = share('payments', 'eng.assignment', pmCrossing);
    const growthAssign = share('growth', 'eng.assignment', pmCrossing);
    expect(paymentsAssign.share).toBeGreaterThan(0.5);
    expect(growthAssign.share).toBeLessThan(0.15);

    // Payments' crossings run from product to engineering, and every one of them reads as a sentence.
    const paymentsCrossings = judgements.filter((j) => j.team.id === 'payments' && j.crossing);
    const towardsEngineering = paymentsCrossings.filter((j) => j.direction === 'product_to_engineering');
    expect(towardsEngineering.length / paymentsCrossings.length).toBeGreaterThan(0.9);
    expect(towardsEngineering[0]!.sentence).toMatch(
      /^(Priority|Severity) of bug PAY-\d+ was (set|changed) by a product manager \(Priya\)\. In the Payments charter, bug (priority|severity) is decided by engineering/,
    );

    // Platform's delegate triages in lane; people the charter does not know are gaps, not crossings.
    const delegate = judgements.filter((j) => j.actor.personId === DEMO_CAST.bugTriageDelegate);
    expect(delegate.every((j) => !j.crossing)).toBe(true);
    expect(judgements.filter((j) => j.standing === 'unknown').every((j) => !j.crossing)).toBe(true);
  });
});
