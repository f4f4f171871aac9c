import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignalRow } from '../api/quality.contract.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import type { Charter } from '../domain/charter.schema.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { EventInput } from '../domain/event.js';
import { defaultQualitySettings } from '../domain/quality.settings.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { withTransaction } from '../store/event.repository.js';
import { listSignals, replaceSignals } from '../store/quality.repository.js';
import type { ServiceContext } from './context.js';
import { computeDoraSignals, DORA_SIGNALS, doraSummary } from './dora.service.js';
import { appendEvents } from './events.service.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const demo = buildDemoCharter(42, NOW);
const charterIn = (timezone: string): Charter => ({
  ...demo,
  workspace: { ...demo.workspace, timezone },
  quality: { ...defaultQualitySettings(), incident_window_hours: 72 },
});

let seq = 0;
const ev = (at: string, change: EventInput['change'], item?: EventInput['item'], source = 'github'): EventInput => ({
  source,
  sourceEventId: `ev-${++seq}`,
  occurredAt: at,
  ...(item ? { item } : {}),
  change,
});
const pr = (repo: string, n: number, extra: Record<string, unknown> = {}) => ({ pr: n, repo, ...extra });
const deploy = (at: string, id: number, state: string, sha: string) =>
  ev(at, {
    kind: 'deployed',
    data: { repo: 'acme/checkout', environment: 'production', production: true, sha, state, deploymentId: id },
  });
const incident = (key: string, component: string, declared: string, resolved: string | null): EventInput[] => [
  ev(declared, { kind: 'created' }, { key, kind: 'incident', title: key, team: 'payments', component }, 'slack'),
  ev(declared, { kind: 'incident_declared', data: { severity: 'high' } }, { key }, 'slack'),
  ...(resolved ? [ev(resolved, { kind: 'incident_resolved', data: {} }, { key }, 'slack')] : []),
];

const scenario = (): EventInput[] => [
  // checkout: PR 1 named by deployment 11's sha; PR 2 carried by deployment 12 through the merge window.
  ev(
    '2026-05-04T09:00:00Z',
    { kind: 'pr_opened', data: pr('acme/checkout', 1, { firstCommitAt: '2026-05-03T09:00:00Z' }) },
    { key: 'acme/checkout#1' },
  ),
  ev(
    '2026-05-04T12:00:00Z',
    { kind: 'review_submitted', data: pr('acme/checkout', 1, { state: 'approved' }) },
    { key: 'acme/checkout#1' },
  ),
  ev(
    '2026-05-05T09:00:00Z',
    { kind: 'pr_merged', data: pr('acme/checkout', 1, { mergeCommitSha: 'aaaaaaa1' }) },
    { key: 'acme/checkout#1' },
  ),
  ev(
    '2026-05-05T09:00:00Z',
    { kind: 'pr_merged', data: pr('acme/checkout', 1, { mergeCommitSha: 'aaaaaaa1' }) },
    { key: 'PAY-1' },
  ),
  deploy('2026-05-05T12:00:00Z', 11, 'success', 'aaaaaaa1'),
  ev('2026-05-05T10:00:00Z', { kind: 'pr_opened', data: pr('acme/checkout', 2) }, { key: 'acme/checkout#2' }),
  ev('2026-05-06T10:00:00Z', { kind: 'pr_merged', data: pr('acme/checkout', 2) }, { key: 'acme/checkout#2' }),
  deploy('2026-05-07T07:50:00Z', 12, 'created', 'bbbbbbb2'),
  deploy('2026-05-07T08:00:00Z', 12, 'success', 'bbbbbbb2'),
  deploy('2026-05-08T08:00:00Z', 13, 'failure', 'ccccccc3'),
  // ledger, as the demo deploys: on the item, by service, naming its PR; Sunday 23:30 UTC.
  ev('2026-05-10T09:00:00Z', { kind: 'pr_opened', data: pr('acme/ledger', 5) }, { key: 'PAY-9' }),
  ev('2026-05-10T15:00:00Z', { kind: 'pr_merged', data: pr('acme/ledger', 5) }, { key: 'PAY-9' }),
  ev(
    '2026-05-10T23:30:00Z',
    { kind: 'deployed', data: { service: 'ledger', environment: 'production', deploymentId: 'dep-l1', pr: 5 } },
    { key: 'PAY-9' },
    'deploys',
  ),
  // INC-1: inferred to deployment 12 (2 h before); INC-2: nothing within 72 h; INC-3 names PR 1 → deployment 11.
  ...incident('INC-1', 'checkout', '2026-05-07T10:00:00Z', '2026-05-07T14:00:00Z'),
  ...incident('INC-2', 'checkout', '2026-05-20T10:00:00Z', '2026-05-20T11:00:00Z'),
  ...incident('INC-3', 'ledger', '2026-05-12T09:00:00Z', '2026-05-12T10:00:00Z'),
  ev(
    '2026-05-12T09:30:00Z',
    { kind: 'linked', target: 'acme/checkout#1', data: { relation: 'caused by' } },
    { key: 'INC-3' },
    'slack',
  ),
];

