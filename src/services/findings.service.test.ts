import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignalRow } from '../api/quality.contract.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { charterSchema, type CharterInput } from '../domain/charter.schema.js';
import { findingIdOf } from '../domain/findings.js';
import { addWeeks, weekOf } from '../domain/week.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { withTransaction } from '../store/event.repository.js';
import { upsertSignals } from '../store/quality.repository.js';
import type { ServiceContext } from './context.js';
import {
  evaluateFindings,
  escalationBrief,
  exportEscalationsMarkdown,
  leadershipContactOf,
  listEscalations,
  qualityOverview,
  transitionEscalation,
} from './findings.service.js';

const NOW = new Date('2026-03-04T10:00:00.000Z');
const WEEK = weekOf(NOW);
const ME = { id: 'u1', name: 'Lee Lead' };

const charterInput = (escalation = 'vic.tor'): CharterInput => ({
  version: 1,
  workspace: { id: 'acme', name: 'Acme' },
  people: [
    { id: 'sam.lee', name: 'Sam Lee', role: 'tech-lead' },
    { id: 'ana.diaz', name: 'Ana Diaz', role: 'engineer', email: 'ana@acme.example' },
    { id: 'dana.ross', name: 'Dana Ross', role: 'product-manager' },
    { id: 'dee.kim', name: 'Dee Kim', role: 'designer' },
    { id: 'vic.tor', name: 'Vic Tor', role: 'engineering-leadership', email: 'vic@acme.example' },
  ],
  teams: [
    {
      id: 'payments',
      name: 'Payments',
      members: ['sam.lee', 'ana.diaz', 'dana.ross', 'dee.kim'],
      trio: { product: 'dana.ross', design: 'dee.kim', tech: 'sam.lee' },
      components: ['checkout', 'ledger'],
      escalation,
    },
  ],
});

const row = (signal: string, week: string, value: number | null, extra: Partial<SignalRow> = {}): SignalRow => ({
  signal,
  team: 'payments',
  component: null,
  week,
  value,
  numerator: null,
  denominator: null,
  details: null,
  ...extra,
});

/** Checkout: 5 weeks of more bugs in than out, up to `last`. */
const bugFlow = (last: string, outflow = 2): SignalRow[] =>
  Array.from({ length: 5 }, (_, i) => addWeeks(last, i - 4)).flatMap((w) => [
    row('bugs.inflow', w, 8, {
      component: 'checkout',
      details: { items: [{ id: 'PAY-1', url: 'https://jira.example/PAY-1' }] },
    }),
    row('bugs.outflow', w, outflow, { component: 'checkout' }),
  ]);

