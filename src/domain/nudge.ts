import type { BoundaryOwners } from './boundary.js';
import type { NudgeSettings } from './charter.schema.js';

/**
 * Boundary nudges (PRODUCT.md C3, issue 5): when someone decides outside their
 * lane, a short and kind note that names the owner per charter — a comment on
 * the source item, or a Slack message. Opt-in per team. This module is pure:
 * it writes the message and decides whether a nudge may go out (caps); the
 * service loads, records and sends.
 *
 * The message never names or blames the person who crossed the line: it says
 * what was decided, who owns that decision, and that nothing is blocked.
 */

/** At most one nudge per item and domain in this window. */
export const NUDGE_WINDOW_MS = 7 * 86_400_000;

/** Why a crossing was not nudged. */
export const NUDGE_SKIP_REASONS = [
  'not_enabled',
  'domain_filtered',
  'owner_followed_up',
  'no_owner',
  'no_target',
  'already_nudged',
  'daily_cap',
] as const;
export type NudgeSkipReason = (typeof NUDGE_SKIP_REASONS)[number];

/**
 * What became of a considered crossing. `sending` is held while the request is
 * out (it claims the decision, so a crash or a second runner never sends twice).
 */
export const NUDGE_STATUSES = ['sending', 'sent', 'dry_run', 'failed', 'skipped'] as const;
export type NudgeStatus = (typeof NUDGE_STATUSES)[number];

export type NudgeMode = NudgeSettings['mode'];

// ---------------------------------------------------------------------------
// The message

/** A person the message names, with their handles for mentions. */
export interface NudgePerson {
  id: string;
  name: string;
  /** GitHub login: mentioned on GitHub comments. */
  github?: string | undefined;
  /** Slack member id: mentioned in Slack messages. */
  slack?: string | undefined;
}

/**
 * The message as segments, so each channel can escape what came from outside
 * (values, titles) and mention people its own way.
 * - `text`: Lanes' own words (and charter names);
 * - `value`: something a source sent (a priority, a label, a title), quoted;
 * - `key`: the item's key, as it is but escaped;
 * - `person`: an owner, named; with `mention`, also mentioned where the channel allows (only the people asked).
 */
export type NudgeSegment =
  { text: string } | { value: string } | { key: string } | { person: NudgePerson; mention?: boolean };

export interface NudgeMessage {
  segments: NudgeSegment[];
  /** Ids of the people the message addresses (the owners asked to confirm). */
  addressed: string[];
}

/** The change that was decided, as the event log holds it. */
export interface NudgeChange {
  kind: string;
  field: string | null;
  from: string | null;
  to: string | null;
  target: string | null;
}

export interface NudgeSubject {
  /** The team's name as the charter writes it ("Payments"). */
  teamName: string;
  /** The decision domain with its title ("Bug triage"). */
  domain: { id: string; title: string };
  item: { key: string | null; kind: string | null; title: string | null };
  change: NudgeChange | null;
  owners: BoundaryOwners;
  /** Charter people by id, for names and handles. */
  people: ReadonlyMap<string, NudgePerson>;
  /** `item`: a comment on the item itself ("this bug"); `elsewhere`: a message that must name the item (Slack). */
  where: 'item' | 'elsewhere';
}

const KIND_NOUNS: Readonly<Record<string, string>> = {
  bug: 'bug',
  incident: 'incident',
  tech_debt: 'tech debt item',
  feature: 'feature',
  task: 'task',
};

const FIELD_NOUNS: Readonly<Record<string, string>> = {
  severity: 'severity',
  priority: 'priority',
  assignee: 'assignee',
  milestone: 'milestone',
  sprint: 'sprint',
  estimate: 'estimate',
  resolution: 'resolution',
  component: 'component',
  kind: 'type',
  team: 'team',
  customer: 'customer',
  title: 'title',
};

const MAX_VALUE = 80;
const MAX_TITLE = 100;
const MAX_NAMED = 3;

/** One line, no control characters, at most `max` characters. */
const oneLine = (value: string, max: number): string => {
  const flat = value
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...flat];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : flat;
};

