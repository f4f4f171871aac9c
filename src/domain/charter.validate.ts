// Over 500 lines, kept for now: every cross-reference check of lanes.yaml with its positions; split per section in issue 15.
import { DEFAULT_DOMAINS } from './charter.catalog.js';
import { claimPlace, identityConflicts } from './charter.identity.js';
import { connectorReferenceProblems, type ConnectorsMapping } from './connector.mapping.js';
import { decisionRuleProblems, type DecisionRulesSection } from './decision.rules.js';
import {
  BUILTIN_GROUPS,
  type Charter,
  type Delegation,
  type DomainEntry,
  type Person,
  type Raci,
  type Role,
  type Team,
} from './charter.schema.js';

/**
 * Reference checks of a charter that has (mostly) the right shape: unknown
 * people, groups and domains, duplicate ids, one decider per domain, the trio,
 * escalation and delegations. The YAML and schema stage lives in
 * `charter.parse.ts`, which turns the paths reported here into line:col.
 */

/** The closed list of charter issue codes, each with what to do about it. Never rename a code. */
export const CHARTER_ISSUE_CODES = {
  LANES_CHARTER_EMPTY:
    'Write the charter: run `lanes init` for a starter, or add version, workspace, people and teams.',
  LANES_CHARTER_YAML_SYNTAX: 'Fix the YAML here: indentation, a missing quote or bracket, or a key written twice.',
  LANES_CHARTER_SCHEMA: 'Fix this field to match the charter schema; `lanes schema` prints it for editor completion.',
  LANES_CHARTER_DUPLICATE_ID: 'Give every person, team, domain and group its own id.',
  LANES_CHARTER_UNKNOWN_PERSON: 'Add the person under `people`, or fix the spelling of the id.',
  LANES_CHARTER_UNKNOWN_GROUP: `Use a built-in group (${Object.keys(BUILTIN_GROUPS).join(', ')}), a group under \`groups\`, or a person id.`,
  LANES_CHARTER_UNKNOWN_DOMAIN: 'Use a domain id from the catalog, or add the domain under `domains`.',
  LANES_CHARTER_NO_DECIDER:
    'Set `decides` for the domain, under `domains` for every team or under a team’s `decisions`.',
  LANES_CHARTER_MULTIPLE_DECIDERS: 'Keep exactly one deciding group and move the others to `consulted`.',
  LANES_CHARTER_TRIO_INCOMPLETE: 'Name three different people in the trio: product, design and tech.',
  LANES_CHARTER_TRIO_ROLE:
    'trio.product must be a product-manager, trio.design a designer, trio.tech a tech-lead or engineering-manager.',
  LANES_CHARTER_MEMBER_UNKNOWN: 'Add the person to the team’s `members`, or choose a member of the team.',
  LANES_CHARTER_ESCALATION_ROLE: 'Name a person whose role is engineering-leadership as the escalation contact.',
  LANES_CHARTER_DELEGATION_EXPIRED: 'Remove the delegation, or move `until` to a later date if it still applies.',
  LANES_CHARTER_DELEGATION_DANGLING: 'Point the delegation at an existing domain, team, group or person.',
  LANES_CHARTER_UNKNOWN_TEAM: 'Map the repository, project or team to a team id under `teams`.',
  LANES_CHARTER_UNKNOWN_COMPONENT: 'Use one of the team’s `components`, or add the component to the team.',
  LANES_CHARTER_TOO_MANY_ISSUES: 'Fix the issues above and run `lanes check` again to see the rest.',
  LANES_CHARTER_PATTERN:
    'Write the pattern in RE2 syntax (https://github.com/google/re2/wiki/Syntax): no lookaround, backreferences or possessive quantifiers.',
  LANES_CHARTER_TOO_LARGE:
    'Keep lanes.yaml under 1 MiB, nested at most 64 levels, with aliases (*name) that expand to at most 1,000,000 values.',
  LANES_CHARTER_DUPLICATE_IDENTITY:
    'Give every e-mail, login and account id to one person only: remove it from one of them (or merge the two people).',
} as const;