for (const engine of testEngines()) {
  describe(`findings service on ${engine.engine}`, () => {
    let database: Database;
    let ctx: ServiceContext;
    let now = NOW;
    let n = 0;

    beforeEach(async () => {
      database = await engine.open();
      now = NOW;
      const charter = charterSchema.parse(charterInput());
      const loaded = { charter, index: buildCharterIndex(charter), path: 'test', loadedAt: NOW.toISOString() };
      ctx = {
        database,
        logger: pino({ level: 'silent' }),
        clock: () => now,
        newId: () => `id-${++n}`,
        charter: () => loaded,
      };
    });
    afterEach(async () => {
      await database.close();
    });

    const put = (rows: SignalRow[]) => withTransaction(database, (tx) => upsertSignals(tx, rows));

    it('opens one escalation per finding, addressed to leadership, and records a notification', async () => {
      await put([...bugFlow(WEEK), row('pace.after_hours_share', WEEK, 0.3)]);
      const first = await evaluateFindings(ctx, NOW);
      const bugId = findingIdOf('bug-inflow-exceeds-outflow', 'payments', 'checkout');
      expect(first.opened.sort()).toEqual([bugId, findingIdOf('after-hours-share', 'payments', null)].sort());

      // Evaluating again updates, never duplicates.
      now = new Date(NOW.getTime() + 3_600_000);
      const second = await evaluateFindings(ctx, now);
      expect(second.opened).toEqual([]);
      expect(second.updated).toHaveLength(2);
      const list = await listEscalations(ctx, { team: 'payments' });
      expect(list).toHaveLength(2);
      const bug = list.find((v) => v.id === bugId)!;
      expect(bug.state).toBe('open');
      expect(bug.addressedTo).toEqual({ id: 'vic.tor', name: 'Vic Tor', role: 'engineering-leadership' });
      expect(bug.finding.firstSeen).toBe(NOW.toISOString());
      expect(bug.finding.lastSeen).toBe(now.toISOString());
      expect(bug.finding.evidence.links[0]!.url).toBe('https://jira.example/PAY-1');

      const notes = await database.db.selectFrom('escalation_notification').selectAll().orderBy('id').execute();
      expect(notes).toHaveLength(2);
      expect(notes.every((x) => x.person_id === 'vic.tor' && x.address === 'vic@acme.example')).toBe(true);
      expect(notes.map((x) => x.subject).join()).toContain('New systemic finding for Payments');
    });

    it('never addresses an individual contributor', () => {
      const charter = charterSchema.parse(charterInput('ana.diaz'));
      expect(leadershipContactOf(charter, 'payments')!.id).toBe('vic.tor');
      const noLeader = charterSchema.parse({
        ...charterInput('ana.diaz'),
        people: charterInput().people.filter((p) => p.role !== 'engineering-leadership'),
      });
      expect(leadershipContactOf(noLeader, 'payments')).toBeNull();
    });

    it('validates the lifecycle: action planned needs a link, dismissed a reason, no skipping back', async () => {
      await put(bugFlow(WEEK));
      await evaluateFindings(ctx, NOW);
      const id = findingIdOf('bug-inflow-exceeds-outflow', 'payments', 'checkout');
      await expect(transitionEscalation(ctx, id, { to: 'action_planned' }, ME)).rejects.toMatchObject({
        code: 'LANES_VALIDATION',
      });
      await expect(transitionEscalation(ctx, id, { to: 'dismissed' }, ME)).rejects.toMatchObject({
        code: 'LANES_VALIDATION',
      });
      await expect(transitionEscalation(ctx, id, { to: 'resolved' }, ME)).rejects.toMatchObject({
        code: 'LANES_CONFLICT',
      });
      await expect(transitionEscalation(ctx, 'nope', { to: 'acknowledged' }, ME)).rejects.toMatchObject({
        code: 'LANES_NOT_FOUND',
      });
      expect((await transitionEscalation(ctx, id, { to: 'acknowledged' }, ME)).state).toBe('acknowledged');
      const planned = await transitionEscalation(
        ctx,
        id,
        { to: 'action_planned', planUrl: 'https://jira.example/ENG-7' },
        ME,
      );
      expect(planned.state).toBe('action_planned');
      expect(planned.planUrl).toBe('https://jira.example/ENG-7');
      expect(planned.history.map((h) => h.to)).toEqual(['open', 'acknowledged', 'action_planned']);
      expect(planned.history[2]!.byName).toBe('Lee Lead');
      expect(planned.transitions).toEqual(['resolved', 'dismissed']);
    });

    it('marks a finding inactive when the pattern is gone and reopens it when it returns', async () => {
      await put(bugFlow(WEEK));
      await evaluateFindings(ctx, NOW);
      const id = findingIdOf('bug-inflow-exceeds-outflow', 'payments', 'checkout');
      await transitionEscalation(ctx, id, { to: 'acknowledged' }, ME);
      await transitionEscalation(ctx, id, { to: 'resolved' }, ME);

      // Next week the component closes more than it receives: the pattern is gone.
      const next = addWeeks(WEEK, 1);
      now = new Date(`${next}T10:00:00.000Z`);
      await put([
        row('bugs.inflow', next, 1, { component: 'checkout' }),
        row('bugs.outflow', next, 9, { component: 'checkout' }),
      ]);
      expect((await evaluateFindings(ctx, now)).cleared).toEqual([id]);
      expect(await listEscalations(ctx, { team: 'payments' })).toEqual([]);
      expect((await listEscalations(ctx, { team: 'payments', all: 'true' }))[0]!.active).toBe(false);

      // Five weeks later it is back: reopened automatically, and leadership hears again.
      const later = addWeeks(next, 5);
      now = new Date(`${later}T10:00:00.000Z`);
      await put(bugFlow(later));
      const back = await evaluateFindings(ctx, now);
      expect(back.reopened).toEqual([id]);
      const brief = await escalationBrief(ctx, id);
      expect(brief.state).toBe('open');
      expect(brief.reopenedCount).toBe(1);
      expect(brief.history.at(-1)).toMatchObject({ from: 'resolved', to: 'open', by: 'lanes' });
      const notes = await database.db.selectFrom('escalation_notification').select('reason').execute();
      expect(notes.map((x) => x.reason).sort()).toEqual(['opened', 'reopened']);
    });

    it('keeps a dismissed finding dismissed while the pattern lasts', async () => {
      await put(bugFlow(WEEK));
      await evaluateFindings(ctx, NOW);
      const id = findingIdOf('bug-inflow-exceeds-outflow', 'payments', 'checkout');
      await transitionEscalation(ctx, id, { to: 'dismissed', reason: 'planned migration backlog' }, ME);
      const next = addWeeks(WEEK, 1);
      now = new Date(`${next}T10:00:00.000Z`);
      await put(bugFlow(next));
      expect((await evaluateFindings(ctx, now)).reopened).toEqual([]);
      expect((await escalationBrief(ctx, id)).reason).toBe('planned migration backlog');
    });

    it('lists the bug-triage and assignment crossings that bear on a brief', async () => {
      await put([row('pace.after_hours_share', WEEK, 0.3)]);
      await evaluateFindings(ctx, NOW);
      const decision = (eventId: string, domain: string, crossing: number) => ({
        event_id: eventId,
        item_key: 'PAY-1',
        occurred_at: '2026-03-02T09:00:00.000Z',
        week: WEEK,
        team: 'payments',
        domain,
        rule: 'r',
        actor_role: 'product-manager',
        standing: 'outside',
        via: null,
        direction: 'product_to_engineering',
        crossing,
        sentence: `Dana set the priority of PAY-1 (${eventId})`,
        owners: '{}',
      });
      await database.db
        .insertInto('boundary_decision')
        .values([
          decision('e1', 'eng.bug-triage', 1),
          decision('e2', 'eng.assignment', 1),
          decision('e3', 'eng.bug-triage', 0),
          decision('e4', 'product.scope', 1),
        ])
        .execute();
      const brief = await escalationBrief(ctx, findingIdOf('after-hours-share', 'payments', null));
      expect(brief.crossingCount).toBe(2);
      expect(brief.crossings.map((c) => c.eventId).sort()).toEqual(['e1', 'e2']);

      const md = await exportEscalationsMarkdown(ctx, 'payments');
      expect(md).toContain('# Escalations — Payments');
      expect(md).toContain('**Addressed to:** Vic Tor');
      expect(md).toContain('staffing — 50 %');
      expect(md).toContain('Boundary crossings that bear on it** (2)');
    });

    it('presents the Quality overview: rows, current figures with DORA bands, open findings, pace team-level only', async () => {
      await put([
        ...bugFlow(WEEK),
        row('dora.change_failure_rate', WEEK, 0.5, { component: 'checkout', numerator: 5, denominator: 10 }),
        row('dora.lead_time_median_h', WEEK, 30, { component: 'checkout' }),
        row('pace.wip', WEEK, 7),
        row('pace.wip', WEEK, 3, { component: 'checkout' }),
      ]);
      await evaluateFindings(ctx, NOW);
      const overview = await qualityOverview(ctx, { team: 'payments', weeks: 26, component: 'checkout' });
      expect(overview.doraYear).toBe('2024');
      expect(overview.signals.some((r) => r.signal === 'pace.wip' && r.component !== null)).toBe(false);
      const cfr = overview.current.find((c) => c.signal === 'dora.change_failure_rate')!;
      expect(cfr.band).toBe('low');
      expect(overview.current.find((c) => c.signal === 'dora.lead_time_median_h')!.band).toBe('high');
      expect(overview.findings.map((f) => f.finding.rule).sort()).toEqual([
        'bug-inflow-exceeds-outflow',
        'change-failure-rate-above-band',
      ]);
      await expect(qualityOverview(ctx, { team: 'nope', weeks: 26 })).rejects.toMatchObject({
        code: 'LANES_NOT_FOUND',
      });
    });
  });
}