/** "Bug triage" → "bug triage"; acronyms ("SLOs and error budgets") keep their case. */
const lowerFirst = (title: string): string =>
  title.length > 1 && title[1] === title[1]!.toLowerCase() ? title[0]!.toLowerCase() + title.slice(1) : title;

const firstName = (name: string): string => name.trim().split(/\s+/)[0] ?? name;

/** Short names for the people named: first names, unless two of them share one. */
const shortNames = (people: readonly NudgePerson[]): Map<string, string> => {
  const count = new Map<string, number>();
  for (const p of people) count.set(firstName(p.name), (count.get(firstName(p.name)) ?? 0) + 1);
  return new Map(people.map((p) => [p.id, (count.get(firstName(p.name)) ?? 0) > 1 ? p.name : firstName(p.name)]));
};

/** People as segments joined with commas and "and", at most `MAX_NAMED` and a count of the rest. */
const peopleSegments = (
  people: readonly NudgePerson[],
  names: ReadonlyMap<string, string>,
  mention = false,
): NudgeSegment[] => {
  const shown = people
    .slice(0, MAX_NAMED)
    .map((p) => ({ person: { ...p, name: names.get(p.id) ?? p.name }, ...(mention ? { mention } : {}) }));
  const rest = people.length - shown.length;
  const out: NudgeSegment[] = [];
  shown.forEach((s, i) => {
    if (i > 0) out.push({ text: i === shown.length - 1 && rest === 0 ? ' and ' : ', ' });
    out.push(s);
  });
  if (rest > 0) out.push({ text: ` and ${rest} more` });
  return out;
};

const subjectSegments = (subject: NudgeSubject): NudgeSegment[] => {
  const noun = (subject.item.kind && KIND_NOUNS[subject.item.kind]) ?? 'item';
  if (subject.where === 'item' || subject.item.key === null) return [{ text: `this ${noun}` }];
  const title = subject.item.title ? oneLine(subject.item.title, MAX_TITLE) : '';
  return [
    { text: `${noun} ` },
    { key: subject.item.key },
    ...(title ? [{ text: ' (' }, { value: title }, { text: ')' }] : []),
  ];
};

/** What was decided, without naming who: "the priority of this bug was set to `P1`". */
const happenedSegments = (subject: NudgeSubject): NudgeSegment[] => {
  const it = subjectSegments(subject);
  const change = subject.change;
  const value = (v: string): NudgeSegment => {
    const flat = oneLine(v, MAX_VALUE);
    return flat === '' ? { text: 'an empty value' } : { value: flat };
  };
  switch (change?.kind) {
    case 'field_changed': {
      if (change.field === 'state') {
        return change.to === null
          ? [...it, { text: ' changed state' }]
          : [...it, { text: ' was moved to ' }, value(change.to)];
      }
      const field = (change.field && FIELD_NOUNS[change.field]) ?? change.field ?? 'a field';
      const head: NudgeSegment[] = [{ text: `the ${field} of ` }, ...it];
      if (change.to === null) return [...head, { text: ' was cleared' }];
      return [...head, { text: change.from === null ? ' was set to ' : ' was changed to ' }, value(change.to)];
    }
    case 'label_added':
    case 'label_removed': {
      const added = change.kind === 'label_added';
      const label: NudgeSegment[] = change.target
        ? [{ text: 'the label ' }, value(change.target)]
        : [{ text: 'a label' }];
      return [...label, { text: added ? ' was added to ' : ' was removed from ' }, ...it];
    }
    case 'closed':
      return [...it, { text: ' was closed' }];
    case 'reopened':
      return [...it, { text: ' was reopened' }];
    default:
      return [{ text: `a decision about ${lowerFirst(subject.domain.title)} was made on ` }, ...it];
  }
};

/**
 * Writes the nudge, or returns null when the charter names nobody to own the
 * decision (a nudge must name an owner). Example, as plain text:
 *
 * > Hi! A quick note from Lanes, your team's charter assistant: the priority of
 * > this bug was set to "P1". In the Payments charter, the call on bug triage
 * > belongs to engineering (Sam, Ana and Li). Sam, this one is yours to confirm;
 * > if it already looks right to you, there is nothing more to do. Nothing is
 * > blocked: this is only a nudge to keep decisions with their owners.
 */
