import { describe, expect, it } from 'vitest';
import {
  attributeIncidents,
  carriedChanges,
  deployDaysByWeek,
  doraBand,
  leadTimeMs,
  median,
  prTimings,
  recoveryMs,
  weekOf,
  type AttributableDeployment,
} from './dora.js';

const t = (iso: string) => Date.parse(iso);
const H = 3_600_000;

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([9, 1, 4])).toBe(4);
    expect(median([1, 2, 3, 10])).toBe(2.5);
  });
  it('gives the median recovery time of incidents (declared → resolved)', () => {
    const hours = [0.5, 2, 26, 3].map((h) =>
      recoveryMs(
        { id: 'i', scope: 's', declaredAt: 0, resolvedAt: h * H },
        { incident: 'i', deployment: 'd', inferred: true },
      ),
    );
    expect(median(hours as number[])! / H).toBe(2.5);
    expect(
      recoveryMs(
        { id: 'i', scope: 's', declaredAt: 0, resolvedAt: H },
        { incident: 'i', deployment: null, inferred: false },
      ),
    ).toBeNull();
  });
});

describe('deployment days', () => {
  it('counts distinct days, not deployments, in the week of each day', () => {
    const days = deployDaysByWeek(
      [t('2026-05-04T09:00:00Z'), t('2026-05-04T15:00:00Z'), t('2026-05-06T10:00:00Z'), t('2026-05-11T00:00:00Z')],
      'UTC',
    );
    expect(days.get('2026-05-04')).toEqual(['2026-05-04', '2026-05-06']);
    expect(days.get('2026-05-11')).toEqual(['2026-05-11']);
  });
  it('counts a deploy at 23:30 UTC on the next local day in Asia/Tokyo, across a week boundary', () => {
    const sunday = t('2026-05-10T23:30:00Z');
    expect(deployDaysByWeek([sunday], 'UTC').get('2026-05-04')).toEqual(['2026-05-10']);
    expect(deployDaysByWeek([sunday], 'Asia/Tokyo').get('2026-05-11')).toEqual(['2026-05-11']);
    expect(weekOf(sunday, 'Asia/Tokyo')).toBe('2026-05-11');
    // and the other way: Monday 01:00 UTC is still Sunday in New York
    expect(weekOf(t('2026-05-11T01:00:00Z'), 'America/New_York')).toBe('2026-05-04');
    // two UTC days that are one Tokyo day count once
    expect(
      deployDaysByWeek([t('2026-05-05T16:00:00Z'), t('2026-05-06T14:00:00Z')], 'Asia/Tokyo').get('2026-05-04'),
    ).toEqual(['2026-05-06']);
  });
});

describe('incident attribution', () => {
  const deployments: AttributableDeployment[] = [
    { id: 'd1', scopes: ['pay', 'pay/api'], at: t('2026-05-01T00:00:00Z'), production: true, success: true },
    { id: 'd2', scopes: ['pay', 'pay/api'], at: t('2026-05-02T00:00:00Z'), production: true, success: false },
    { id: 'd3', scopes: ['pay', 'pay/web'], at: t('2026-05-02T00:00:00Z'), production: true, success: true },
  ];
  const at = (iso: string, scope = 'pay/api', references: string[] = []) => ({
    id: iso,
    scope,
    declaredAt: t(iso),
    resolvedAt: null,
    references,
  });
  it('takes the last successful production deployment of its scope within the window, inferred', () => {
    expect(attributeIncidents([at('2026-05-03T00:00:00Z')], deployments, 72)[0]).toMatchObject({
      deployment: 'd1',
      inferred: true,
    });
    expect(attributeIncidents([at('2026-05-03T00:00:00Z', 'pay')], deployments, 72)[0]).toMatchObject({
      deployment: 'd3',
    });
  });
  it('includes a deployment exactly at the window edge, never one at or after the incident', () => {
    expect(attributeIncidents([at('2026-05-04T00:00:00Z')], deployments, 72)[0]!.deployment).toBe('d1');
    expect(attributeIncidents([at('2026-05-04T00:00:00.001Z')], deployments, 72)[0]!.deployment).toBeNull();
    expect(attributeIncidents([at('2026-05-01T00:00:00Z')], deployments, 72)[0]!.deployment).toBeNull();
  });
  it('prefers an explicit reference, a deployment id or a PR resolved to its deployment', () => {
    expect(attributeIncidents([at('2026-05-03T00:00:00Z', 'pay/api', ['d3'])], deployments, 72)[0]).toEqual({
      incident: '2026-05-03T00:00:00Z',
      deployment: 'd3',
      inferred: false,
    });
    const viaPr = new Map([['acme/api#7', 'd1']]);
    expect(
      attributeIncidents([at('2026-06-30T00:00:00Z', 'pay/web', ['acme/api#7'])], deployments, 72, viaPr)[0],
    ).toMatchObject({
      deployment: 'd1',
      inferred: false,
    });
  });
});

