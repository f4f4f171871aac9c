import { describe, expect, it } from 'vitest';
import { DEFAULT_DOMAINS } from './charter.catalog.js';
import {
  DEFAULT_DECISION_RULES,
  buildDecisionRules,
  decisionOf,
  decisionRuleProblems,
  decisionRulesSectionSchema,
  foldLabels,
  type DecisionItem,
} from './decision.rules.js';
import type { LoggedEvent } from './event.js';
import { loggedEvent } from './event.test-helper.js';

const event = (over: Partial<LoggedEvent>): LoggedEvent =>
  loggedEvent({
    sourceEventId: 'PAY-1/1',
    actorIdentity: 'jira:acc-priya',
    actorPersonId: 'priya.raman',
    itemKey: 'PAY-1',
    ...over,
  });

const bug: DecisionItem = { kind: 'bug', title: 'Checkout total fails on Safari', team: 'payments' };
const field = (f: LoggedEvent['field'], to: string | null, from: string | null = null) =>
  event({ kind: 'field_changed', field: f, to, from });

describe('decisionOf', () => {
  it('maps priority and severity by the kind of item', () => {
    expect(decisionOf(field('priority', 'P1'), bug)).toEqual({ domain: 'eng.bug-triage', rule: 'bug-priority' });
    expect(decisionOf(field('severity', 'high', 'low'), bug)?.domain).toBe('eng.bug-triage');
    expect(decisionOf(field('priority', 'P2'), { kind: 'tech_debt' })?.domain).toBe('eng.tech-debt');
    expect(decisionOf(field('priority', 'P2'), { kind: 'feature' })?.domain).toBe('trio.prioritization');
    expect(decisionOf(field('priority', 'P2'), { kind: 'task', labels: ['Value Slice'] })?.domain).toBe(
      'trio.prioritization',
    );
    expect(decisionOf(field('severity', 'critical'), { kind: 'incident' })?.domain).toBe('eng.incident-command');
    expect(decisionOf(field('priority', 'P2'), { kind: 'task' })).toBeNull();
  });

  it("falls back on the event's item snapshot when no item is given", () => {
    expect(decisionOf(event({ field: 'priority', to: 'P1', item: { kind: 'bug' } }), null)?.domain).toBe(
      'eng.bug-triage',
    );
  });

  it('judges assignment of someone else, never self-assignment', () => {
    expect(decisionOf(field('assignee', 'mei.chen'), bug)).toEqual({ domain: 'eng.assignment', rule: 'assignment' });
    // The actor takes the item: by person id, by Jira account id, by GitHub login.
    expect(decisionOf(event({ field: 'assignee', to: 'mei.chen', actorPersonId: 'mei.chen' }), bug)).toBeNull();
    expect(decisionOf(event({ field: 'assignee', to: 'ACC-PRIYA' }), bug)).toBeNull();
    expect(
      decisionOf(
        event({ field: 'assignee', to: 'meichen-dev', actorIdentity: 'github:meichen-dev', actorPersonId: null }),
        bug,
      ),
    ).toBeNull();
    // Dropping one's own item is no decision either; unassigning someone else is.
    expect(decisionOf(field('assignee', null, 'priya.raman'), bug)).toBeNull();
    expect(decisionOf(field('assignee', null, 'mei.chen'), bug)?.domain).toBe('eng.assignment');
    // Taking an item from someone else reassigns it.
    expect(
      decisionOf(event({ field: 'assignee', from: 'mei.chen', to: 'priya.raman', actorPersonId: 'priya.raman' }), bug)
        ?.domain,
    ).toBe('eng.assignment');
  });

  it('maps estimates, and milestones and sprints of bugs', () => {
    expect(decisionOf(field('estimate', '5', '3'), { kind: 'feature' })?.domain).toBe('eng.estimation');
    expect(decisionOf(field('milestone', '2026.5'), bug)).toEqual({ domain: 'eng.bug-triage', rule: 'bug-schedule' });
    expect(decisionOf(field('sprint', 'Sprint 12'), bug)?.domain).toBe('eng.bug-triage');
    expect(decisionOf(field('sprint', 'Sprint 12'), { kind: 'tech_debt' })?.domain).toBe('eng.tech-debt');
    expect(decisionOf(field('sprint', 'Sprint 12'), { kind: 'feature' })).toBeNull();
  });

  it('recognises architecture by label and by title', () => {
    const label = (target: string) => event({ kind: 'label_added', target });
    expect(decisionOf(label('architecture'), { kind: 'task' })?.rule).toBe('architecture-label');
    expect(decisionOf(label('Type: Design Doc'), { kind: 'task' })?.domain).toBe('eng.architecture');
    expect(decisionOf(event({ kind: 'label_removed', target: 'ADR' }), { kind: 'task' })?.domain).toBe(
      'eng.architecture',
    );
    expect(decisionOf(label('good first issue'), { kind: 'task' })).toBeNull();

    const adr: DecisionItem = { kind: 'task', labels: ['adr'] };
    expect(decisionOf(field('state', 'done'), adr)?.rule).toBe('architecture-item-state');
    expect(decisionOf(event({ kind: 'closed', to: 'done' }), adr)?.rule).toBe('architecture-item-closed');
    expect(decisionOf(field('assignee', 'mei.chen'), adr)?.domain).toBe('eng.architecture');
    expect(decisionOf(event({ field: 'assignee', to: 'priya.raman' }), adr)).toBeNull();

    const titled = (title: string): DecisionItem => ({ kind: 'task', title });
    expect(decisionOf(field('state', 'accepted'), titled('ADR-012: Use Kafka for the ledger'))?.rule).toBe('adr-state');
    expect(decisionOf(field('state', 'done'), titled('Design doc: payouts v2'))?.domain).toBe('eng.architecture');
    expect(decisionOf(field('state', 'done'), titled('Add dashboards for the rate limiter'))).toBeNull();
    // Priority on an ADR that is a bug stays bug triage: only state and people are architecture.
    expect(decisionOf(field('priority', 'P1'), { ...bug, title: 'ADR-3 breaks checkout' })?.domain).toBe(
      'eng.bug-triage',
    );
  });

  it('recognises success metrics by data.field, by label and by a KR item being reworded', () => {
    expect(
      decisionOf(event({ kind: 'activity', data: { field: 'Success Metric', from: 'conversion', to: 'retention' } }), {
        kind: 'feature',
      }),
    ).toEqual({ domain: 'product.success-metrics', rule: 'metric-field' });
    expect(
      decisionOf(event({ kind: 'definition_changed', itemKey: null, data: { field: 'key_result' } }), null),
    ).toEqual({ domain: 'product.success-metrics', rule: 'metric-field' });
    expect(decisionOf(event({ kind: 'label_added', target: 'OKR' }), { kind: 'task' })?.domain).toBe(
      'product.success-metrics',
    );
    expect(decisionOf(field('title', 'Raise activation to 45 %'), { kind: 'task', labels: ['kr'] })?.rule).toBe(
      'metric-item-title',
    );
    expect(decisionOf(field('title', 'Raise activation to 45 %'), { kind: 'task' })).toBeNull();
  });

  it('is no decision for comments, PRs and ordinary state moves', () => {
    expect(decisionOf(event({ kind: 'commented', text: 'Any update?' }), bug)).toBeNull();
    expect(decisionOf(event({ kind: 'pr_merged' }), bug)).toBeNull();
    expect(decisionOf(field('state', 'in progress'), bug)).toBeNull();
  });
});