const pick = (rows: readonly SignalRow[], signal: string, component: string | null, week: string) =>
  rows.find((r) => r.signal === signal && r.team === 'payments' && r.component === component && r.week === week);

describe.each(testEngines())('DORA signals on $engine', ({ open }) => {
  let database: Database;
  let n = 0;
  const ctxFor = (timezone: string): ServiceContext => {
    const charter = charterIn(timezone);
    const loaded = { charter, index: buildCharterIndex(charter), path: 'lanes.yaml', loadedAt: NOW.toISOString() };
    return {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => `e${String(++n).padStart(6, '0')}`,
      charter: () => loaded,
    };
  };
  beforeEach(async () => {
    database = await open();
    await appendEvents(ctxFor('UTC'), scenario());
  });
  afterEach(async () => {
    await database.close();
  });

  it('computes the four keys per component and team, explaining every link', async () => {
    const rows = await withTransaction(database, (tx) => computeDoraSignals(ctxFor('UTC'), tx, { now: NOW }));
    const w1 = '2026-05-04';
    expect(pick(rows, 'dora.deployments', 'checkout', w1)).toMatchObject({ value: 2 });
    expect(pick(rows, 'dora.deploy_days', 'checkout', w1)).toMatchObject({ value: 2 });
    const lead = pick(rows, 'dora.lead_time_median_h', 'checkout', w1)!;
    expect(lead.value).toBe(48.5); // 51 h (first commit → deployment 11) and 46 h (opened → deployment 12)
    expect(lead.details!['prs']).toEqual([
      { pr: 'acme/checkout#1', deployment: 'acme/checkout@11', hours: 51, inferred: false },
      { pr: 'acme/checkout#2', deployment: 'acme/checkout@12', hours: 46, inferred: true },
    ]);
    const cfr = pick(rows, 'dora.change_failure_rate', 'checkout', w1)!;
    expect(cfr).toMatchObject({ value: 1, numerator: 2, denominator: 2 });
    expect(cfr.details!['failed']).toEqual(
      expect.arrayContaining([
        { deployment: 'acme/checkout@12', incidents: ['INC-1'], inferred: true },
        { deployment: 'acme/checkout@11', incidents: ['INC-3'], inferred: false },
      ]),
    );
    expect(pick(rows, 'dora.recovery_median_h', 'checkout', w1)).toMatchObject({ value: 4, denominator: 1 });
    expect(pick(rows, 'dora.recovery_median_h', 'checkout', '2026-05-11')).toMatchObject({ value: 1 });
    // the ledger deployment (Sunday 23:30 UTC) is in the week of 4 May in UTC
    expect(pick(rows, 'dora.deployments', 'ledger', w1)).toMatchObject({ value: 1 });
    expect(pick(rows, 'dora.lead_time_median_h', 'ledger', w1)).toMatchObject({ value: 14.5 });
    expect(pick(rows, 'dora.deployments', null, w1)).toMatchObject({ value: 3 });
    expect(pick(rows, 'dora.deploy_days', null, w1)).toMatchObject({ value: 3 });
    // empty weeks read 0 deployments and no rate, up to the week of now
    expect(pick(rows, 'dora.deployments', 'checkout', '2026-06-01')).toMatchObject({ value: 0 });
    expect(pick(rows, 'dora.change_failure_rate', 'checkout', '2026-06-01')).toMatchObject({ value: null });
    expect(new Set(rows.map((r) => r.signal))).toEqual(new Set(DORA_SIGNALS));

    await withTransaction(database, (tx) => replaceSignals(tx, DORA_SIGNALS, rows));
    const stored = await listSignals(database, { team: 'payments', signals: DORA_SIGNALS });
    expect(stored).toHaveLength(rows.length);

    const summary = doraSummary(stored, '2024');
    const checkout = summary.find((s) => s.component === 'checkout')!;
    expect(checkout.weeks).toEqual(['2026-05-11', '2026-05-18', '2026-05-25', '2026-06-01']);
    expect(checkout.deploymentFrequency).toEqual({ value: 0, band: 'low' });
    expect(checkout.recoveryHours).toEqual({ value: 1, band: 'high' }); // elite is under one hour
    expect(doraSummary(stored, '2024', 5).find((s) => s.component === 'checkout')!.changeFailureRate).toEqual({
      value: 1,
      band: 'low',
    });
  });

  it('counts deploy days in the workspace time zone and honours teams and sinceWeek', async () => {
    const rows = await withTransaction(database, (tx) =>
      computeDoraSignals(ctxFor('Asia/Tokyo'), tx, { now: NOW, sinceWeek: '2026-05-11' }),
    );
    expect(pick(rows, 'dora.deploy_days', 'ledger', '2026-05-11')).toMatchObject({ value: 1 });
    expect(pick(rows, 'dora.deploy_days', 'ledger', '2026-05-11')!.details!['days']).toEqual(['2026-05-11']);
    expect(rows.every((r) => r.week >= '2026-05-11')).toBe(true);
    const none = await withTransaction(database, (tx) =>
      computeDoraSignals(ctxFor('UTC'), tx, { now: NOW, teams: ['growth'] }),
    );
    expect(none).toEqual([]);
  });
});