export const composeNudge = (subject: NudgeSubject): NudgeMessage | null => {
  const { owners } = subject;
  const resolve = (p: { id: string; name: string }): NudgePerson => subject.people.get(p.id) ?? p;
  const deciders = owners.people.map(resolve);
  const delegates = owners.delegates.map(resolve);
  if (deciders.length === 0 && delegates.length === 0) return null;

  const names = shortNames([...deciders, ...delegates]);
  const single = owners.decides !== null && deciders.length === 1 && deciders[0]!.id === owners.decides;
  const decidedBy: NudgeSegment[] = single
    ? peopleSegments(deciders, names)
    : deciders.length > 0
      ? [{ text: `${owners.decides ?? 'the owners'} (` }, ...peopleSegments(deciders, names), { text: ')' }]
      : [{ text: owners.decides ?? 'nobody named' }];
  // Ask the people who hold the decision now: the delegates, or else the deciders of the group's first role
  // (the charter lists a group's people by role, so the tech lead comes before the engineers).
  const leadRole = owners.people[0]?.role;
  const ask = (delegates.length > 0 ? delegates : deciders.filter((_, i) => owners.people[i]?.role === leadRole)).slice(
    0,
    MAX_NAMED,
  );

  const segments: NudgeSegment[] = [
    { text: "Hi! A quick note from Lanes, your team's charter assistant: " },
    ...happenedSegments(subject),
    { text: `. In the ${subject.teamName} charter, the call on ${lowerFirst(subject.domain.title)} belongs to ` },
    ...decidedBy,
    ...(delegates.length > 0
      ? [{ text: ', and for now it is delegated to ' }, ...peopleSegments(delegates, names)]
      : []),
    { text: '. ' },
    ...peopleSegments(ask, names, true),
    {
      text:
        `, this one is yours to confirm; if it already looks right to you, there is nothing more to do. ` +
        `Nothing is blocked: this is only a nudge to keep decisions with their owners.`,
    },
  ];
  return { segments: merge(segments), addressed: ask.map((p) => p.id) };
};

/** Joins neighbouring text segments (tidier output and tests). */
const merge = (segments: NudgeSegment[]): NudgeSegment[] => {
  const out: NudgeSegment[] = [];
  for (const s of segments) {
    const last = out.at(-1);
    if (last && 'text' in last && 'text' in s) out[out.length - 1] = { text: last.text + s.text };
    else out.push(s);
  }
  return out;
};

// ---------------------------------------------------------------------------
// Rendering per channel

/** `plain`: text as is; `github`: Markdown; `slack`: Slack mrkdwn; `jira-wiki`: Jira Data Center wiki markup. */
export type NudgeFormat = 'plain' | 'github' | 'slack' | 'jira-wiki';

/** Backslash-escapes what Markdown would read as formatting, HTML or a mention. */
const escapeMarkdown = (text: string): string => text.replace(/[\\`*_[\]<>~|&@]/g, (c) => `\\${c}`);

/** An inline code span that holds `value` literally, whatever backticks it contains. */
const codeSpan = (value: string): string => {
  const longest = Math.max(0, ...[...value.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = value.startsWith('`') || value.endsWith('`') || longest > 0 ? ' ' : '';
  return `${fence}${pad}${value}${pad}${fence}`;
};

/** Slack reads `&`, `<` and `>` as control characters (links, mentions, `<!channel>`). */
const escapeSlack = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Jira wiki markup: escape every character that starts formatting, links, macros or mentions. */
const escapeJiraWiki = (text: string): string => text.replace(/[\\*_{}[\]|!#^~+?-]/g, (c) => `\\${c}`);

/** Renders the message for one channel; whatever came from a source cannot format, link or mention. */
export const renderNudge = (message: NudgeMessage, format: NudgeFormat): string =>
  message.segments
    .map((s) => {
      if ('text' in s) {
        if (format === 'github') return escapeMarkdown(s.text);
        if (format === 'slack') return escapeSlack(s.text);
        if (format === 'jira-wiki') return escapeJiraWiki(s.text);
        return s.text;
      }
      if ('key' in s) {
        if (format === 'github') return escapeMarkdown(s.key);
        if (format === 'slack') return escapeSlack(s.key);
        if (format === 'jira-wiki') return escapeJiraWiki(s.key);
        return s.key;
      }
      if ('value' in s) {
        if (format === 'github') return codeSpan(s.value);
        // Slack code spans cannot hold a backtick; it becomes a quote.
        if (format === 'slack') return `\`${escapeSlack(s.value.replace(/`/g, "'"))}\``;
        if (format === 'jira-wiki') return `"${escapeJiraWiki(s.value)}"`;
        return `"${s.value}"`;
      }
      const p = s.person;
      if (s.mention && format === 'github' && p.github && /^[A-Za-z0-9-]{1,39}$/.test(p.github))
        return `${escapeMarkdown(p.name)} (@${p.github})`;
      if (s.mention && format === 'slack' && p.slack && /^[UW][A-Z0-9]{2,20}$/.test(p.slack)) return `<@${p.slack}>`;
      if (format === 'github') return escapeMarkdown(p.name);
      if (format === 'slack') return escapeSlack(p.name);
      if (format === 'jira-wiki') return escapeJiraWiki(p.name);
      return p.name;
    })
    .join('');

