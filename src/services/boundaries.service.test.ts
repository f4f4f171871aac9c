import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { buildCharterIndex } from '../domain/charter.identity.js';
import type { Charter } from '../domain/charter.schema.js';
import { buildDemoCharter, DEMO_CAST } from '../domain/demo/demo.charter.js';
import type { EventInput } from '../domain/event.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import {
  boundariesCurrent,
  boundaryReport,
  middlemanReport,
  recomputeBoundaries,
  recomputeBoundariesIfStale,
} from './boundaries.service.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { loadDemo } from './demo.service.js';
import { appendEvents } from './events.service.js';

const NOW = new Date('2026-06-01T00:00:00Z');

const loadedOf = (charter: Charter): LoadedCharter => ({
  charter,
  index: buildCharterIndex(charter),
  path: 'lanes.yaml',
  loadedAt: NOW.toISOString(),
});

/** Every stored judgement and signal, in a stable order, for comparing the incremental path with a recompute. */
const snapshot = async (database: Database) => ({
  decisions: await database.db.selectFrom('boundary_decision').selectAll().orderBy('event_id').execute(),
  weeks: (
    await database.db
      .selectFrom('boundary_week')
      .selectAll()
      .where('decisions', '!=', 0)
      .orderBy('team')
      .orderBy('week')
      .orderBy('domain')
      .orderBy('actor_role')
      .orderBy('standing')
      .orderBy('direction')
      .execute()
  ).map((r) => ({ ...r, decisions: Number(r.decisions) })),
  signals: await database.db.selectFrom('middleman_signal').selectAll().orderBy('event_id').execute(),
  middleman: (
    await database.db
      .selectFrom('middleman_week')
      .selectAll()
      .where('signals', '!=', 0)
      .orderBy('team')
      .orderBy('week')
      .orderBy('person_id')
      .orderBy('kind')
      .execute()
  ).map((r) => ({ ...r, signals: Number(r.signals) })),
});

