import { describe, expect, it } from 'vitest';
import { DEFAULT_DOMAINS } from './charter.catalog.js';
import {
  isDelegationInForce,
  levenshtein,
  localDate,
  mergeDomains,
  suggestClosest,
  teamRaci,
} from './charter.validate.js';

describe('mergeDomains', () => {
  it('is the catalog when the charter has no domains', () => {
    const merged = mergeDomains({});
    expect(merged.map((d) => d.id)).toEqual(DEFAULT_DOMAINS.map((d) => d.id));
    expect(merged.every((d) => d.origin === 'catalog' && d.decides.length === 1)).toBe(true);
  });

  it('overlays charter entries field by field, adds keywords and appends new domains', () => {
    const merged = mergeDomains({
      domains: [
        { id: 'eng.bug-triage', consulted: ['product', 'design'], keywords: ['papercut'] },
        { id: 'data.retention', title: 'Data retention', decides: 'product' },
      ],
    });
    const triage = merged.find((d) => d.id === 'eng.bug-triage')!;
    expect(triage).toMatchObject({
      origin: 'catalog+charter',
      title: 'Bug triage',
      decides: ['engineering'],
      consulted: ['product', 'design'],
      informed: ['stakeholders'],
    });
    expect(triage.keywords).toContain('severity');
    expect(triage.keywords).toContain('papercut');
    expect(merged.at(-1)).toEqual({
      id: 'data.retention',
      title: 'Data retention',
      question: 'Data retention',
      keywords: [],
      decides: ['product'],
      consulted: [],
      informed: [],
      origin: 'charter',
    });
  });

  it('lets a team override only the fields it names', () => {
    const triage = mergeDomains({}).find((d) => d.id === 'eng.bug-triage')!;
    expect(teamRaci(triage, { decisions: { 'eng.bug-triage': { decides: 'tom' } } })).toEqual({
      decides: ['tom'],
      consulted: ['product'],
      informed: ['stakeholders'],
      overridden: true,
    });
    expect(teamRaci(triage, {}).overridden).toBe(false);
  });
});

describe('delegations in time', () => {
  it('keeps a date-only delegation in force for the whole of that day in the workspace zone', () => {
    const d = { until: '2026-06-01' };
    expect(isDelegationInForce(d, new Date('2026-06-01T23:59:00Z'))).toBe(true);
    expect(isDelegationInForce(d, new Date('2026-06-02T00:00:00Z'))).toBe(false);
    // 23:30 UTC on June 1st is already June 2nd in Tokyo, still June 1st in New York.
    expect(isDelegationInForce(d, new Date('2026-06-01T23:30:00Z'), 'Asia/Tokyo')).toBe(false);
    expect(isDelegationInForce(d, new Date('2026-06-02T03:00:00Z'), 'America/New_York')).toBe(true);
  });

  it('ends a date-time delegation at that instant', () => {
    const d = { until: '2026-06-01T12:00:00+02:00' };
    expect(isDelegationInForce(d, new Date('2026-06-01T10:00:00Z'))).toBe(true);
    expect(isDelegationInForce(d, new Date('2026-06-01T10:00:01Z'))).toBe(false);
  });

  it('falls back to UTC for an unknown zone', () => {
    expect(localDate(new Date('2026-06-01T23:30:00Z'), 'Nowhere/Land')).toBe('2026-06-01');
  });
});

describe('suggestions', () => {
  it('counts edits, with a swap of neighbours as one', () => {
    expect(levenshtein('bob', 'bobb')).toBe(1);
    expect(levenshtein('nmae', 'name')).toBe(1);
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
  });

  it('suggests only likely typos', () => {
    expect(suggestClosest('bobb', ['alice', 'bob', 'tom'])).toBe('bob');
    expect(suggestClosest('Alice', ['alice', 'bob'])).toBe('alice');
    expect(suggestClosest('zed', ['alice', 'bob'])).toBeUndefined();
    expect(suggestClosest('anything', [])).toBeUndefined();
  });
});