export type CharterIssueCode = keyof typeof CHARTER_ISSUE_CODES;

/**
 * Codes that do not stop a charter from being used. A delegation that lapses
 * must not take a running server down: an expired delegation is simply not in
 * force. `lanes check` still reports it so someone cleans it up.
 */
export const NON_BLOCKING_ISSUE_CODES: ReadonlySet<CharterIssueCode> = new Set(['LANES_CHARTER_DELEGATION_EXPIRED']);

/** One problem in a charter file, positioned for an editor or a terminal. */
export interface CharterIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  code: CharterIssueCode;
  message: string;
  /** What to do, in one line; includes a "did you mean" suggestion when there is one. */
  hint: string;
  severity: 'error';
  /** Where in the document, e.g. `teams[1].trio.product`; empty for the whole file. */
  path: string;
  /** The likely intended id for a misspelt reference. */
  suggestion?: string;
}

export type CharterPath = ReadonlyArray<string | number>;

/** An issue found on the parsed data, positioned by its path in the document. */
export interface PathIssue {
  path: CharterPath;
  /** Point at the key of the last path element (an unknown key) or at its value. */
  at: 'key' | 'value';
  code: CharterIssueCode;
  message: string;
  hint: string;
  suggestion?: string;
  /** With `at: 'value'` on a string: the offset in the string's value to point at (a pattern's bad construct). */
  offset?: number;
}

// ---------------------------------------------------------------------------
// Domains after merging the catalog with the charter

/** A decision domain as a charter sees it: the catalog default overlaid by the charter's `domains` entry. */
export interface ResolvedDomain {
  id: string;
  title: string;
  question: string;
  keywords: string[];
  /** Normally one group or person id; more than one is reported as LANES_CHARTER_MULTIPLE_DECIDERS. */
  decides: string[];
  consulted: string[];
  informed: string[];
  origin: 'catalog' | 'charter' | 'catalog+charter';
}

const decidesList = (decides: Raci['decides']): string[] | undefined =>
  decides === undefined ? undefined : typeof decides === 'string' ? [decides] : [...decides];

/**
 * The catalog of `DEFAULT_DOMAINS` overlaid by the charter's `domains`, in
 * catalog order followed by the charter's new domains. Fields a charter entry
 * sets replace the default; keywords are added to the catalog's, because they
 * only route questions and a team's own words should not lose the defaults.
 */
export const mergeDomains = (charter: Pick<Charter, 'domains'>): ResolvedDomain[] => {
  const byId = new Map<string, ResolvedDomain>();
  for (const d of DEFAULT_DOMAINS) {
    byId.set(d.id, {
      id: d.id,
      title: d.title,
      question: d.question,
      keywords: [...d.keywords],
      decides: [d.decides],
      consulted: [...d.consulted],
      informed: [...d.informed],
      origin: 'catalog',
    });
  }
  for (const entry of charter.domains ?? []) {
    const base = byId.get(entry.id);
    const title = entry.title ?? base?.title ?? entry.id;
    byId.set(entry.id, {
      id: entry.id,
      title,
      question: entry.question ?? base?.question ?? title,
      keywords: [...(base?.keywords ?? []), ...(entry.keywords ?? [])],
      decides: decidesList(entry.decides) ?? base?.decides ?? [],
      consulted: entry.consulted ?? base?.consulted ?? [],
      informed: entry.informed ?? base?.informed ?? [],
      origin: base ? (base.origin === 'catalog' ? 'catalog+charter' : base.origin) : 'charter',
    });
  }
  return [...byId.values()];
};

/** Decides / consulted / informed for one team, after the team's own `decisions` override. */
export interface TeamRaci {
  decides: string[];
  consulted: string[];
  informed: string[];
  /** True when the team's `decisions` changes anything for this domain. */
  overridden: boolean;
}

