import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BoundaryOwners } from './boundary.js';
import type { NudgeSettings } from './charter.schema.js';
import {
  composeNudge,
  decideNudge,
  renderNudge,
  type NudgeCandidate,
  type NudgeMessage,
  type NudgePerson,
  type NudgeRecord,
  type NudgeSubject,
} from './nudge.js';

const people = new Map<string, NudgePerson>([
  ['sam.lee', { id: 'sam.lee', name: 'Sam Lee', github: 'samlee', slack: 'U0SAM' }],
  ['ana.diaz', { id: 'ana.diaz', name: 'Ana Diaz' }],
  ['li.wu', { id: 'li.wu', name: 'Li Wu' }],
  ['mei.chen', { id: 'mei.chen', name: 'Mei Chen', slack: 'U0MEI' }],
  ['dana.ross', { id: 'dana.ross', name: 'Dana Ross' }],
]);

const engineering: BoundaryOwners = {
  decides: 'engineering',
  people: [
    { id: 'sam.lee', name: 'Sam Lee', role: 'tech-lead' },
    { id: 'ana.diaz', name: 'Ana Diaz', role: 'engineer' },
    { id: 'li.wu', name: 'Li Wu', role: 'engineer' },
  ],
  delegates: [],
  consulted: ['product'],
  informed: [],
};

const subject = (over: Partial<NudgeSubject> = {}): NudgeSubject => ({
  teamName: 'Payments',
  domain: { id: 'eng.bug-triage', title: 'Bug triage' },
  item: { key: 'PAY-231', kind: 'bug', title: 'Checkout total fails' },
  change: { kind: 'field_changed', field: 'priority', from: null, to: 'P1', target: null },
  owners: engineering,
  people,
  where: 'item',
  ...over,
});

const plain = (m: NudgeMessage | null): string => renderNudge(m!, 'plain');

describe('composeNudge', () => {
  it('says what was decided and who owns it, kindly, without naming who crossed the line', () => {
    const message = composeNudge(subject())!;
    expect(plain(message)).toBe(
      'Hi! A quick note from Lanes, your team\'s charter assistant: the priority of this bug was set to "P1". ' +
        'In the Payments charter, the call on bug triage belongs to engineering (Sam, Ana and Li). ' +
        'Sam, this one is yours to confirm; if it already looks right to you, there is nothing more to do. ' +
        'Nothing is blocked: this is only a nudge to keep decisions with their owners.',
    );
    // The group's lead is asked, not every engineer.
    expect(message.addressed).toEqual(['sam.lee']);
    expect(plain(message)).not.toMatch(/Dana|product manager/);
  });

  it('names a single person decider directly and asks them', () => {
    const owners: BoundaryOwners = {
      ...engineering,
      decides: 'mei.chen',
      people: [{ id: 'mei.chen', name: 'Mei Chen', role: 'tech-lead' }],
    };
    const text = plain(composeNudge(subject({ owners })));
    expect(text).toContain('the call on bug triage belongs to Mei. Mei, this one is yours to confirm');
  });

  it('asks the delegates while a delegation is in force', () => {
    const owners: BoundaryOwners = {
      ...engineering,
      decides: 'sam.lee',
      people: [{ id: 'sam.lee', name: 'Sam Lee', role: 'tech-lead' }],
      delegates: [{ id: 'mei.chen', name: 'Mei Chen', role: 'engineer' }],
    };
    const message = composeNudge(subject({ owners }))!;
    expect(plain(message)).toContain('belongs to Sam, and for now it is delegated to Mei. Mei, this one is yours');
    expect(message.addressed).toEqual(['mei.chen']);
  });

  it('writes out full names when two owners share a first name, and counts the rest beyond three', () => {
    const many: BoundaryOwners = {
      ...engineering,
      people: [
        { id: 'a', name: 'Alex One', role: 'tech-lead' },
        { id: 'b', name: 'Alex Two', role: 'tech-lead' },
        { id: 'c', name: 'Cleo', role: 'engineer' },
        { id: 'd', name: 'Dev', role: 'engineer' },
        { id: 'e', name: 'Eli', role: 'engineer' },
      ],
    };
    const text = plain(composeNudge(subject({ owners: many })));
    expect(text).toContain('belongs to engineering (Alex One, Alex Two, Cleo and 2 more). Alex One and Alex Two, this');
  });

  it('returns null when the charter names nobody to own the decision', () => {
    expect(composeNudge(subject({ owners: { ...engineering, people: [] } }))).toBeNull();
  });

  it('describes each kind of change', () => {
    const said = (change: NudgeSubject['change'], over: Partial<NudgeSubject> = {}) =>
      plain(composeNudge(subject({ change, ...over }))).split('. In the')[0];
    expect(said({ kind: 'field_changed', field: 'priority', from: 'P3', to: 'P1', target: null })).toMatch(
      /the priority of this bug was changed to "P1"$/,
    );
    expect(said({ kind: 'field_changed', field: 'severity', from: 'high', to: null, target: null })).toMatch(
      /the severity of this bug was cleared$/,
    );
    expect(said({ kind: 'field_changed', field: 'state', from: 'Open', to: 'Won’t fix', target: null })).toMatch(
      /this bug was moved to "Won’t fix"$/,
    );
    expect(said({ kind: 'label_added', field: null, from: null, to: null, target: 'architecture' })).toMatch(
      /the label "architecture" was added to this bug$/,
    );
    expect(said({ kind: 'closed', field: null, from: null, to: null, target: null })).toMatch(/this bug was closed$/);
    expect(said(null, { item: { key: 'o/r#7', kind: 'tech_debt', title: null } })).toMatch(
      /a decision about bug triage was made on this tech debt item$/,
    );
    expect(said(null, { domain: { id: 'sre.slo', title: 'SLOs and error budgets' } })).toMatch(
      /a decision about SLOs and error budgets was made/,
    );
  });

  it('names the item and its title in a message elsewhere (Slack)', () => {
    const text = plain(composeNudge(subject({ where: 'elsewhere' })));
    expect(text).toContain('the priority of bug PAY-231 ("Checkout total fails") was set to "P1"');
  });
});

