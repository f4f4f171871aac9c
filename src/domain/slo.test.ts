import { describe, expect, it } from 'vitest';
import {
  budgetRemaining,
  buildSeries,
  burnRate,
  burnRules,
  evaluateAlertEpisodes,
  formatSloIssue,
  parseSloDocuments,
  parseSloYaml,
  resolveSloOwner,
  windowSum,
  type MinuteSample,
} from './slo.js';
import { BILLION_LAUGHS } from './yaml.guard.test-helper.js';

const DOC = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-gateway-availability
  displayName: API gateway availability
  labels:
    lanes.dev/team: platform
spec:
  service: api-gateway
  indicator:
    metadata:
      name: api-gateway-good-requests
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{code!~"5.."}[1m]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total[1m]))
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: 99.9 %
      target: 0.999
`;

describe('parseSloYaml', () => {
  it('reads the subset: name, service, ratio, rolling window, target, owner label', () => {
    const { slos, issues } = parseSloYaml(DOC, 'slo.yaml');
    expect(issues).toEqual([]);
    expect(slos).toHaveLength(1);
    expect(slos[0]).toMatchObject({
      name: 'api-gateway-availability',
      displayName: 'API gateway availability',
      service: 'api-gateway',
      team: 'platform',
      component: null,
      target: 0.999,
      windowDays: 28,
      ratio: { numerator: 'good' },
    });
  });

  it('never throws on an alias bomb, deep nesting or text over 1 MiB: one LANES_SLO_YAML issue at its place', () => {
    const bomb = parseSloYaml(`${DOC}---\n${BILLION_LAUGHS}\n`, 'slo.yaml');
    expect(bomb).toEqual({
      slos: [],
      issues: [
        {
          code: 'LANES_SLO_YAML',
          message: 'the SLO YAML expands to more than 1,000,000 values (through its aliases)',
          path: [],
          file: 'slo.yaml',
          line: DOC.split('\n').length + 7,
          col: 7,
        },
      ],
    });
    const deep = parseSloYaml(`${DOC}---\n${'- '.repeat(20_000)}x\n`, 'slo.yaml');
    expect(deep.issues).toEqual([
      expect.objectContaining({
        code: 'LANES_SLO_YAML',
        line: DOC.split('\n').length + 1,
        message: expect.stringMatching(/too deeply/),
      }),
    ]);
    const big = parseSloYaml(`${DOC}# ${'x'.repeat(1024 * 1024)}\n`, 'slo.yaml');
    expect(big.issues).toEqual([
      expect.objectContaining({
        code: 'LANES_SLO_YAML',
        line: 1,
        col: 1,
        message: expect.stringMatching(/Lanes reads at most 1 MiB$/),
      }),
    ]);
  });

  it('accepts targetPercent, bad/total, weeks, several documents and an indicatorRef to an SLI', () => {
    const text = `apiVersion: openslo/v1
kind: SLI
metadata: { name: errors }
spec:
  ratioMetric:
    bad: { metricSource: { type: x, spec: {} } }
    total: { metricSource: { type: x, spec: {} } }
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-errors
  annotations: { lanes.dev/component: checkout }
spec:
  service: checkout
  indicatorRef: errors
  timeWindow: [{ duration: 1w, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ targetPercent: 99.5 }]
`;
    const { slos, issues } = parseSloYaml(text);
    expect(issues).toEqual([]);
    expect(slos[0]).toMatchObject({
      name: 'checkout-errors',
      component: 'checkout',
      windowDays: 7,
      ratio: { numerator: 'bad' },
    });
    expect(slos[0]!.target).toBeCloseTo(0.995, 10);
  });

  it('reports every problem at its line and column with a stable code', () => {
    const bad = DOC.replace('target: 0.999', 'target: 99.9')
      .replace('budgetingMethod: Occurrences', 'budgetingMethod: Timeslices')
      .replace('isRolling: true', 'isRolling: false');
    const { slos, issues } = parseSloYaml(bad, 'slos/api.yaml');
    expect(slos).toEqual([]);
    expect(issues.map((i) => [i.code, i.line, i.col])).toEqual([
      ['LANES_SLO_UNSUPPORTED', 28, 18],
      ['LANES_SLO_UNSUPPORTED', 29, 20],
      ['LANES_SLO_INVALID', 32, 15],
    ]);
    expect(formatSloIssue(issues[2]!)).toBe(
      'slos/api.yaml:32:15 LANES_SLO_INVALID target must be between 0 and 1 (0.999 for 99.9 %)',
    );
  });

  it('reports YAML syntax errors, unknown kinds and missing parts', () => {
    expect(parseSloYaml('a: [1, 2', 'x.yaml').issues[0]).toMatchObject({
      code: 'LANES_SLO_YAML',
      file: 'x.yaml',
      line: 1,
    });
    const { issues } = parseSloDocuments([
      { apiVersion: 'openslo/v1', kind: 'AlertPolicy', metadata: { name: 'a' } },
      { apiVersion: 'openslo/v1', kind: 'SLO', metadata: { name: 'B' }, spec: { service: 's' } },
    ]);
    const codes = issues.map((i) => `${i.code} ${i.path.join('.')}`);
    expect(codes).toContain('LANES_SLO_UNSUPPORTED 0.kind');
    expect(codes).toContain('LANES_SLO_INVALID 1.metadata.name');
    expect(codes).toContain('LANES_SLO_INVALID 1.spec.timeWindow');
    expect(codes).toContain('LANES_SLO_INVALID 1.spec.objectives');
    expect(codes).toContain('LANES_SLO_UNSUPPORTED 1.spec.budgetingMethod');
  });
});