export const teamRaci = (domain: ResolvedDomain, team: Pick<Team, 'decisions'>): TeamRaci => {
  const override = team.decisions?.[domain.id];
  return {
    decides: decidesList(override?.decides) ?? domain.decides,
    consulted: override?.consulted ?? domain.consulted,
    informed: override?.informed ?? domain.informed,
    overridden: override !== undefined,
  };
};

// ---------------------------------------------------------------------------
// Time

/** True when `timeZone` is an IANA zone this runtime knows. */
export const isValidTimeZone = (timeZone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
};

// Building an Intl.DateTimeFormat costs tens of microseconds; a recompute asks for dates a million times.
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const dateFormatOf = (timeZone: string): Intl.DateTimeFormat => {
  let format = dateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: isValidTimeZone(timeZone) ? timeZone : 'UTC',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    if (dateFormats.size < 1000) dateFormats.set(timeZone, format);
  }
  return format;
};

/** The calendar date (YYYY-MM-DD) of `now` in `timeZone` (UTC when the zone is unknown). */
export const localDate = (now: Date, timeZone: string): string => {
  const parts = dateFormatOf(timeZone).formatToParts(now);
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
};

/**
 * A delegation is in force up to and including `until`: a date means the whole
 * of that day in the workspace's time zone, a date-time means that instant.
 */
export const isDelegationInForce = (delegation: Pick<Delegation, 'until'>, now: Date, timeZone = 'UTC'): boolean => {
  const until = delegation.until;
  if (/^\d{4}-\d{2}-\d{2}$/.test(until)) return localDate(now, timeZone) <= until;
  const end = Date.parse(until);
  return Number.isNaN(end) ? false : now.getTime() <= end;
};

// ---------------------------------------------------------------------------
// Suggestions

/**
 * Edit distance between two strings: insertions, deletions, substitutions and
 * swaps of two neighbours ("nmae" → "name" is one edit, the commonest typo).
 */
export const levenshtein = (a: string, b: string): number => {
  if (a === b) return 0;
  // rows[i][j] = distance between a[0, i) and b[0, j)
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const above = rows[i - 1]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
};

/** The candidate closest to `wrong`, when it is close enough to be a likely typo. */
export const suggestClosest = (wrong: string, candidates: Iterable<string>): string | undefined => {
  const needle = wrong.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = levenshtein(needle, candidate.toLowerCase());
    if (distance < (best?.distance ?? Infinity)) best = { candidate, distance };
  }
  if (!best || best.distance === 0) return best?.candidate;
  // Allow about one typo per three characters, and always at least one.
  return best.distance <= Math.max(1, Math.round(needle.length / 3)) ? best.candidate : undefined;
};

const didYouMean = (suggestion: string | undefined): string =>
  suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;

// ---------------------------------------------------------------------------
// The checks

/** One valid entry of a charter list with its index in the file. */
export interface Indexed<T> {
  index: number;
  value: T;
}

/**
 * What the reference checks work on. For a valid charter every entry is here.
 * For a file with schema errors it holds only the entries that are valid on
 * their own, so one bad person does not hide every other problem; `declared`
 * still holds every id written in the file so that references to a malformed
 * entry are not also reported as unknown.
 */
export interface CharterParts {
  timezone: string;
  groups: Readonly<Record<string, { roles: readonly Role[] }>>;
  people: Indexed<Person>[];
  teams: Indexed<Team>[];
  domains: Indexed<DomainEntry>[];
  delegations: Indexed<Delegation>[];
  connectors?: ConnectorsMapping | undefined;
  decisionRules?: DecisionRulesSection | undefined;
  declared: { people: string[]; teams: string[]; domains: string[]; groups: string[] };
}

const indexed = <T>(list: readonly T[] | undefined): Indexed<T>[] =>
  (list ?? []).map((value, index) => ({ index, value }));