describe.each(testEngines())('boundary monitor on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let loaded: LoadedCharter | undefined;
  let n = 0;
  const charter = buildDemoCharter(42, NOW);
  const person = (id: string) => charter.people.find((p) => p.id === id)!;

  beforeEach(async () => {
    database = await open();
    loaded = loadedOf(charter);
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => `e${String(++n).padStart(8, '0')}`,
      charter: () => loaded,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  it('judges the demo workspace as it is loaded, exactly as a full recompute does, and shows the planted pattern', async () => {
    await loadDemo(ctx, { items: 400, seed: 42, now: NOW, batchSize: 700 });
    const incremental = await snapshot(database);
    expect(incremental.decisions.length).toBeGreaterThan(500);
    expect(await boundariesCurrent(ctx)).toBe(false);

    const result = await recomputeBoundaries(ctx);
    expect(result.decisions).toBe(incremental.decisions.length);
    expect(await snapshot(database)).toEqual(incremental);
    expect(await boundariesCurrent(ctx)).toBe(true);
    expect(await recomputeBoundariesIfStale(ctx)).toBeNull();

    const report = await boundaryReport(ctx, { since: '365d' });
    const payments = report.teams.find((t) => t.team.id === 'payments')!;
    const growth = report.teams.find((t) => t.team.id === 'growth')!;
    const triage = payments.domains.find((d) => d.domain === 'eng.bug-triage')!;
    const assignment = payments.domains.find((d) => d.domain === 'eng.assignment')!;
    // Pattern (a): on Payments the PM sets most bug priorities and many assignments; product → engineering.
    expect(triage.shareInLane).toBeLessThan(0.5);
    expect(triage.directions.product_to_engineering).toBeGreaterThan(triage.crossings * 0.8);
    expect(assignment.crossings).toBeGreaterThan(0);
    expect(payments.concentration[0]!.domain).toMatch(/^eng\.(bug-triage|assignment)$/);
    expect(triage.byRole.find((r) => r.role === 'product-manager')!.crossings).toBeGreaterThan(0);
    // Growth's triage stays with engineering.
    expect(growth.domains.find((d) => d.domain === 'eng.bug-triage')!.shareInLane).toBeGreaterThan(0.85);
    // The weekly trend covers every week since the start, and adds up to the totals.
    expect(payments.weeks.reduce((s, w) => s + w.decisions, 0)).toBe(payments.totals.decisions);
    expect(payments.examples.length).toBeGreaterThan(0);
    expect(payments.examples[0]!.sentence).toMatch(/Payments charter/);
    const pm = person(DEMO_CAST.paymentsPm);
    expect(payments.examples.some((e) => e.sentence.includes(pm.name.split(' ')[0]!))).toBe(true);

    // The middleman load: stakeholders ping, the Payments PM relays.
    const middleman = await middlemanReport(ctx, { team: 'payments', since: '365d' });
    const team = middleman.teams[0]!;
    expect(team.totals.pings).toBeGreaterThan(0);
    expect(team.totals.relays).toBeGreaterThan(0);
    expect(team.productManagers.map((p) => p.personId)).toContain(DEMO_CAST.paymentsPm);
  });

  it('never returns per-person counts in a boundary report', async () => {
    await loadDemo(ctx, { items: 200, seed: 42, now: NOW });
    const report = await boundaryReport(ctx, { since: '365d' });
    // Sentences of examples name who acted (that is how a reader understands one crossing); nothing else may.
    const stripped = JSON.stringify(report, (key, value: unknown) => (key === 'sentence' ? undefined : value));
    for (const p of charter.people) {
      expect(stripped).not.toContain(`"${p.id}"`);
      expect(stripped).not.toContain(p.name);
      for (const identity of [p.github, p.jira, p.email, p.slack]) {
        if (identity) expect(stripped).not.toContain(identity);
      }
    }
    // And no key of any object in it is a person.
    const keys = new Set<string>();
    JSON.parse(stripped, (key, value: unknown) => {
      keys.add(key);
      return value;
    });
    for (const p of charter.people) expect(keys.has(p.id)).toBe(false);
  });

  const pm = DEMO_CAST.paymentsPm;
  const bugEvent = (id: string, at: string, actor: string, change: EventInput['change']): EventInput => ({
    source: 'jira',
    sourceEventId: id,
    occurredAt: at,
    actor: { kind: 'jira', id: person(actor).jira! },
    item: {
      key: 'PAY-9001',
      kind: 'bug',
      title: 'Card declined on retry',
      team: 'payments',
      component: 'checkout-api',
    },
    change,
  });

  it('re-judges an item whose events arrive out of order, matching a recompute', async () => {
    const lead = charter.teams.find((t) => t.id === 'payments')!.trio.tech;
    const created = bugEvent('c1', '2026-05-10T09:00:00Z', lead, { kind: 'created' });
    const priority = bugEvent('p1', '2026-05-10T10:00:00Z', pm, {
      kind: 'field_changed',
      field: 'priority',
      from: null,
      to: 'P1',
    });
    // Delivered backwards: the priority first (no kind known yet beyond its snapshot), then the creation.
    await appendEvents(ctx, [priority]);
    await appendEvents(ctx, [created]);
    const afterIncremental = await snapshot(database);
    await recomputeBoundaries(ctx);
    expect(await snapshot(database)).toEqual(afterIncremental);
    const row = afterIncremental.decisions.find((d) => d.domain === 'eng.bug-triage')!;
    expect(row).toMatchObject({ standing: expect.stringMatching(/consulted|informed|outside/), crossing: 1 });
    expect(row.direction).toBe('product_to_engineering');
    // Weekly counts did not double-count the re-judged decision.
    expect(
      afterIncremental.weeks.filter((w) => w.domain === 'eng.bug-triage').reduce((s, w) => s + w.decisions, 0),
    ).toBe(1);
  });

  it('stores nothing for a re-delivered event and counts a comment ping for the team PM', async () => {
    const ping: EventInput = {
      source: 'github',
      sourceEventId: 'ping-1',
      occurredAt: '2026-05-12T09:00:00Z',
      actor: { kind: 'github', id: 'some-customer' },
      item: { key: 'PAY-9002', kind: 'bug', team: 'payments' },
      change: { kind: 'commented', text: 'Any update on this? Our customers keep asking when it will be fixed.' },
    };
    await appendEvents(ctx, [ping]);
    await appendEvents(ctx, [ping]);
    const snap = await snapshot(database);
    expect(snap.signals).toHaveLength(1);
    expect(snap.signals[0]).toMatchObject({ kind: 'ping', team: 'payments', person_id: pm });
    expect(snap.middleman).toEqual([{ team: 'payments', week: '2026-05-11', person_id: pm, kind: 'ping', signals: 1 }]);
  });

  it("applies the team's own decision rules from lanes.yaml, and recomputes when they change", async () => {
    const feature = (id: string, change: EventInput['change']): EventInput => ({
      ...bugEvent(id, '2026-05-10T10:00:00Z', pm, change),
      item: { key: 'PAY-9100', kind: 'feature', title: 'Saved cards', team: 'payments' },
    });
    await appendEvents(ctx, [
      feature('m1', { kind: 'field_changed', field: 'milestone', to: '2026.6' }),
      bugEvent('a1', '2026-05-10T11:00:00Z', pm, { kind: 'field_changed', field: 'assignee', to: 'mei.chen' }),
    ]);
    let rows = (await snapshot(database)).decisions;
    expect(rows.map((r) => r.rule)).toEqual(['assignment']);

    loaded = loadedOf({
      ...charter,
      decision_rules: {
        rules: [
          {
            id: 'feature-milestone',
            domain: 'trio.prioritization',
            when: { change: ['field_changed'], field: ['milestone'], item_kind: ['feature'] },
          },
        ],
        disable: ['assignment'],
      },
    });
    expect(await boundariesCurrent(ctx)).toBe(false);
    await recomputeBoundariesIfStale(ctx);
    rows = (await snapshot(database)).decisions;
    expect(rows.map((r) => [r.rule, r.domain, r.standing])).toEqual([
      ['feature-milestone', 'trio.prioritization', 'decider'],
    ]);
  });

  it('judges nothing without a charter, and refuses a recompute with a clear code', async () => {
    loaded = undefined;
    await appendEvents(ctx, [
      bugEvent('x1', '2026-05-10T10:00:00Z', pm, { kind: 'field_changed', field: 'priority', to: 'P1' }),
    ]);
    expect((await snapshot(database)).decisions).toHaveLength(0);
    await expect(recomputeBoundaries(ctx)).rejects.toMatchObject({ code: 'LANES_CHARTER_NOT_FOUND' });
  });

  it('rejects an unreadable since and an unknown team', async () => {
    await expect(boundaryReport(ctx, { since: 'last year' })).rejects.toMatchObject({ code: 'LANES_VALIDATION' });
    await expect(boundaryReport(ctx, { team: 'nope' })).rejects.toMatchObject({ code: 'LANES_NOT_FOUND' });
  });
});
