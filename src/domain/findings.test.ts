import { describe, expect, it } from 'vitest';
import { findingIdOf, resolveThresholds, runCatalog, unknownThresholds, type SignalRow } from './findings.js';

import { defaultQualitySettings } from './quality.settings.js';
import { addWeeks, weekOf } from './week.js';

const NOW = '2026-03-02'; // a Monday
const weeksBack = (n: number): string[] => Array.from({ length: n }, (_, i) => addWeeks(NOW, i - n + 1));

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

const run = (rows: SignalRow[], settings = defaultQualitySettings()) =>
  runCatalog({ team: 'payments', teamName: 'Payments', rows, settings, currentWeek: NOW });

describe('findings catalog', () => {
  it('knows the week arithmetic', () => {
    expect(weekOf(new Date('2026-03-05T12:00:00Z'))).toBe('2026-03-02');
    expect(weekOf(new Date('2026-03-01T23:59:00Z'))).toBe('2026-02-23');
    expect(addWeeks('2026-03-02', -1)).toBe('2026-02-23');
  });

  it('finds a component whose bug inflow exceeds outflow for 4+ consecutive weeks, and not for 3', () => {
    const weeks = weeksBack(6);
    const rows = weeks.flatMap((w, i) => [
      row('bugs.inflow', w, 10, { component: 'checkout', details: { items: [{ id: `PAY-${i}`, url: null }] } }),
      row('bugs.outflow', w, i < 2 ? 12 : 6, { component: 'checkout' }),
    ]);
    const [finding, ...rest] = run(rows);
    expect(rest).toEqual([]);
    expect(finding!.rule).toBe('bug-inflow-exceeds-outflow');
    expect(finding!.id).toBe(findingIdOf('bug-inflow-exceeds-outflow', 'payments', 'checkout'));
    expect(finding!.component).toBe('checkout');
    expect(finding!.pattern).toContain('4 weeks in a row');
    expect(finding!.evidence.links.map((l) => l.id)).toContain('PAY-5');
    expect(finding!.causes.reduce((s, c) => s + c.weight, 0)).toBeCloseTo(1, 6);
    for (const c of finding!.causes) expect(c.reason.length).toBeGreaterThan(10);

    const three = rows.filter((r) => !(r.signal === 'bugs.outflow' && r.week === weeks[2]) || true);
    three.push(row('bugs.outflow', weeks[2]!, 20, { component: 'checkout' }));
    const replaced = three.filter((r) => !(r.signal === 'bugs.outflow' && r.week === weeks[2] && r.value === 6));
    expect(run(replaced)).toEqual([]);
  });

  it('finds a rising reopen rate above the floor, not a flat one', () => {
    const weeks = weeksBack(12);
    const rising = weeks.map((w, i) =>
      row('bugs.reopen_rate', w, null, { component: 'ledger', numerator: i < 8 ? 1 : 4, denominator: 20 }),
    );
    const found = run(rising);
    expect(found.map((f) => f.rule)).toEqual(['reopen-rate-rising']);
    expect(found[0]!.evidence.figures[0]!.value).toBe('20 %');
    const flat = weeks.map((w) =>
      row('bugs.reopen_rate', w, null, { component: 'ledger', numerator: 4, denominator: 20 }),
    );
    expect(run(flat)).toEqual([]);
    // Rising but under the floor (2 % → 5 %).
    const low = weeks.map((w, i) =>
      row('bugs.reopen_rate', w, null, { component: 'ledger', numerator: i < 8 ? 1 : 1, denominator: i < 8 ? 50 : 20 }),
    );
    expect(run(low)).toEqual([]);
  });

  it('holds the change failure rate against the band of the chosen DORA year', () => {
    const rows = weeksBack(4).map((w) =>
      row('dora.change_failure_rate', w, 0.15, { component: 'api', numerator: 3, denominator: 20 }),
    );
    const y2023 = { ...defaultQualitySettings(), dora_year: '2023' as const };
    expect(run(rows, y2023).map((f) => f.rule)).toEqual(['change-failure-rate-above-band']);
    expect(run(rows, y2023)[0]!.guardrail).toContain('2023');
    expect(run(rows)).toEqual([]); // 2024: high band is ≤ 20 %
    const strict = { ...defaultQualitySettings(), thresholds: { 'change_failure_rate.max': 0.1 } };
    expect(run(rows, strict)).toHaveLength(1);
  });

  it('finds an exhausted error budget', () => {
    const rows = [
      row('slo.budget_remaining', weeksBack(2)[0]!, 0.2, { component: 'api', details: { slo: 'api-availability' } }),
      row('slo.budget_remaining', NOW, -0.1, { component: 'api', details: { slo: 'api-availability' } }),
    ];
    const [f] = run(rows);
    expect(f!.rule).toBe('error-budget-exhausted');
    expect(f!.severity).toBe('high');
    expect(f!.pattern).toContain('api-availability');
  });

  it('reads details.customerReported on pace.pages and bugs.escaped rows', () => {
    const rows = [
      row('pace.pages', NOW, 3, { details: { customerReported: 2, incidents: ['INC-1', 'INC-2'] } }),
      row('bugs.escaped', NOW, 1, { component: 'api', details: { customerReported: 0 } }),
    ];
    const found = run(rows);
    expect(found.map((f) => [f.rule, f.component])).toEqual([['customer-reported-incidents', null]]);
    expect(found[0]!.causes[0]!.category).toBe('observability');
    expect(found[0]!.evidence.links.map((l) => l.id)).toEqual(['INC-1', 'INC-2']);
    expect(run([row('pace.pages', NOW, 3, { details: { customerReported: 1 } })])).toEqual([]);
  });

  it('finds unreviewed merges above 5 % and after-hours share above 15 % (team level only)', () => {
    const rows = weeksBack(4).flatMap((w) => [
      row('review.unreviewed_share', w, null, { component: 'api', numerator: 2, denominator: 20 }),
      row('pace.after_hours_share', w, 0.2),
      row('pace.after_hours_share', w, 0.5, { component: 'api' }),
    ]);
    expect(run(rows).map((f) => [f.rule, f.component])).toEqual([
      ['after-hours-share', null],
      ['unreviewed-merges', 'api'],
    ]);
    const lenient = {
      ...defaultQualitySettings(),
      thresholds: { 'unreviewed.max_share': 0.2, 'after_hours.max_share': 0.3 },
    };
    expect(run(rows, lenient)).toEqual([]);
  });

  it('finds coverage below the guardrail of the charter', () => {
    const rows = [
      row('coverage.line', NOW, 0.62, { component: 'api' }),
      row('coverage.branch', NOW, 70, { component: 'api' }),
    ];
    expect(run(rows)).toEqual([]); // no guardrail
    const settings = { ...defaultQualitySettings(), coverage: { api: { line: 80, branch: 60 } } };
    const [f] = run(rows, settings);
    expect(f!.rule).toBe('coverage-below-guardrail');
    expect(f!.pattern).toContain('line coverage is 62 %, below its 80 % guardrail');
    expect(f!.pattern).not.toContain('branch');
  });

  it('ignores stale rows and rows after the current week', () => {
    const old = weeksBack(12)
      .slice(0, 4)
      .map((w) => row('pace.after_hours_share', w, 0.5));
    expect(run(old)).toEqual([]);
    expect(run([row('pace.after_hours_share', addWeeks(NOW, 1), 0.5)])).toEqual([]);
  });

  it('resolves thresholds by name and reports unknown names', () => {
    expect(resolveThresholds({ 'reopen.floor': 0.2 })['reopen.floor']).toBe(0.2);
    expect(resolveThresholds({})['after_hours.max_share']).toBe(0.15);
    expect(unknownThresholds({ 'reopen.floor': 1, nope: 2 })).toEqual(['nope']);
  });
});