describe('resolveSloOwner', () => {
  const teams = [
    { id: 'platform', components: ['api-gateway', 'auth'] },
    { id: 'payments', components: ['checkout'] },
  ];
  it('takes the label first, else the team owning spec.service', () => {
    expect(resolveSloOwner({ name: 'a', service: 'api-gateway', team: null, component: null }, teams)).toEqual({
      team: 'platform',
      component: 'api-gateway',
    });
    expect(resolveSloOwner({ name: 'a', service: 'web', team: 'payments', component: null }, teams)).toEqual({
      team: 'payments',
      component: null,
    });
    expect(resolveSloOwner({ name: 'a', service: 'web', team: null, component: 'checkout' }, teams)).toEqual({
      team: 'payments',
      component: 'checkout',
    });
    expect(resolveSloOwner({ name: 'a', service: 'web', team: null, component: null }, teams)).toHaveProperty('issue');
    expect(resolveSloOwner({ name: 'a', service: 'web', team: 'nope', component: null }, teams)).toHaveProperty(
      'issue',
    );
  });
});

describe('budget and burn rate (SRE Workbook ch. 5)', () => {
  it('budget remaining is 1 − bad ÷ allowed bad', () => {
    expect(budgetRemaining(1_000_000, 1_000_000, 0.999)).toBe(1);
    expect(budgetRemaining(999_500, 1_000_000, 0.999)).toBeCloseTo(0.5, 10);
    expect(budgetRemaining(999_000, 1_000_000, 0.999)).toBeCloseTo(0, 10);
    expect(budgetRemaining(998_000, 1_000_000, 0.999)).toBeCloseTo(-1, 10);
    expect(budgetRemaining(0, 0, 0.999)).toBeNull();
  });

  it('burn rate 1 spends the budget exactly in the window; 1.44 % errors burn 14.4× a 99.9 % SLO', () => {
    expect(burnRate(999, 1000, 0.999)).toBeCloseTo(1, 10);
    expect(burnRate(10_000 - 144, 10_000, 0.999)).toBeCloseTo(14.4, 10);
    expect(burnRate(0, 0, 0.999)).toBe(0);
    // 100 % errors exhaust a 30-day 99.9 % budget in 43.2 minutes (30 d × 0.1 %).
    expect((30 * 24 * 60) / burnRate(0, 1, 0.999)).toBeCloseTo(43.2, 10);
  });

  it('the 30-day rules are the Workbook table: 2 %, 5 % and 10 % of the budget', () => {
    const rules = burnRules(30);
    expect(rules.map((r) => [r.id, r.severity, r.factor, r.longMinutes, r.shortMinutes])).toEqual([
      ['page-1h', 'page', 14.4, 60, 5],
      ['page-6h', 'page', 6, 360, 30],
      ['ticket-3d', 'ticket', 1, 4320, 360],
    ]);
    expect(rules.map((r) => r.budgetConsumed)).toEqual([
      expect.closeTo(0.02, 10),
      expect.closeTo(0.05, 10),
      expect.closeTo(0.1, 10),
    ]);
  });

  it('other windows keep the factors and scale both alert windows by days ÷ 30', () => {
    expect(burnRules(28).map((r) => [r.longMinutes, r.shortMinutes])).toEqual([
      [56, 5],
      [336, 28],
      [4032, 336],
    ]);
    expect(burnRules(7).map((r) => [r.longMinutes, r.shortMinutes])).toEqual([
      [14, 1],
      [84, 7],
      [1008, 84],
    ]);
    expect(burnRules(28).map((r) => Math.round(r.budgetConsumed * 1000) / 1000)).toEqual([0.02, 0.05, 0.1]);
  });
});