// ---------------------------------------------------------------------------
// Caps

/** A nudge already recorded (or decided earlier in the same run). */
export interface NudgeRecord {
  team: string;
  itemKey: string | null;
  domain: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  status: NudgeStatus;
  mode: NudgeMode;
}

export interface NudgeCandidate {
  team: string;
  itemKey: string | null;
  domain: string;
  /** A decider of the domain has decided on the same item since: the owner has it in hand. */
  ownerFollowedUp?: boolean | undefined;
  /** The charter names someone to own the decision. */
  hasOwner: boolean;
  /** There is somewhere to send it (a GitHub or Jira item, or a Slack channel). */
  hasTarget: boolean;
}

export type NudgeVerdict = { nudge: true } | { nudge: false; reason: NudgeSkipReason };

/** The UTC day of an instant, `YYYY-MM-DD`. */
const utcDay = (iso: string): string => iso.slice(0, 10);

/**
 * Whether a crossing may be nudged now, given the nudges recorded for its team
 * in the last 7 days. Only nudges that went out (or were held for sending) in
 * the team's current mode count: dry-run records show what `send` would do,
 * and turning `send` on starts with a clean slate. Failed sends reached nobody
 * and do not count.
 *
 * In order: `not_enabled`, `domain_filtered`, `owner_followed_up`, `no_owner`,
 * `no_target`, `already_nudged` (same item and domain within 7 days),
 * `daily_cap` (the team's nudges on the current UTC day).
 */
export const decideNudge = (
  candidate: NudgeCandidate,
  settings: NudgeSettings | undefined,
  recent: readonly NudgeRecord[],
  now: Date,
): NudgeVerdict => {
  if (!settings?.enabled) return { nudge: false, reason: 'not_enabled' };
  if (settings.domains !== undefined && !settings.domains.includes(candidate.domain)) {
    return { nudge: false, reason: 'domain_filtered' };
  }
  if (candidate.ownerFollowedUp) return { nudge: false, reason: 'owner_followed_up' };
  if (!candidate.hasOwner) return { nudge: false, reason: 'no_owner' };
  if (!candidate.hasTarget) return { nudge: false, reason: 'no_target' };
  const counted = recent.filter(
    (r) => r.team === candidate.team && r.mode === settings.mode && r.status !== 'failed' && r.status !== 'skipped',
  );
  const windowStart = now.getTime() - NUDGE_WINDOW_MS;
  if (
    candidate.itemKey !== null &&
    counted.some(
      (r) => r.itemKey === candidate.itemKey && r.domain === candidate.domain && Date.parse(r.createdAt) > windowStart,
    )
  ) {
    return { nudge: false, reason: 'already_nudged' };
  }
  const today = utcDay(now.toISOString());
  if (counted.filter((r) => utcDay(r.createdAt) === today).length >= settings.daily_cap) {
    return { nudge: false, reason: 'daily_cap' };
  }
  return { nudge: true };
};
