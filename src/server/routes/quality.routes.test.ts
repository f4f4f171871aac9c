import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignalRow } from '../../api/quality.contract.js';
import { buildCharterIndex } from '../../domain/charter.identity.js';
import { charterSchema } from '../../domain/charter.schema.js';
import { findingIdOf } from '../../domain/findings.js';
import { addWeeks, weekOf } from '../../domain/week.js';
import type { LoadedCharter } from '../../services/context.js';
import { evaluateFindings } from '../../services/findings.service.js';
import type { Database } from '../../store/database.js';
import { testEngines } from '../../store/engines.test-helper.js';
import { withTransaction } from '../../store/event.repository.js';
import { upsertSignals } from '../../store/quality.repository.js';
import { buildTestServer, type TestServer } from '../server.test-helper.js';

/** The test server's clock. */
const NOW = new Date('2026-06-01T00:00:00Z');
const ID = findingIdOf('bug-inflow-exceeds-outflow', 'payments', 'checkout');
const PLAN = 'https://jira.example/browse/ENG-7';

const charter = charterSchema.parse({
  version: 1,
  workspace: { id: 'acme', name: 'Acme' },
  people: [
    { id: 'sam.lee', name: 'Sam Lee', role: 'tech-lead' },
    { id: 'dana.ross', name: 'Dana Ross', role: 'product-manager' },
    { id: 'dee.kim', name: 'Dee Kim', role: 'designer' },
    { id: 'vic.tor', name: 'Vic Tor', role: 'engineering-leadership', email: 'vic@acme.example' },
  ],
  teams: [
    {
      id: 'payments',
      name: 'Payments',
      members: ['sam.lee', 'dana.ross', 'dee.kim'],
      trio: { product: 'dana.ross', design: 'dee.kim', tech: 'sam.lee' },
      components: ['checkout'],
      escalation: 'vic.tor',
    },
  ],
});
const loaded: LoadedCharter = {
  charter,
  index: buildCharterIndex(charter),
  path: 'lanes.yaml',
  loadedAt: NOW.toISOString(),
};

const row = (signal: string, week: string, value: number): SignalRow => ({
  signal,
  team: 'payments',
  component: 'checkout',
  week,
  value,
  numerator: null,
  denominator: null,
  details: null,
});

describe.each(testEngines())('escalation moves through the API on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  beforeEach(async () => {
    database = await open();
    t = await buildTestServer(database, { charter: loaded });
    const week = weekOf(NOW);
    await withTransaction(database, (tx) =>
      upsertSignals(
        tx,
        Array.from({ length: 5 }, (_, i) => addWeeks(week, i - 4)).flatMap((w) => [
          row('bugs.inflow', w, 8),
          row('bugs.outflow', w, 2),
        ]),
      ),
    );
    expect((await evaluateFindings(t.ctx, NOW)).opened).toEqual([ID]);
  });
  afterEach(async () => {
    await t.server.app.close();
    await database.close();
  });

  const move = (body: Record<string, unknown>) =>
    t.as('member', {
      method: 'POST',
      url: `/api/v1/escalations/${encodeURIComponent(ID)}/transition`,
      payload: body,
    });
  const audit = async () => {
    const res = await t.as('admin', { method: 'GET', url: '/api/v1/audit' });
    expect(res.statusCode).toBe(200);
    return (
      res.json() as { entries: Array<{ action: string; actor: string; target: string | null; details: unknown }> }
    ).entries;
  };
  const escalationEntries = async () => (await audit()).filter((e) => e.action.startsWith('escalation.')).reverse();

  it('records every move by a person in the audit log an admin reads, and keeps the escalation history', async () => {
    expect((await move({ to: 'acknowledged' })).statusCode).toBe(200);
    expect((await move({ to: 'action_planned', planUrl: PLAN })).statusCode).toBe(200);
    expect((await move({ to: 'resolved' })).statusCode).toBe(200);
    expect((await move({ to: 'open', reason: 'still seeing it in support' })).statusCode).toBe(200);
    const last = await move({ to: 'dismissed', reason: 'known migration backlog' });
    expect(last.statusCode).toBe(200);

    expect(await escalationEntries()).toEqual([
      {
        id: expect.any(String),
        at: NOW.toISOString(),
        actor: 'member@acme.example',
        action: 'escalation.acknowledge',
        target: ID,
        details: { from: 'open', to: 'acknowledged', byName: 'member' },
      },
      expect.objectContaining({
        action: 'escalation.plan',
        target: ID,
        details: { from: 'acknowledged', to: 'action_planned', planUrl: PLAN, byName: 'member' },
      }),
      expect.objectContaining({
        action: 'escalation.resolve',
        details: { from: 'action_planned', to: 'resolved', byName: 'member' },
      }),
      expect.objectContaining({
        action: 'escalation.reopen',
        details: { from: 'resolved', to: 'open', reason: 'still seeing it in support', byName: 'member' },
      }),
      expect.objectContaining({
        action: 'escalation.dismiss',
        actor: 'member@acme.example',
        details: { from: 'open', to: 'dismissed', reason: 'known migration backlog', byName: 'member' },
      }),
    ]);

    // The escalation's own history still tells the same story.
    const brief = await t.as('member', { method: 'GET', url: `/api/v1/escalations/${encodeURIComponent(ID)}` });
    const history = (brief.json() as { history: Array<{ from: string | null; to: string; by: string }> }).history;
    expect(history.map((h) => h.to)).toEqual([
      'open',
      'acknowledged',
      'action_planned',
      'resolved',
      'open',
      'dismissed',
    ]);
    expect(history.slice(1).every((h) => h.by !== 'lanes')).toBe(true);
  });

  it('records nothing for a move that is refused, and shows the audit log to admins only', async () => {
    expect((await move({ to: 'resolved' })).statusCode).toBe(409);
    expect((await move({ to: 'dismissed' })).statusCode).toBe(400);
    expect(
      (
        await t.as('stakeholder', {
          method: 'POST',
          url: `/api/v1/escalations/${encodeURIComponent(ID)}/transition`,
          payload: { to: 'acknowledged' },
        })
      ).statusCode,
    ).toBe(403);
    expect(await escalationEntries()).toEqual([]);
    expect((await t.as('member', { method: 'GET', url: '/api/v1/audit' })).statusCode).toBe(403);
    // The automatic opening by the evaluation is not a person's move: it is in the history only.
    expect((await audit()).some((e) => e.target === ID)).toBe(false);
  });
});