describe('renderNudge', () => {
  const hostile = subject({
    where: 'elsewhere',
    item: {
      key: 'acme/web#12',
      kind: 'bug',
      title: '<img src=x onerror=alert(1)> **urgent** <!channel> @here `x`\nnext',
    },
    change: { kind: 'label_added', field: null, from: null, to: null, target: '[click](http://evil) @octocat <b>' },
  });

  it('keeps HTML, Markdown and mentions from a source inert on GitHub, and mentions the owner', () => {
    const text = renderNudge(composeNudge(hostile)!, 'github');
    expect(text).toContain('the label `[click](http://evil) @octocat <b>` was added');
    expect(text).toContain('`` <img src=x onerror=alert(1)> **urgent** <!channel> @here `x` next ``');
    expect(text).toContain('Sam (@samlee)');
    // Outside code spans nothing can format or mention.
    const outside = text.replace('(@samlee)', '').replace(/(`+)[^`](?:.*?[^`])?\1(?!`)/g, '');
    expect(outside).not.toMatch(/(^|[^\\])[<*[@]/);
    expect(outside).not.toContain('\n');
  });

  it('escapes Slack control characters and mentions owners by member id', () => {
    const text = renderNudge(composeNudge(hostile)!, 'slack');
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).toContain("'x'");
    // Only the person asked is mentioned; the others are named.
    expect(text).toContain('engineering (Sam, Ana and Li). <@U0SAM>, this one is yours');
    expect(text.replace('<@U0SAM>', '')).not.toMatch(/[<>]/);
  });

  it('escapes Jira wiki markup', () => {
    const text = renderNudge(composeNudge(hostile)!, 'jira-wiki');
    expect(text).toContain('"\\[click\\](http://evil) @octocat <b>"');
    expect(text).toContain('\\*\\*urgent\\*\\*');
  });

  it('never lets a title or value break out on Slack or GitHub', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.string({ maxLength: 120 }), (title, value) => {
        const message = composeNudge(
          subject({
            where: 'elsewhere',
            item: { key: 'PAY-1', kind: 'bug', title },
            change: { kind: 'field_changed', field: 'priority', from: null, to: value, target: null },
          }),
        )!;
        const slack = renderNudge(message, 'slack');
        expect(slack.replace('<@U0SAM>', '')).not.toMatch(/[<>]/);
        expect(slack).not.toContain('\n');
        const github = renderNudge(message, 'github');
        expect(github).not.toContain('\n');
        expect(github.endsWith('their owners.')).toBe(true);
      }),
    );
  });
});