/** A minute per sample of `perMinute` requests, with `errors(minute)` of them failing. */
const traffic = (from: number, to: number, perMinute: number, errors: (m: number) => number): MinuteSample[] => {
  const out: MinuteSample[] = [];
  for (let m = from; m < to; m++) out.push({ minute: m, good: perMinute - errors(m), total: perMinute });
  return out;
};

describe('evaluateAlertEpisodes', () => {
  const rules = burnRules(30);
  const DAY = 24 * 60;

  it('sums windows as (end − length, end]', () => {
    const series = buildSeries([
      { minute: 10, good: 1, total: 2 },
      { minute: 10, good: 1, total: 1 },
      { minute: 12, good: 3, total: 3 },
    ]);
    expect(windowSum(series, 12, 2)).toEqual({ good: 3, total: 3 });
    expect(windowSum(series, 12, 3)).toEqual({ good: 5, total: 6 });
    expect(windowSum(series, 9, 100)).toEqual({ good: 0, total: 0 });
  });

  it('a full outage pages within a minute (Workbook: 0.864 min to detect at 100 % errors) and resolves after it ends', () => {
    const outageStart = 3 * DAY;
    const samples = traffic(0, outageStart + 60, 100, (m) => (m >= outageStart && m < outageStart + 10 ? 100 : 0));
    const episodes = evaluateAlertEpisodes(buildSeries(samples), rules, 0.999, outageStart + 60);
    const fast = episodes.find((e) => e.rule === 'page-1h')!;
    expect(fast.firedAt).toBe(outageStart);
    // The 5-minute window clears 5 minutes after the last failing minute.
    expect(fast.resolvedAt).toBe(outageStart + 9 + 5);
    // Workbook: 0.1 % × 6 h × 6 = 2.16 min to detect, so the third failing minute.
    expect(episodes.find((e) => e.rule === 'page-6h')?.firedAt).toBe(outageStart + 2);
  });

  it('2× burn never pages; the ticket fires after 36 h (Workbook: (0.1 % ÷ 0.2 %) × 72 h)', () => {
    const start = 3 * DAY;
    // 0.2 % errors from `start` on: 2 failing requests in 1000 per minute.
    const samples = traffic(0, start + 2 * DAY, 1000, (m) => (m >= start ? 2 : 0));
    const episodes = evaluateAlertEpisodes(buildSeries(samples), rules, 0.999, start + 2 * DAY);
    expect(episodes.filter((e) => e.severity === 'page')).toEqual([]);
    const ticket = episodes.find((e) => e.rule === 'ticket-3d')!;
    expect(ticket.firedAt).toBe(start + 36 * 60);
    expect(ticket.resolvedAt).toBeNull();
  });

  it('a short spike above 14.4× in the 5-minute window alone does not page when the hour is fine', () => {
    // One bad minute at 3 % errors in an hour of perfect traffic: 1 h burn 0.5×, 5 min burn 6×.
    const samples = traffic(0, 120, 1000, (m) => (m === 100 ? 30 : 0));
    expect(evaluateAlertEpisodes(buildSeries(samples), rules, 0.999, 120)).toEqual([]);
  });
});