describe('team rules', () => {
  it('are tried before the defaults, can be scoped to teams, and defaults can be turned off', () => {
    const section = decisionRulesSectionSchema.parse({
      rules: [
        {
          id: 'payments-task-priority',
          domain: 'eng.bug-triage',
          teams: ['payments'],
          when: { change: ['field_changed'], field: ['priority'], item_kind: ['task'] },
        },
        { id: 'roadmap-label', domain: 'trio.prioritization', when: { label: ['now', 'next', 'later'] } },
      ],
      disable: ['estimate'],
    });
    const rules = buildDecisionRules(section);
    expect(decisionOf(field('priority', 'P1'), { kind: 'task', team: 'payments' })).toBeNull();
    expect(decisionOf(field('priority', 'P1'), { kind: 'task', team: 'growth' }, rules)).toBeNull();
    expect(decisionOf(field('priority', 'P1'), { kind: 'task', team: 'payments' }, rules)?.rule).toBe(
      'payments-task-priority',
    );
    expect(decisionOf(event({ kind: 'label_added', target: 'Now' }), { kind: 'feature' }, rules)?.domain).toBe(
      'trio.prioritization',
    );
    expect(decisionOf(field('estimate', '8'), { kind: 'feature' }, rules)).toBeNull();
    expect(
      decisionRuleProblems(
        section,
        DEFAULT_DOMAINS.map((d) => d.id),
      ),
    ).toEqual([]);
  });

  it('rejects rules without conditions or with a broken pattern, and reports unknown references', () => {
    expect(decisionRulesSectionSchema.safeParse({ rules: [{ id: 'x', domain: 'eng.x', when: {} }] }).success).toBe(
      false,
    );
    expect(
      decisionRulesSectionSchema.safeParse({ rules: [{ id: 'x', domain: 'eng.x', when: { item_title: '(' } }] })
        .success,
    ).toBe(false);
    const section = decisionRulesSectionSchema.parse({
      rules: [
        { id: 'a', domain: 'eng.nope', when: { change: ['closed'] } },
        { id: 'a', domain: 'eng.assignment', when: { change: ['closed'] } },
      ],
      disable: ['no-such-rule'],
    });
    expect(
      decisionRuleProblems(
        section,
        DEFAULT_DOMAINS.map((d) => d.id),
      ).map((p) => p.path),
    ).toEqual([
      ['rules', 0, 'domain'],
      ['rules', 1, 'id'],
      ['disable', 0],
    ]);
  });

  it('match titles in linear time: the nested quantifier of finding 4 answers right, case-insensitively', () => {
    const section = decisionRulesSectionSchema.parse({
      rules: [{ id: 'all-a', domain: 'eng.architecture', when: { change: ['closed'], item_title: '^(a+)+$' } }],
    });
    const rules = buildDecisionRules(section);
    const closed = event({ kind: 'closed' });
    const titled = (title: string): DecisionItem => ({ kind: 'task', title });
    expect(decisionOf(closed, titled(`${'a'.repeat(29)}!`), rules)).toBeNull();
    expect(decisionOf(closed, titled(`${'a'.repeat(100_000)}!`), rules)).toBeNull();
    expect(decisionOf(closed, titled('aAaA'), rules)).toEqual({ domain: 'eng.architecture', rule: 'all-a' });
    expect(decisionOf(closed, titled('a'.repeat(100_000)), rules)?.rule).toBe('all-a');
  });

  it('refuse patterns RE2 cannot run, saying where and what to write instead', () => {
    const parsed = decisionRulesSectionSchema.safeParse({
      rules: [{ id: 'x', domain: 'eng.x', when: { item_title: 'rfc(?!-draft)' } }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['rules', 0, 'when', 'item_title'],
      message: 'lookahead `(?=…)` / `(?!…)` is not supported',
      params: { pattern: { index: 3, hint: expect.stringMatching(/^match the following text itself/) } },
    });
  });

  it('name only catalog domains by default, each rule once', () => {
    const ids = new Set(DEFAULT_DOMAINS.map((d) => d.id));
    for (const rule of DEFAULT_DECISION_RULES) expect(ids.has(rule.domain), rule.id).toBe(true);
    expect(new Set(DEFAULT_DECISION_RULES.map((r) => r.id)).size).toBe(DEFAULT_DECISION_RULES.length);
    expect(decisionRulesSectionSchema.safeParse({ rules: DEFAULT_DECISION_RULES }).success).toBe(true);
  });
});

describe('foldLabels', () => {
  it('follows labels added and removed, and the labels a created event carries', () => {
    let labels: ReadonlySet<string> = new Set();
    labels = foldLabels(labels, event({ kind: 'created', data: { labels: ['backend', 'adr'] } }));
    labels = foldLabels(labels, event({ kind: 'label_added', target: 'architecture' }));
    labels = foldLabels(labels, event({ kind: 'label_removed', target: 'backend' }));
    expect([...labels].sort()).toEqual(['adr', 'architecture']);
    const same = foldLabels(labels, event({ kind: 'commented', text: 'hi' }));
    expect(same).toBe(labels);
  });
});
