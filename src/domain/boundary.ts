import { buildCharterIndex, type CharterIndex } from './charter.identity.js';
import { holderForTeam, type RightsHolder, type RightsPerson } from './charter.rights.js';
import type { Charter, Delegation, Person, Role, Team } from './charter.schema.js';
import { isDelegationInForce, mergeDomains, teamRaci, type ResolvedDomain } from './charter.validate.js';
import type { Decision } from './decision.rules.js';
import { directionOf } from './boundary.direction.js';
import { reportedActing } from './boundary.reported.js';
import {
  capitalise,
  FIELD_WORDS,
  isAre,
  joinWords,
  KIND_WORDS,
  nameList,
  ROLE_WORDS,
  whatIsDecided,
} from './boundary.words.js';
import type { ItemKind, LoggedEvent } from './event.js';

/**
 * Holds one decision (see `decisionOf`) against the charter of the item's
 * team (PRODUCT.md C3): was the actor a decider, consulted, informed or
 * outside the domain? Bots are reported apart; people missing from the
 * charter are a charter gap, not a crossing. Observes only, never blocks.
 *
 * Delegations are judged at the event's time (never later than `now`), so a
 * recompute over history gives the same answer as the live evaluation did.
 */

/** The actor's standing in the decision's domain for the item's team. */
export const STANDINGS = ['decider', 'consulted', 'informed', 'outside', 'unknown', 'bot'] as const;
export type Standing = (typeof STANDINGS)[number];

