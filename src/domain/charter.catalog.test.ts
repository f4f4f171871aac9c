import { describe, expect, it } from 'vitest';
import { DEFAULT_DOMAINS } from './charter.catalog.js';
import { BUILTIN_GROUPS } from './charter.schema.js';

describe('DEFAULT_DOMAINS', () => {
  it('holds the 14 domains of PRODUCT.md C1 with their default deciders', () => {
    expect(Object.fromEntries(DEFAULT_DOMAINS.map((d) => [d.id, d.decides]))).toEqual({
      'product.strategy': 'product',
      'product.positioning': 'product',
      'product.success-metrics': 'product',
      'product.stakeholder-comms': 'product',
      'trio.discovery': 'trio',
      'trio.prioritization': 'trio',
      'eng.architecture': 'engineering',
      'eng.tech-debt': 'engineering',
      'eng.bug-triage': 'engineering',
      'eng.assignment': 'engineering',
      'eng.estimation': 'engineering',
      'eng.quality-guardrails': 'engineering-leadership',
      'eng.incident-command': 'engineering-on-call',
      'sre.slo': 'sre',
    });
  });

  it('names only built-in groups, never the decider among the consulted or informed', () => {
    for (const d of DEFAULT_DOMAINS) {
      for (const group of [d.decides, ...d.consulted, ...d.informed])
        expect(Object.keys(BUILTIN_GROUPS)).toContain(group);
      expect([...d.consulted, ...d.informed]).not.toContain(d.decides);
    }
  });

  it('gives every domain a title, a question and several keywords', () => {
    for (const d of DEFAULT_DOMAINS) {
      expect(d.title.length).toBeGreaterThan(2);
      expect(d.question.length).toBeGreaterThan(10);
      expect(d.keywords.length).toBeGreaterThanOrEqual(8);
    }
  });

  it('has the defaults the product describes for bug triage and SLOs', () => {
    const byId = new Map(DEFAULT_DOMAINS.map((d) => [d.id, d]));
    expect(byId.get('eng.bug-triage')).toMatchObject({ consulted: ['product'], informed: ['stakeholders'] });
    expect(byId.get('sre.slo')).toMatchObject({ decides: 'sre', consulted: ['engineering', 'product'] });
  });
});