describe('decideNudge', () => {
  const NOW = new Date('2026-06-10T15:00:00.000Z');
  const settings = (over: Partial<NudgeSettings> = {}): NudgeSettings => ({
    enabled: true,
    mode: 'send',
    channel: 'source',
    daily_cap: 2,
    ...over,
  });
  const candidate = (over: Partial<NudgeCandidate> = {}): NudgeCandidate => ({
    team: 'payments',
    itemKey: 'PAY-231',
    domain: 'eng.bug-triage',
    hasOwner: true,
    hasTarget: true,
    ...over,
  });
  const record = (over: Partial<NudgeRecord> = {}): NudgeRecord => ({
    team: 'payments',
    itemKey: 'PAY-1',
    domain: 'eng.bug-triage',
    createdAt: '2026-06-10T09:00:00.000Z',
    status: 'sent',
    mode: 'send',
    ...over,
  });

  it('is off unless the team turns it on', () => {
    expect(decideNudge(candidate(), undefined, [], NOW)).toEqual({ nudge: false, reason: 'not_enabled' });
    expect(decideNudge(candidate(), settings({ enabled: false }), [], NOW)).toEqual({
      nudge: false,
      reason: 'not_enabled',
    });
    expect(decideNudge(candidate(), settings(), [], NOW)).toEqual({ nudge: true });
  });

  it('keeps to the listed domains', () => {
    expect(decideNudge(candidate(), settings({ domains: ['eng.assignment'] }), [], NOW)).toEqual({
      nudge: false,
      reason: 'domain_filtered',
    });
    expect(decideNudge(candidate(), settings({ domains: ['eng.bug-triage'] }), [], NOW)).toEqual({ nudge: true });
  });

  it('skips when the owner followed up, nobody owns it, or there is nowhere to send it', () => {
    expect(decideNudge(candidate({ ownerFollowedUp: true }), settings(), [], NOW)).toMatchObject({
      reason: 'owner_followed_up',
    });
    expect(decideNudge(candidate({ hasOwner: false }), settings(), [], NOW)).toMatchObject({ reason: 'no_owner' });
    expect(decideNudge(candidate({ hasTarget: false }), settings(), [], NOW)).toMatchObject({ reason: 'no_target' });
  });

  it('nudges an item and domain at most once in 7 days', () => {
    const sixDays = record({ itemKey: 'PAY-231', createdAt: '2026-06-04T15:00:01.000Z' });
    const eightDays = record({ itemKey: 'PAY-231', createdAt: '2026-06-02T14:59:59.000Z' });
    expect(decideNudge(candidate(), settings(), [sixDays], NOW)).toEqual({ nudge: false, reason: 'already_nudged' });
    expect(decideNudge(candidate(), settings(), [eightDays], NOW)).toEqual({ nudge: true });
    // Another domain on the same item, or the same domain on another item, is a separate nudge.
    expect(decideNudge(candidate({ domain: 'eng.assignment' }), settings(), [sixDays], NOW)).toEqual({ nudge: true });
    expect(decideNudge(candidate({ itemKey: 'PAY-9' }), settings(), [sixDays], NOW)).toEqual({ nudge: true });
    // A failed send reached nobody; a dry run does not hold back a real send.
    expect(decideNudge(candidate(), settings(), [{ ...sixDays, status: 'failed' }], NOW)).toEqual({ nudge: true });
    expect(decideNudge(candidate(), settings(), [{ ...sixDays, status: 'dry_run', mode: 'dry-run' }], NOW)).toEqual({
      nudge: true,
    });
    expect(
      decideNudge(
        candidate(),
        settings({ mode: 'dry-run' }),
        [{ ...sixDays, status: 'dry_run', mode: 'dry-run' }],
        NOW,
      ),
    ).toEqual({ nudge: false, reason: 'already_nudged' });
  });

  it('caps the team per UTC day', () => {
    const today = [record({ itemKey: 'PAY-1' }), record({ itemKey: 'PAY-2', status: 'sending' })];
    expect(decideNudge(candidate(), settings(), today, NOW)).toEqual({ nudge: false, reason: 'daily_cap' });
    expect(decideNudge(candidate(), settings({ daily_cap: 3 }), today, NOW)).toEqual({ nudge: true });
    // Yesterday's, another team's and skipped ones do not count.
    const others = [
      record({ createdAt: '2026-06-09T23:59:59.999Z' }),
      record({ team: 'growth' }),
      record({ status: 'skipped' }),
    ];
    expect(decideNudge(candidate(), settings({ daily_cap: 1 }), others, NOW)).toEqual({ nudge: true });
  });
});