describe('changes carried and timings', () => {
  const dep = (id: string, at: string, extra = {}) => ({
    id,
    group: 'acme/api',
    environment: 'production',
    production: true,
    success: true,
    at: t(at),
    ...extra,
  });
  const prs = [
    {
      key: 'acme/api#1',
      group: 'acme/api',
      openedAt: 0,
      mergedAt: t('2026-05-01T10:00:00Z'),
      mergeCommitSha: 'abc1234',
    },
    { key: 'acme/api#2', group: 'acme/api', openedAt: 0, mergedAt: t('2026-05-02T10:00:00Z') },
    { key: 'acme/api#3', group: 'acme/api', openedAt: 0, mergedAt: t('2026-05-03T00:00:00Z') },
  ];
  it('takes named commits first, else PRs merged after the previous deployment and at or before this one', () => {
    const carried = carriedChanges(
      [
        dep('a', '2026-05-01T12:00:00Z', { shas: ['abc1234'] }),
        dep('b', '2026-05-03T00:00:00Z'),
        dep('x', '2026-05-02T12:00:00Z', { success: false }),
      ],
      prs,
    );
    expect(carried.get('a')).toEqual({ deployment: 'a', previous: null, prs: ['acme/api#1'], inferred: false });
    expect(carried.get('b')).toEqual({
      deployment: 'b',
      previous: 'a',
      prs: ['acme/api#2', 'acme/api#3'],
      inferred: true,
    });
    expect(carried.has('x')).toBe(false);
  });
  it('times a PR as DevLake does, and measures lead time from the first commit', () => {
    const pr = {
      firstCommitAt: t('2026-05-01T00:00:00Z'),
      openedAt: t('2026-05-01T10:00:00Z'),
      firstReviewAt: t('2026-05-01T10:00:30Z'),
      mergedAt: t('2026-05-01T12:00:00Z'),
      deployedAt: t('2026-05-02T00:00:00Z'),
    };
    expect(prTimings(pr)).toEqual({ coding: 600, pickup: 1, review: 120, deploy: 720, cycle: 1440 });
    expect(leadTimeMs(pr)).toBe(24 * H);
    expect(leadTimeMs({ ...pr, firstCommitAt: null })).toBe(14 * H);
    expect(leadTimeMs({ ...pr, deployedAt: null })).toBeNull();
  });
});

describe('doraBand', () => {
  type Year = Parameters<typeof doraBand>[0];
  type Metric = Parameters<typeof doraBand>[1];
  type Band = ReturnType<typeof doraBand>;
  // [year, metric, edge, band just below, band at the edge, band just above] (docs/dora.md, "Benchmark bands").
  const edges: [Year, Metric, number, Band, Band, Band][] = [];
  for (const year of ['2023', '2024'] as const) {
    edges.push(
      [year, 'deployment_frequency', 5, 'high', 'elite', 'elite'],
      [year, 'deployment_frequency', 1, 'medium', 'high', 'high'],
      [year, 'deployment_frequency', 12 / 52, 'low', 'medium', 'medium'],
      [year, 'lead_time', 24, 'elite', 'high', 'high'],
      [year, 'lead_time', 24 * 7, 'high', 'high', 'medium'],
      [year, 'lead_time', 24 * 30, 'medium', 'medium', 'low'],
      [year, 'recovery_time', 1, 'elite', 'high', 'high'],
      [year, 'recovery_time', 24, 'high', 'medium', 'medium'],
      [year, 'recovery_time', 24 * 7, 'medium', 'medium', 'low'],
      [year, 'change_failure_rate', 0.05, 'elite', 'elite', 'high'],
    );
  }
  edges.push(
    ['2023', 'change_failure_rate', 0.1, 'high', 'high', 'medium'],
    ['2023', 'change_failure_rate', 0.15, 'medium', 'medium', 'low'],
    ['2024', 'change_failure_rate', 0.2, 'high', 'high', 'medium'],
    ['2024', 'change_failure_rate', 0.4, 'medium', 'medium', 'low'],
  );
  const step = (metric: Metric): number => (metric === 'change_failure_rate' ? 0.001 : 0.01);

  it.each(edges)('%s %s edge %d: %s below, %s at, %s above', (year, metric, edge, below, at, above) => {
    expect(doraBand(year, metric, edge - step(metric))).toBe(below);
    expect(doraBand(year, metric, edge)).toBe(at);
    expect(doraBand(year, metric, edge + step(metric))).toBe(above);
  });

  it('rates the extremes and the cluster values of each report', () => {
    for (const year of ['2023', '2024'] as const) {
      expect(doraBand(year, 'deployment_frequency', 7)).toBe('elite');
      expect(doraBand(year, 'deployment_frequency', 0)).toBe('low');
      expect(doraBand(year, 'lead_time', 0)).toBe('elite');
      expect(doraBand(year, 'lead_time', 24 * 180)).toBe('low');
      expect(doraBand(year, 'change_failure_rate', 0)).toBe('elite');
      expect(doraBand(year, 'change_failure_rate', 1)).toBe('low');
      expect(doraBand(year, 'recovery_time', 0)).toBe('elite');
      expect(doraBand(year, 'recovery_time', 24 * 30)).toBe('low');
    }
    expect(doraBand('2023', 'change_failure_rate', 0.64)).toBe('low');
    // 2024: the medium cluster's 10 % is below the high cluster's 20 %; a rate alone reads as high.
    expect(doraBand('2024', 'change_failure_rate', 0.1)).toBe('high');
    expect(doraBand('2024', 'change_failure_rate', 0.3)).toBe('medium');
    // No cluster covers 1 day – 1 week in 2024 (medium) nor 1 week – 1 month in 2023 (low).
    expect(doraBand('2024', 'recovery_time', 72)).toBe('medium');
    expect(doraBand('2023', 'recovery_time', 24 * 14)).toBe('low');
  });
});