/** The parts of a charter that passed the schema as a whole. */
export const partsOfCharter = (charter: Charter): CharterParts => ({
  timezone: charter.workspace.timezone,
  groups: charter.groups ?? {},
  people: indexed(charter.people),
  teams: indexed(charter.teams),
  domains: indexed(charter.domains),
  delegations: indexed(charter.delegations),
  connectors: charter.connectors,
  decisionRules: charter.decision_rules,
  declared: {
    people: charter.people.map((p) => p.id),
    teams: charter.teams.map((t) => t.id),
    domains: (charter.domains ?? []).map((d) => d.id),
    groups: Object.keys(charter.groups ?? {}),
  },
});

const TRIO_ROLES: Record<'product' | 'design' | 'tech', readonly Role[]> = {
  product: ['product-manager'],
  design: ['designer'],
  tech: ['tech-lead', 'engineering-manager'],
};

const quoteList = (items: readonly string[]): string => items.map((i) => `"${i}"`).join(', ');

/** Reference checks of a charter that passed the schema. Returns issues by path. */
export const checkCharter = (charter: Charter, now: Date): PathIssue[] =>
  checkCharterParts(partsOfCharter(charter), now);

/** Reference checks over the valid parts of a charter (see `CharterParts`). */
export const checkCharterParts = (parts: CharterParts, now: Date): PathIssue[] => {
  const issues: PathIssue[] = [];
  const add = (
    code: CharterIssueCode,
    path: CharterPath,
    message: string,
    hint: string = CHARTER_ISSUE_CODES[code],
    extra: { at?: 'key' | 'value'; suggestion?: string } = {},
  ): void => {
    issues.push({
      code,
      path,
      message,
      hint,
      at: extra.at ?? 'value',
      ...(extra.suggestion ? { suggestion: extra.suggestion } : {}),
    });
  };

  const builtinGroups = Object.keys(BUILTIN_GROUPS);
  const groupNames = new Set([...builtinGroups, ...parts.declared.groups]);
  const personIds = new Set(parts.declared.people);
  const teamIds = new Set(parts.declared.teams);
  const domainIds = new Set([...DEFAULT_DOMAINS.map((d) => d.id), ...parts.declared.domains]);
  const personById = new Map(parts.people.map((p) => [p.value.id, p.value]));
  const groupOrPerson = [...groupNames, ...personIds];

  // Duplicate ids.
  const reportDuplicates = (kind: string, list: Indexed<{ id: string }>[], section: string): void => {
    const seen = new Map<string, number>();
    for (const { index, value } of list) {
      const first = seen.get(value.id);
      if (first === undefined) seen.set(value.id, index);
      else
        add(
          'LANES_CHARTER_DUPLICATE_ID',
          [section, index, 'id'],
          `${kind} id "${value.id}" is used twice (first at ${section}[${first}]).`,
          `rename one of them, or merge the two entries`,
        );
    }
  };
  reportDuplicates('person', parts.people, 'people');
  reportDuplicates('team', parts.teams, 'teams');
  reportDuplicates('domain', parts.domains, 'domains');
  for (const name of parts.declared.groups) {
    if (name in BUILTIN_GROUPS)
      add(
        'LANES_CHARTER_DUPLICATE_ID',
        ['groups', name],
        `group "${name}" is a built-in group and cannot be redefined.`,
        `pick another name for this group; the built-in ones are ${builtinGroups.join(', ')}`,
        { at: 'key' },
      );
  }
  for (const { index, value } of parts.people) {
    if (groupNames.has(value.id))
      add(
        'LANES_CHARTER_DUPLICATE_ID',
        ['people', index, 'id'],
        `person id "${value.id}" is also the name of a group, so "${value.id}" in decides/consulted/informed is ambiguous.`,
        `give the person another id, e.g. "${value.id}-${value.name.split(/\s+/)[0]?.toLowerCase() ?? 'person'}"`,
      );
  }

  const unknownPerson = (path: CharterPath, id: string, context: string): void => {
    const suggestion = suggestClosest(id, personIds);
    add(
      'LANES_CHARTER_UNKNOWN_PERSON',
      path,
      `${context} "${id}", who is not in people.`,
      `add "${id}" under people, or fix the spelling${didYouMean(suggestion)}`,
      { suggestion },
    );
  };

  /** Checks a decides/consulted/informed block at `base`. */
  const checkRaci = (raci: Raci, base: CharterPath, where: string): void => {
    const refs: Array<{ name: string; path: CharterPath; field: string }> = [];
    if (typeof raci.decides === 'string')
      refs.push({ name: raci.decides, path: [...base, 'decides'], field: 'decides' });
    else raci.decides?.forEach((name, i) => refs.push({ name, path: [...base, 'decides', i], field: 'decides' }));
    for (const field of ['consulted', 'informed'] as const)
      raci[field]?.forEach((name, i) => refs.push({ name, path: [...base, field, i], field }));
    for (const ref of refs) {
      if (groupNames.has(ref.name) || personIds.has(ref.name)) continue;
      const suggestion = suggestClosest(ref.name, groupOrPerson);
      add(
        'LANES_CHARTER_UNKNOWN_GROUP',
        ref.path,
        `${where} ${ref.field} "${ref.name}", which is neither a group nor a person id.`,
        suggestion
          ? `fix the spelling${didYouMean(suggestion)}, or add "${ref.name}" under groups or people`
          : `use a group (${[...groupNames].join(', ')}) or a person id`,
        { suggestion },
      );
    }
    if (Array.isArray(raci.decides) && raci.decides.length > 1)
      add(
        'LANES_CHARTER_MULTIPLE_DECIDERS',
        [...base, 'decides'],
        `${where} has ${raci.decides.length} deciders (${quoteList(raci.decides)}); exactly one group decides.`,
        `keep one decider, e.g. decides: ${raci.decides[0]}, and move ${quoteList(raci.decides.slice(1))} to consulted`,
      );
  };

  // Teams: members, trio, escalation, per-team decisions.
  for (const { index: t, value: team } of parts.teams) {
    const label = `team "${team.id}"`;
    const members = new Set<string>();
    team.members.forEach((member, m) => {
      if (members.has(member))
        add(
          'LANES_CHARTER_DUPLICATE_ID',
          ['teams', t, 'members', m],
          `${label} lists member "${member}" twice.`,
          'remove the second entry',
        );
      members.add(member);
      if (!personIds.has(member)) unknownPerson(['teams', t, 'members', m], member, `${label} lists member`);
    });

    const seatOf = new Map<string, string>();
    for (const seat of ['product', 'design', 'tech'] as const) {
      const id = team.trio[seat];
      const path = ['teams', t, 'trio', seat];
      if (id.trim() === '') {
        add('LANES_CHARTER_TRIO_INCOMPLETE', path, `${label} has no trio.${seat}.`);
        continue;
      }
      const otherSeat = seatOf.get(id);
      if (otherSeat)
        add(
          'LANES_CHARTER_TRIO_INCOMPLETE',
          path,
          `${label} has "${id}" as both trio.${otherSeat} and trio.${seat}; a trio is three people.`,
        );
      seatOf.set(id, seat);
      if (!personIds.has(id)) {
        unknownPerson(path, id, `${label} has trio.${seat}`);
        continue;
      }
      const person = personById.get(id);
      const allowed = TRIO_ROLES[seat];
      if (person && !allowed.includes(person.role))
        add(
          'LANES_CHARTER_TRIO_ROLE',
          path,
          `${label} has trio.${seat} "${id}", who is a ${person.role}; trio.${seat} must be a ${allowed.join(' or ')}.`,
          `choose a ${allowed.join(' or ')} of the team, or correct ${id}'s role`,
        );
      if (!members.has(id)) {
        const candidates = team.members.filter((m) => personById.get(m) && allowed.includes(personById.get(m)!.role));
        add(
          'LANES_CHARTER_MEMBER_UNKNOWN',
          path,
          `${label} has trio.${seat} "${id}", who is not one of its members.`,
          candidates.length > 0
            ? `add "${id}" to the team's members, or choose ${quoteList(candidates)}`
            : `add "${id}" to the team's members`,
        );
      }
    }

    if (!personIds.has(team.escalation))
      unknownPerson(['teams', t, 'escalation'], team.escalation, `${label} escalates to`);
    else {
      const person = personById.get(team.escalation);
      if (person && person.role !== 'engineering-leadership') {
        const leaders = parts.people.filter((p) => p.value.role === 'engineering-leadership').map((p) => p.value.id);
        add(
          'LANES_CHARTER_ESCALATION_ROLE',
          ['teams', t, 'escalation'],
          `${label} escalates to "${team.escalation}", who is a ${person.role}, not engineering-leadership.`,
          leaders.length > 0
            ? `escalate to ${quoteList(leaders)}, or set ${team.escalation}'s role to engineering-leadership`
            : `add a person with role engineering-leadership and name them here`,
        );
      }
    }

    for (const [domainId, raci] of Object.entries(team.decisions ?? {})) {
      if (!domainIds.has(domainId)) {
        const suggestion = suggestClosest(domainId, domainIds);
        add(
          'LANES_CHARTER_UNKNOWN_DOMAIN',
          ['teams', t, 'decisions', domainId],
          `${label} overrides decisions for "${domainId}", which is not a decision domain.`,
          `fix the spelling${didYouMean(suggestion)}, or add "${domainId}" under domains`,
          { at: 'key', suggestion },
        );
      }
      checkRaci(raci, ['teams', t, 'decisions', domainId], `${label} decisions.${domainId}`);
    }
  }

  // Workspace-wide domain entries.
  for (const { index, value } of parts.domains) checkRaci(value, ['domains', index], `domain "${value.id}"`);

  // One decider per domain per team, after all overrides.
  const merged = mergeDomains({ domains: parts.domains.map((d) => d.value) });
  const entryIndex = new Map(parts.domains.map((d) => [d.value.id, d.index]));
  for (const domain of merged) {
    const lacking: string[] = [];
    for (const { index: t, value: team } of parts.teams) {
      const raci = teamRaci(domain, team);
      if (raci.decides.length > 0) continue;
      if (team.decisions?.[domain.id]?.decides !== undefined)
        add(
          'LANES_CHARTER_NO_DECIDER',
          ['teams', t, 'decisions', domain.id, 'decides'],
          `team "${team.id}" leaves nobody deciding "${domain.id}".`,
          `name one group or person, e.g. decides: engineering`,
        );
      else lacking.push(team.id);
    }
    if (lacking.length === 0) continue;
    const index = entryIndex.get(domain.id);
    const entry = index === undefined ? undefined : parts.domains.find((d) => d.index === index)?.value;
    add(
      'LANES_CHARTER_NO_DECIDER',
      index === undefined ? [] : entry?.decides !== undefined ? ['domains', index, 'decides'] : ['domains', index],
      `domain "${domain.id}" has no decider for ${lacking.length === parts.teams.length ? 'any team' : `team(s) ${quoteList(lacking)}`}.`,
      `add decides: <group> to the domain, or to each team's decisions.${domain.id}`,
    );
  }

  // Delegations.
  for (const { index: k, value: d } of parts.delegations) {
    const label = `delegation of "${d.domain}"`;
    if (!domainIds.has(d.domain)) {
      const suggestion = suggestClosest(d.domain, domainIds);
      add(
        'LANES_CHARTER_DELEGATION_DANGLING',
        ['delegations', k, 'domain'],
        `${label} is for a domain that does not exist.`,
        `fix the domain id${didYouMean(suggestion)}, or add it under domains`,
        { suggestion },
      );
    }
    if (d.team !== undefined && !teamIds.has(d.team)) {
      const suggestion = suggestClosest(d.team, teamIds);
      add(
        'LANES_CHARTER_DELEGATION_DANGLING',
        ['delegations', k, 'team'],
        `${label} is for team "${d.team}", which is not in teams.`,
        `fix the team id${didYouMean(suggestion)}, or leave team out to delegate for every team`,
        { suggestion },
      );
    }
    for (const field of ['from', 'to'] as const) {
      const name = d[field];
      if (groupNames.has(name) || personIds.has(name)) continue;
      const suggestion = suggestClosest(name, groupOrPerson);
      add(
        'LANES_CHARTER_DELEGATION_DANGLING',
        ['delegations', k, field],
        `${label} ${field === 'from' ? 'comes from' : 'goes to'} "${name}", which is neither a group nor a person id.`,
        `fix the spelling${didYouMean(suggestion)}, or add "${name}" under people or groups`,
        { suggestion },
      );
    }
    if (!isDelegationInForce(d, now, parts.timezone))
      add(
        'LANES_CHARTER_DELEGATION_EXPIRED',
        ['delegations', k, 'until'],
        `${label} to "${d.to}" ended on ${d.until}; it is no longer in force.`,
      );
  }

  if (!isValidTimeZone(parts.timezone))
    add(
      'LANES_CHARTER_SCHEMA',
      ['workspace', 'timezone'],
      `workspace.timezone "${parts.timezone}" is not a known IANA time zone.`,
      'use a zone such as UTC, Europe/Paris or America/New_York',
    );

  // Connector mappings point at teams, components and people that exist.
  const componentsByTeam = new Map(parts.teams.map((t) => [t.value.id, t.value.components] as const));
  for (const id of parts.declared.teams) if (!componentsByTeam.has(id)) componentsByTeam.set(id, []);
  for (const problem of connectorReferenceProblems(parts.connectors, componentsByTeam, personIds)) {
    if (problem.kind === 'team') {
      const suggestion = suggestClosest(problem.value, teamIds);
      add(
        'LANES_CHARTER_UNKNOWN_TEAM',
        problem.path,
        `team "${problem.value}" is not under \`teams\`.${didYouMean(suggestion)}`,
        undefined,
        suggestion ? { suggestion } : {},
      );
    } else if (problem.kind === 'component') {
      add(
        'LANES_CHARTER_UNKNOWN_COMPONENT',
        problem.path,
        `component "${problem.value}" is not one of the team's components.`,
      );
    } else {
      const suggestion = suggestClosest(problem.value, personIds);
      add(
        'LANES_CHARTER_UNKNOWN_PERSON',
        problem.path,
        `person "${problem.value}" is not under \`people\`.${didYouMean(suggestion)}`,
        undefined,
        suggestion ? { suggestion } : {},
      );
    }
  }

  // An identity (e-mail, login, account id, alias) belongs to one person only.
  for (const { claim, first } of identityConflicts(parts.people, parts.connectors)) {
    const [kind, ...rest] = claim.key.split(':');
    add(
      'LANES_CHARTER_DUPLICATE_IDENTITY',
      claim.path,
      `${kind} identity "${rest.join(':')}" is claimed by "${claim.personId}" and by "${first.personId}" (at ${claimPlace(first)}).`,
      undefined,
      { at: claim.path[0] === 'connectors' ? 'key' : 'value' },
    );
  }

  // Decision rules name domains that exist and default rules that exist.
  if (parts.decisionRules) {
    for (const problem of decisionRuleProblems(parts.decisionRules, domainIds)) {
      const path = ['decision_rules', ...problem.path];
      if (problem.path[problem.path.length - 1] === 'domain') {
        const value = problem.message.replace(/^unknown decision domain "(.*)"$/, '$1');
        const suggestion = suggestClosest(value, domainIds);
        add(
          'LANES_CHARTER_UNKNOWN_DOMAIN',
          path,
          `${problem.message}.${didYouMean(suggestion)}`,
          undefined,
          suggestion ? { suggestion } : {},
        );
      } else if (problem.path[problem.path.length - 1] === 'id') {
        add('LANES_CHARTER_DUPLICATE_ID', path, `${problem.message}.`);
      } else {
        add('LANES_CHARTER_SCHEMA', path, `${problem.message}.`, 'turn off only default rules, by their id');
      }
    }
  }

  return issues;
};
