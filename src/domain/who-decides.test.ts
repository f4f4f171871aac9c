import { describe, expect, it } from 'vitest';
import { charterSchema } from './charter.schema.js';
import { answerWhoDecides, renderWhoDecides, stem, tokenize } from './who-decides.js';

const NOW = new Date('2026-06-01T12:00:00Z');

const charter = charterSchema.parse({
  version: 1,
  workspace: { id: 'acme', name: 'Acme' },
  people: [
    { id: 'alice', name: 'Alice Martin', role: 'product-manager' },
    { id: 'dana', name: 'Dana Kim', role: 'designer' },
    { id: 'tom', name: 'Tom Lee', role: 'tech-lead' },
    { id: 'ana', name: 'Ana Ruiz', role: 'engineer' },
    { id: 'bob', name: 'Bob Stone', role: 'engineer' },
    { id: 'cy', name: 'Cy Young', role: 'engineer' },
    { id: 'di', name: 'Di Lu', role: 'engineer' },
    { id: 'hana', name: 'Hana Ito', role: 'product-manager' },
    { id: 'yuki', name: 'Yuki Sato', role: 'designer' },
    { id: 'marc', name: 'Marc Diaz', role: 'engineering-manager' },
    { id: 'erin', name: 'Erin Park', role: 'engineering-leadership' },
  ],
  teams: [
    {
      id: 'payments',
      name: 'Payments',
      members: ['alice', 'dana', 'tom', 'ana', 'bob', 'cy', 'di'],
      trio: { product: 'alice', design: 'dana', tech: 'tom' },
      escalation: 'erin',
    },
    {
      id: 'growth',
      name: 'Growth',
      members: ['hana', 'yuki', 'marc'],
      trio: { product: 'hana', design: 'yuki', tech: 'marc' },
      escalation: 'erin',
      decisions: { 'eng.bug-triage': { decides: 'marc' } },
    },
  ],
  domains: [
    {
      id: 'data.retention',
      title: 'Data retention',
      question: 'How long do we keep data?',
      keywords: ['gdpr'],
      decides: 'product',
    },
  ],
  delegations: [
    {
      domain: 'eng.bug-triage',
      team: 'payments',
      from: 'engineering',
      to: 'ana',
      until: '2026-12-31',
      reason: 'Ana runs triage.',
    },
  ],
});

describe('who-decides matching', () => {
  it.each([
    ['who sets the priority of a bug?', 'eng.bug-triage'],
    ['who decides on tech debt?', 'eng.tech-debt'],
    ['who picks the success metric?', 'product.success-metrics'],
    ['who decides the architecture?', 'eng.architecture'],
    ['who is the incident commander?', 'eng.incident-command'],
    ['who sets SLO targets?', 'sre.slo'],
    ['which slice comes next?', 'trio.prioritization'],
    ['who tells stakeholders about a major incident?', 'product.stakeholder-comms'],
    ['who estimates the work?', 'eng.estimation'],
    ['who assigns engineers to tickets?', 'eng.assignment'],
    ['Who prioritises bugs?', 'eng.bug-triage'],
    ['Who decides when we refactor the legacy billing code?', 'eng.tech-debt'],
    ['what is our KPI target for checkout conversion', 'product.success-metrics'],
    ['who sets the error budget policy', 'sre.slo'],
    ['who decides our code review rules and coverage gates?', 'eng.quality-guardrails'],
    ['which opportunities should we explore?', 'trio.discovery'],
    ['How do we position the new plan against competitors?', 'product.positioning'],
    ['who decides about GDPR data?', 'data.retention'],
  ])('%s → %s', (question, domain) => {
    expect(answerWhoDecides(charter, question, NOW).matched?.domain.id).toBe(domain);
  });

  it('answers nothing for an unrelated question but still lists three closest domains', () => {
    const answer = answerWhoDecides(charter, 'who buys the coffee?', NOW);
    expect(answer.matched).toBeNull();
    expect(answer.perTeam).toEqual([]);
    expect(answer.closest).toHaveLength(3);
    expect(answer.closest[0]).toEqual({
      id: expect.any(String),
      title: expect.any(String),
      question: expect.any(String),
    });
    expect(answerWhoDecides(charter, 'who decides?', NOW).matched).toBeNull();
    expect(answerWhoDecides(charter, '', NOW).matched).toBeNull();
  });

  it('stems plurals, -ing, -ed and British spellings onto one form', () => {
    expect(new Set(['prioritise', 'prioritize', 'prioritised', 'prioritizing', 'prioritises'].map(stem)).size).toBe(1);
    expect(stem('bugs')).toBe(stem('bug'));
    expect(stem('estimates')).toBe(stem('estimate'));
    expect(stem('setting')).toBe(stem('set'));
    expect(tokenize("Who's on-call? (SLOs!)")).toEqual(['who', 'on', 'call', 'slo']);
  });
});

describe('renderWhoDecides', () => {
  it('answers in words with the owners per team, overrides and delegations', () => {
    const text = renderWhoDecides(answerWhoDecides(charter, 'who sets the priority of a bug?', NOW));
    expect(text.split('\n')).toEqual([
      'eng.bug-triage — Bug triage: How severe is this bug, and when is it fixed?',
      '  Payments: engineering (Tom Lee, tech lead; Ana Ruiz, engineer; Bob Stone, engineer; Cy Young, engineer and 1 more) decides; consulted: product (Alice Martin); informed: stakeholders.',
      '    Delegation in force: engineering hands this to Ana Ruiz (engineer) until 2026-12-31 (Ana runs triage).',
      '  Growth (team override): Marc Diaz (engineering manager) decides; consulted: product (Hana Ito); informed: stakeholders.',
    ]);
  });

  it('lists the closest domains when nothing matches', () => {
    const text = renderWhoDecides(answerWhoDecides(charter, 'who buys the coffee?', NOW));
    expect(text).toMatch(/^No decision domain matches "who buys the coffee\?"\.\nClosest domains:\n {2}\S+ — /);
    expect(text.split('\n')).toHaveLength(6);
  });
});
