import { describe, expect, it } from 'vitest';
import { resolveRights, type DomainRights, type TeamRights } from './charter.rights.js';
import { charterSchema, type CharterInput } from './charter.schema.js';

const NOW = new Date('2026-06-01T12:00:00Z');

const input: CharterInput = {
  version: 1,
  workspace: { id: 'acme', name: 'Acme' },
  people: [
    { id: 'alice', name: 'Alice Martin', role: 'product-manager' },
    { id: 'dana', name: 'Dana Kim', role: 'designer' },
    { id: 'ana', name: 'Ana Ruiz', role: 'engineer' },
    { id: 'tom', name: 'Tom Lee', role: 'tech-lead' },
    { id: 'bob', name: 'Bob Stone', role: 'engineer' },
    { id: 'hana', name: 'Hana Ito', role: 'product-manager' },
    { id: 'yuki', name: 'Yuki Sato', role: 'designer' },
    { id: 'marc', name: 'Marc Diaz', role: 'engineering-manager' },
    { id: 'sam', name: 'Sam Reed', role: 'sre' },
    { id: 'ravi', name: 'Ravi Shah', role: 'sre' },
    { id: 'erin', name: 'Erin Park', role: 'engineering-leadership' },
    { id: 'olga', name: 'Olga Berg', role: 'engineering-leadership' },
    { id: 'stella', name: 'Stella Ng', role: 'stakeholder' },
  ],
  teams: [
    {
      id: 'payments',
      name: 'Payments',
      members: ['alice', 'dana', 'ana', 'tom', 'bob', 'sam'],
      trio: { product: 'alice', design: 'dana', tech: 'tom' },
      escalation: 'olga',
    },
    {
      id: 'growth',
      name: 'Growth',
      members: ['hana', 'yuki', 'marc'],
      trio: { product: 'hana', design: 'yuki', tech: 'marc' },
      escalation: 'erin',
      decisions: { 'eng.estimation': { decides: 'marc', consulted: ['trio'] } },
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
    { domain: 'eng.bug-triage', from: 'engineering', to: 'bob', until: '2026-05-31', reason: 'Expired cover.' },
    { domain: 'trio.discovery', from: 'trio', to: 'dana', until: '2026-06-01T13:00:00Z', reason: 'Research sprint.' },
  ],
};
const charter = charterSchema.parse(input);

const cell = (domains: DomainRights[], domain: string, team: string): TeamRights => {
  const found = domains.find((d) => d.id === domain)?.teams.find((t) => t.team.id === team);
  expect(found, `${domain} × ${team}`).toBeDefined();
  return found!;
};
const ids = (holder: { people: Array<{ id: string }> } | null | undefined): string[] =>
  holder?.people.map((p) => p.id) ?? [];

describe('resolveRights', () => {
  const matrix = resolveRights(charter, NOW);

  it('covers every domain for every team and serialises to JSON unchanged', () => {
    expect(matrix.asOf).toBe('2026-06-01T12:00:00.000Z');
    expect(matrix.teams).toEqual([
      { id: 'payments', name: 'Payments' },
      { id: 'growth', name: 'Growth' },
    ]);
    expect(matrix.domains).toHaveLength(14);
    for (const d of matrix.domains) expect(d.teams.map((t) => t.team.id)).toEqual(['payments', 'growth']);
    expect(JSON.parse(JSON.stringify(matrix))).toEqual(matrix);
  });

  it('resolves groups to the team members with those roles, ordered by role', () => {
    const triage = cell(matrix.domains, 'eng.bug-triage', 'payments');
    expect(triage.decider).toMatchObject({ name: 'engineering', kind: 'group' });
    expect(ids(triage.decider)).toEqual(['tom', 'ana', 'bob']);
    expect(triage.consulted.map((h) => [h.name, ids(h)])).toEqual([['product', ['alice']]]);
    expect(triage.informed.map((h) => [h.name, ids(h)])).toEqual([['stakeholders', ['stella']]]);
    expect(ids(cell(matrix.domains, 'eng.incident-command', 'payments').decider)).toEqual(['tom', 'ana', 'bob', 'sam']);
    expect(ids(cell(matrix.domains, 'trio.prioritization', 'growth').decider)).toEqual(['hana', 'yuki', 'marc']);
  });

  it('draws leadership from the escalation contact plus every leader, and SREs from the team or else everyone', () => {
    expect(ids(cell(matrix.domains, 'eng.quality-guardrails', 'payments').decider)).toEqual(['olga', 'erin']);
    expect(ids(cell(matrix.domains, 'eng.quality-guardrails', 'growth').decider)).toEqual(['erin', 'olga']);
    expect(ids(cell(matrix.domains, 'sre.slo', 'payments').decider)).toEqual(['sam']);
    expect(ids(cell(matrix.domains, 'sre.slo', 'growth').decider)).toEqual(['sam', 'ravi']);
  });

  it('applies per-team overrides, including a single person as decider', () => {
    const estimation = cell(matrix.domains, 'eng.estimation', 'growth');
    expect(estimation.overridden).toBe(true);
    expect(estimation.decider).toMatchObject({ name: 'marc', kind: 'person' });
    expect(estimation.consulted.map((h) => h.name)).toEqual(['trio']);
    expect(cell(matrix.domains, 'eng.estimation', 'payments').overridden).toBe(false);
  });

  it('lists only delegations in force, for their team or for every team', () => {
    const payments = cell(matrix.domains, 'eng.bug-triage', 'payments');
    expect(payments.delegations).toEqual([
      {
        from: expect.objectContaining({ name: 'engineering' }),
        to: { name: 'ana', kind: 'person', people: [{ id: 'ana', name: 'Ana Ruiz', role: 'engineer' }] },
        until: '2026-12-31',
        reason: 'Ana runs triage.',
        teamSpecific: true,
      },
    ]);
    // The expired delegation to bob covered every team: it shows nowhere.
    expect(cell(matrix.domains, 'eng.bug-triage', 'growth').delegations).toEqual([]);
    // A date-time delegation for every team is in force until its instant.
    expect(cell(matrix.domains, 'trio.discovery', 'growth').delegations.map((d) => d.to.name)).toEqual(['dana']);
    const later = resolveRights(charter, new Date('2026-06-01T13:00:01Z'));
    expect(cell(later.domains, 'trio.discovery', 'growth').delegations).toEqual([]);
    const earlier = resolveRights(charter, new Date('2026-05-31T08:00:00Z'));
    expect(cell(earlier.domains, 'eng.bug-triage', 'growth').delegations.map((d) => d.to.name)).toEqual(['bob']);
  });
});