/** Which way a crossing goes; `other` for everything that is not a crossing between product and engineering. */
export const DIRECTIONS = ['product_to_engineering', 'engineering_to_product', 'other'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Domains in which an active incident's commander decides on the incident's component. */
export const DEFAULT_INCIDENT_DOMAINS: readonly string[] = ['eng.bug-triage', 'eng.assignment', 'eng.incident-command'];

/** What the judgement needs of the item; `ItemState` fits. */
export interface BoundaryItem {
  key?: string | null | undefined;
  kind?: ItemKind | null | undefined;
  title?: string | null | undefined;
  team?: string | null | undefined;
  component?: string | null | undefined;
}

export interface BoundaryOptions {
  charter: Charter;
  /** The evaluation instant: delegations are judged at the event's time, but never after `now`. */
  now: Date;
  /** Component → person id of the commander of the incident active on it (at the event's time). */
  activeIncidents?: ReadonlyMap<string, string> | Readonly<Record<string, string>> | undefined;
  /**
   * Extra bot accounts: identity keys (`github:renovate`) or bare ids. GitHub
   * `[bot]` logins, `bot:` identities and the charter's connector `bots` always count.
   */
  bots?: readonly string[] | undefined;
  /** Domains where the incident commander is in lane (default `DEFAULT_INCIDENT_DOMAINS`). */
  incidentDomains?: readonly string[] | undefined;
}

/** The owners of the domain for the team, per charter. */
export interface BoundaryOwners {
  /** The deciding group or person id as written in the charter; null when the charter names none. */
  decides: string | null;
  /** The people behind `decides`. */
  people: RightsPerson[];
  /** People a delegation in force hands the decision to. */
  delegates: RightsPerson[];
  consulted: string[];
  informed: string[];
}

/** One decision held against the charter. */
export interface BoundaryJudgement {
  eventId: string;
  itemKey: string | null;
  occurredAt: string;
  domain: string;
  rule: string;
  team: { id: string; name: string };
  actor: { personId: string | null; identity: string | null; name: string | null; role: Role | null };
  standing: Standing;
  /** How a decider holds the decision; null for any other standing. */
  via: 'charter' | 'delegation' | 'incident' | null;
  owners: BoundaryOwners;
  /** Set for crossings only; `other` otherwise. */
  direction: Direction;
  /** Consulted, informed or outside: a person decided what the charter gives to others. */
  crossing: boolean;
  /** The actor is a person the charter does not know. */
  charterGap: boolean;
  /**
   * Set when the event was posted through the API from a source the charter
   * does not trust: the reporting user's e-mail. The judgement is then made on
   * that user (the `actor`), never on the actor the event names.
   */
  reportedBy?: string | null;
  /** What happened and what the charter says, for a person to read. */
  sentence: string;
}

// ---------------------------------------------------------------------------
// Charter lookups, built once per charter object

interface TeamDomainRights {
  decider: RightsHolder | null;
  consulted: RightsHolder[];
  informed: RightsHolder[];
}

interface PreparedCharter {
  charter: Charter;
  domains: ReadonlyMap<string, ResolvedDomain>;
  teams: ReadonlyMap<string, Team>;
  people: ReadonlyMap<string, Person>;
  index: CharterIndex;
  displayNames: ReadonlyMap<string, string>;
  rights: Map<string, TeamDomainRights>;
  holders: Map<string, RightsHolder>;
}

const prepared = new WeakMap<Charter, PreparedCharter>();

const firstName = (name: string): string => name.trim().split(/\s+/)[0] ?? name;

const prepare = (charter: Charter): PreparedCharter => {
  const cached = prepared.get(charter);
  if (cached) return cached;
  const firstNameCount = new Map<string, number>();
  for (const p of charter.people)
    firstNameCount.set(firstName(p.name), (firstNameCount.get(firstName(p.name)) ?? 0) + 1);
  const result: PreparedCharter = {
    charter,
    domains: new Map(mergeDomains(charter).map((d) => [d.id, d])),
    teams: new Map(charter.teams.map((t) => [t.id, t])),
    people: new Map(charter.people.map((p) => [p.id, p])),
    index: buildCharterIndex(charter),
    // First names read best ("Priya"); a first name two people share is written out in full.
    displayNames: new Map(
      charter.people.map((p) => [p.id, (firstNameCount.get(firstName(p.name)) ?? 0) > 1 ? p.name : firstName(p.name)]),
    ),
    rights: new Map(),
    holders: new Map(),
  };
  prepared.set(charter, result);
  return result;
};

const holderOf = (pc: PreparedCharter, team: Team, name: string): RightsHolder => {
  const key = `${team.id}\u0001${name}`;
  let holder = pc.holders.get(key);
  if (!holder) {
    holder = holderForTeam(pc.charter, team, name);
    pc.holders.set(key, holder);
  }
  return holder;
};

const rightsOf = (pc: PreparedCharter, team: Team, domain: ResolvedDomain): TeamDomainRights => {
  const key = `${team.id}\u0001${domain.id}`;
  let rights = pc.rights.get(key);
  if (!rights) {
    const raci = teamRaci(domain, team);
    const decider = raci.decides[0];
    rights = {
      decider: decider === undefined ? null : holderOf(pc, team, decider),
      consulted: raci.consulted.map((n) => holderOf(pc, team, n)),
      informed: raci.informed.map((n) => holderOf(pc, team, n)),
    };
    pc.rights.set(key, rights);
  }
  return rights;
};

const holds = (holder: RightsHolder | null, personId: string): boolean =>
  holder !== null && holder.people.some((p) => p.id === personId);

// ---------------------------------------------------------------------------
// Actors

/** The charter's bots (`bots:`, connectors' `bots`, `[bot]` logins, `bot:` identities) and the caller's `extra`. */
const isBot = (pc: PreparedCharter, identity: string | null, extra: readonly string[] | undefined): boolean => {
  if (identity === null) return false;
  if (pc.index.isBot(identity)) return true;
  const key = identity.toLowerCase();
  const id = key.slice(key.indexOf(':') + 1);
  return (extra ?? []).some((b) => {
    const lower = b.toLowerCase();
    return lower === key || lower === id;
  });
};

const actorPerson = (pc: PreparedCharter, event: LoggedEvent): Person | null => {
  if (event.actorPersonId !== null) {
    const p = pc.people.get(event.actorPersonId);
    if (p) return p;
  }
  if (event.actorIdentity === null) return null;
  const id = pc.index.personByIdentity.get(event.actorIdentity.toLowerCase());
  return id === undefined ? null : (pc.people.get(id) ?? null);
};

/** The charter person an assignee value names (person id, or an id in the event's source), if any. */
const personNamed = (pc: PreparedCharter, value: string, source: string): Person | null => {
  const direct = pc.people.get(value);
  if (direct) return direct;
  const v = value.toLowerCase();
  for (const kind of [source, 'jira', 'github', 'linear', 'email', 'slack']) {
    const id = pc.index.personByIdentity.get(`${kind}:${v}`);
    if (id !== undefined) return pc.people.get(id) ?? null;
  }
  return null;
};

// ---------------------------------------------------------------------------
// Words

const displayName = (pc: PreparedCharter, p: { id: string; name: string }): string =>
  pc.displayNames.get(p.id) ?? firstName(p.name);

/** "the tech lead (Sam)" for a person; "engineering (the tech lead Sam and the engineers Ana and Li)" for a group. */
const describeHolder = (pc: PreparedCharter, h: RightsHolder): string => {
  if (h.kind === 'person') {
    const p = h.people[0];
    return p ? `the ${ROLE_WORDS[p.role].one} (${displayName(pc, p)})` : h.name;
  }
  if (h.kind === 'unknown') return `${h.name} (not in the charter)`;
  if (h.people.length === 0) return `${h.name} (nobody in the charter has this role yet)`;
  const byRole = new Map<Role, string[]>();
  for (const p of h.people) byRole.set(p.role, [...(byRole.get(p.role) ?? []), displayName(pc, p)]);
  const parts = [...byRole].map(([role, names]) =>
    names.length === 1 ? `the ${ROLE_WORDS[role].one} ${names[0]!}` : `the ${ROLE_WORDS[role].many} ${nameList(names)}`,
  );
  return `${h.name} (${joinWords(parts)})`;
};

/** "product", or a person's name when the charter names a person. */
const shortHolder = (pc: PreparedCharter, h: RightsHolder): string =>
  h.kind === 'person' && h.people[0] ? displayName(pc, h.people[0]) : h.name;

const subjectOf = (item: BoundaryItem, event: LoggedEvent): string => {
  const kind = item.kind ?? event.item?.kind ?? null;
  const key = item.key ?? event.itemKey;
  const noun = kind === null ? 'item' : KIND_WORDS[kind];
  return key ? `${noun} ${key}` : noun;
};

/** What happened, up to "by": "Priority of bug PAY-231 was set". */
const whatHappened = (pc: PreparedCharter, event: LoggedEvent, item: BoundaryItem, domain: ResolvedDomain): string => {
  const subject = subjectOf(item, event);
  const dataField = event.data?.['field'];
  switch (event.kind) {
    case 'field_changed': {
      if (event.field === 'assignee') {
        if (event.to === null) return `${capitalise(subject)} was unassigned`;
        const named = personNamed(pc, event.to, event.source);
        const toName = typeof event.data?.['toName'] === 'string' ? event.data['toName'] : event.to;
        return `${capitalise(subject)} was assigned to ${named ? displayName(pc, named) : toName}`;
      }
      if (event.field === 'state') return `${capitalise(subject)} was moved to "${event.to ?? 'no state'}"`;
      const field = event.field ?? 'a field';
      const verb = event.from === null ? 'set' : event.to === null ? 'cleared' : 'changed';
      return `${capitalise(FIELD_WORDS[field] ?? field)} of ${subject} was ${verb}`;
    }
    case 'label_added':
      return `Label "${event.target ?? ''}" was added to ${subject}`;
    case 'label_removed':
      return `Label "${event.target ?? ''}" was removed from ${subject}`;
    case 'closed':
      return `${capitalise(subject)} was closed`;
    case 'reopened':
      return `${capitalise(subject)} was reopened`;
    default:
      if (typeof dataField === 'string' && dataField.trim() !== '') {
        const words = capitalise(dataField.trim().replace(/[-_]+/g, ' ').toLowerCase());
        return event.itemKey === null ? `${words} was changed` : `${words} of ${subject} was changed`;
      }
      return `A ${domain.title.toLowerCase()} decision on ${subject} was made`;
  }
};

// ---------------------------------------------------------------------------
// The judgement

const commanderOf = (incidents: BoundaryOptions['activeIncidents'], component: string): string | undefined => {
  if (incidents === undefined) return undefined;
  if (incidents instanceof Map) return incidents.get(component);
  const record = incidents as Readonly<Record<string, string>>;
  return Object.hasOwn(record, component) ? record[component] : undefined;
};

const judgedAt = (event: LoggedEvent, now: Date): Date => {
  const at = Date.parse(event.occurredAt);
  return Number.isNaN(at) || at > now.getTime() ? now : new Date(at);
};

/**
 * Holds one decision against the charter of the item's team. Returns null when
 * there is nothing to hold it against: the item's team is not in the charter,
 * or the decision's domain is unknown to it.
 */
export const holdAgainstCharter = (
  event: LoggedEvent,
  decision: Decision,
  item: BoundaryItem | null | undefined,
  options: BoundaryOptions,
): BoundaryJudgement | null => {
  const pc = prepare(options.charter);
  const it: BoundaryItem = item ?? {};
  const component = it.component ?? event.item?.component ?? null;
  const teamId =
    it.team ?? event.item?.team ?? (component === null ? undefined : pc.index.teamByComponent.get(component));
  const team = teamId ? pc.teams.get(teamId) : undefined;
  const domain = pc.domains.get(decision.domain);
  if (!team || !domain) return null;

  const rights = rightsOf(pc, team, domain);
  const at = judgedAt(event, options.now);
  const timezone = options.charter.workspace.timezone;
  const delegations: Delegation[] = (options.charter.delegations ?? []).filter(
    (d) =>
      d.domain === domain.id && (d.team === undefined || d.team === team.id) && isDelegationInForce(d, at, timezone),
  );
  const delegateHolders = delegations.map((d) => holderOf(pc, team, d.to));
  const owners: BoundaryOwners = {
    decides: rights.decider?.name ?? null,
    people: rights.decider?.people ?? [],
    delegates: [...new Map(delegateHolders.flatMap((h) => h.people).map((p) => [p.id, p])).values()],
    consulted: rights.consulted.map((h) => h.name),
    informed: rights.informed.map((h) => h.name),
  };

  // Posted through the API from a source the charter does not trust: held against the reporting user.
  const reported = reportedActing(options.charter, pc.index, event);
  const acting = reported?.event ?? event;
  const bot = reported === null && isBot(pc, event.actorIdentity, options.bots);
  const person = bot ? null : actorPerson(pc, acting);
  let standing: Standing;
  let via: BoundaryJudgement['via'] = null;
  let delegation: Delegation | undefined;
  if (bot) standing = 'bot';
  else if (!person) standing = 'unknown';
  else if (holds(rights.decider, person.id)) {
    standing = 'decider';
    via = 'charter';
  } else if ((delegation = delegations.find((_, i) => holds(delegateHolders[i]!, person.id)))) {
    standing = 'decider';
    via = 'delegation';
  } else if (
    component !== null &&
    commanderOf(options.activeIncidents, component) === person.id &&
    (options.incidentDomains ?? DEFAULT_INCIDENT_DOMAINS).includes(domain.id)
  ) {
    standing = 'decider';
    via = 'incident';
  } else if (rights.consulted.some((h) => holds(h, person.id))) standing = 'consulted';
  else if (rights.informed.some((h) => holds(h, person.id))) standing = 'informed';
  else standing = 'outside';

  const crossing = standing === 'consulted' || standing === 'informed' || standing === 'outside';
  const direction = crossing && person ? directionOf(person.role, domain.id) : 'other';
  const sentence = sentenceOf(pc, {
    event,
    item: it,
    domain,
    team,
    rights,
    delegations,
    delegateHolders,
    delegation,
    component,
    standing,
    via,
    person,
    reportedBy: reported?.by ?? null,
  });

  return {
    eventId: event.id,
    itemKey: it.key ?? event.itemKey,
    occurredAt: event.occurredAt,
    domain: domain.id,
    rule: decision.rule,
    team: { id: team.id, name: team.name },
    actor: {
      personId: person?.id ?? null,
      identity: acting.actorIdentity,
      name: person?.name ?? null,
      role: person?.role ?? null,
    },
    standing,
    via,
    owners,
    direction,
    crossing,
    charterGap: standing === 'unknown',
    reportedBy: reported?.by ?? null,
    sentence,
  };
};

interface Wording {
  event: LoggedEvent;
  item: BoundaryItem;
  domain: ResolvedDomain;
  team: Team;
  rights: TeamDomainRights;
  delegations: readonly Delegation[];
  delegateHolders: readonly RightsHolder[];
  delegation: Delegation | undefined;
  component: string | null;
  standing: Standing;
  via: BoundaryJudgement['via'];
  /** The person held against the charter: the actor, or for a reported event the reporting user. */
  person: Person | null;
  /** The reporting user's e-mail, when the judgement is made on them rather than on the actor the event names. */
  reportedBy: string | null;
}

/** Who the event names as its actor, for a reported event's sentence: a charter person's name, else the identity. */
const namedActor = (pc: PreparedCharter, event: LoggedEvent): string => {
  if (event.actorIdentity === null) return 'no actor';
  const named = isBot(pc, event.actorIdentity, undefined) ? null : actorPerson(pc, event);
  return named ? displayName(pc, named) : event.actorIdentity;
};

/** The judgement in words: what happened, by whom (or reported by whom), and what the charter says. */
const sentenceOf = (pc: PreparedCharter, w: Wording): string => {
  const { event, team, rights, standing, via, person, delegation } = w;
  const happened = whatHappened(pc, event, w.item, w.domain);
  const decided = whatIsDecided(event, w.item, w.domain);
  const by = (who: string): string =>
    w.reportedBy === null ? ` by ${who}` : `, reported by ${who} (names ${namedActor(pc, event)})`;
  if (standing === 'bot') {
    const id = event.actorIdentity === null ? 'bot' : event.actorIdentity.slice(event.actorIdentity.indexOf(':') + 1);
    return `${happened} by a bot (${id}); bots are reported apart, not held against the charter.`;
  }
  if (!person) {
    const who = w.reportedBy ?? event.actorIdentity ?? 'an actor the source did not name';
    return `${happened}${by(who)}, who is not in the charter: a charter gap, not a crossing.`;
  }
  const actor = `${ROLE_WORDS[person.role].article} ${ROLE_WORDS[person.role].one} (${displayName(pc, person)})`;
  if (via === 'charter') return `${happened}${by(actor)}, who decides ${decided} in the ${team.name} charter.`;
  if (via === 'delegation' && delegation) {
    return `${happened}${by(actor)}, who decides ${decided} in the ${team.name} charter by delegation until ${delegation.until} (${delegation.reason.replace(/\.$/, '')}).`;
  }
  if (via === 'incident') {
    return `${happened}${by(actor)}, the commander of the active incident on ${w.component ?? 'this component'}, who decides triage during the incident.`;
  }
  const owner = rights.decider ? describeHolder(pc, rights.decider) : 'nobody (the charter names no decider)';
  const delegated =
    w.delegations.length > 0
      ? `; until ${w.delegations[0]!.until} it is delegated to ${joinWords(w.delegateHolders.map((h) => shortHolder(pc, h)))}`
      : '';
  const consultedNames = rights.consulted.map((h) => shortHolder(pc, h));
  const consulted =
    consultedNames.length > 0
      ? `; ${joinWords(consultedNames)} ${consultedNames.length > 1 ? 'are' : 'is'} consulted`
      : '';
  return `${happened}${by(actor)}. In the ${team.name} charter, ${decided} ${isAre(decided)} decided by ${owner}${delegated}${consulted}.`;
};

/** The charter person who acted in an event (by the person id resolved at ingest, else by identity); null for bots and strangers. */
export const charterActorOf = (charter: Charter, event: LoggedEvent): Person | null => {
  const pc = prepare(charter);
  return isBot(pc, event.actorIdentity, undefined) ? null : actorPerson(pc, event);
};

/** The event with the actor the monitor holds it against: the reporting user for an untrusted API-posted event. */
export const actingEventOf = (charter: Charter, event: LoggedEvent): LoggedEvent =>
  reportedActing(charter, prepare(charter).index, event)?.event ?? event;

/** True for bot accounts: GitHub `[bot]` logins, `bot:` identities, the charter's `bots:` and connector `bots`. */
export const isBotIdentity = (charter: Charter, identity: string | null): boolean =>
  isBot(prepare(charter), identity, undefined);

/** The charter person an assignee value names: a person id, or an identity in the event's source. */
export const charterPersonNamed = (charter: Charter, value: string, source: string): Person | null =>
  personNamed(prepare(charter), value, source);
