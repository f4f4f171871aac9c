import { BUILTIN_GROUPS, ROLES, type Charter, type Person, type Role, type Team } from './charter.schema.js';
import { isDelegationInForce, mergeDomains, teamRaci, type ResolvedDomain } from './charter.validate.js';

/**
 * The decision-rights matrix: for every domain and every team, who decides, who
 * is consulted, who is informed — as group names and as the people behind them
 * — and the delegations in force. The web matrix, `lanes who-decides` and the
 * boundary monitor read this. Plain data only, so it serialises to JSON as is.
 */

export interface RightsPerson {
  id: string;
  name: string;
  role: Role;
}

/** A group (or a single person) named in decides / consulted / informed, with the people it stands for. */
export interface RightsHolder {
  /** As written in the charter: a group name or a person id. */
  name: string;
  kind: 'group' | 'person' | 'unknown';
  people: RightsPerson[];
}

export interface RightsDelegation {
  from: RightsHolder;
  to: RightsHolder;
  /** Inclusive: a date or a date-time, as written. */
  until: string;
  reason: string;
  /** False when the delegation covers every team. */
  teamSpecific: boolean;
}

export interface TeamRights {
  team: { id: string; name: string };
  /** The one decider; null only in a charter that `lanes check` rejects. */
  decider: RightsHolder | null;
  consulted: RightsHolder[];
  informed: RightsHolder[];
  /** True when the team's own `decisions` change this domain. */
  overridden: boolean;
  delegations: RightsDelegation[];
}

export interface DomainRights {
  id: string;
  title: string;
  question: string;
  origin: ResolvedDomain['origin'];
  teams: TeamRights[];
}

export interface RightsMatrix {
  /** The instant delegations were judged at (ISO-8601). */
  asOf: string;
  teams: Array<{ id: string; name: string }>;
  domains: DomainRights[];
}

const roleRank = (role: Role): number => ROLES.indexOf(role);

const toRightsPerson = (p: Person): RightsPerson => ({ id: p.id, name: p.name, role: p.role });

// Stakeholders and engineering leadership rarely sit inside a team, so groups of
// these roles are drawn from the whole charter rather than the team's members.
const CHARTER_WIDE_ROLES: ReadonlySet<Role> = new Set(['stakeholder', 'engineering-leadership']);

/** Resolves group names and person ids to people for one team. */
export const holderForTeam = (charter: Charter, team: Team, name: string): RightsHolder => {
  const byId = new Map(charter.people.map((p) => [p.id, p]));
  const members = team.members.flatMap((id) => byId.get(id) ?? []);
  const withRoles = (people: Person[], roles: readonly Role[]): Person[] =>
    people.filter((p) => roles.includes(p.role));
  const done = (kind: RightsHolder['kind'], people: Person[]): RightsHolder => {
    const unique = [...new Map(people.map((p) => [p.id, p])).values()];
    // Stable sort: by role (product manager first, stakeholders last), then as listed.
    unique.sort((a, b) => roleRank(a.role) - roleRank(b.role));
    return { name, kind, people: unique.map(toRightsPerson) };
  };

  if (name === 'trio') {
    return done(
      'group',
      [team.trio.product, team.trio.design, team.trio.tech].flatMap((id) => byId.get(id) ?? []),
    );
  }
  if (name === 'engineering-leadership') {
    const escalation = byId.get(team.escalation);
    return done('group', [
      ...(escalation ? [escalation] : []),
      ...withRoles(charter.people, ['engineering-leadership']),
    ]);
  }
  if (name === 'sre') {
    // SRE is often a shared function: the team's own SREs, or else every SRE.
    const own = withRoles(members, ['sre']);
    return done('group', own.length > 0 ? own : withRoles(charter.people, ['sre']));
  }
  const roles: readonly Role[] | undefined =
    name in BUILTIN_GROUPS ? BUILTIN_GROUPS[name as keyof typeof BUILTIN_GROUPS].roles : charter.groups?.[name]?.roles;
  if (roles) {
    const wide = roles.filter((r) => CHARTER_WIDE_ROLES.has(r));
    const local = roles.filter((r) => !CHARTER_WIDE_ROLES.has(r));
    return done('group', [...withRoles(members, local), ...withRoles(charter.people, wide)]);
  }
  const person = byId.get(name);
  return person ? done('person', [person]) : done('unknown', []);
};

/**
 * The complete decision-rights matrix of a charter at `now`: every domain of
 * the merged catalog (see `mergeDomains`), for every team, with the
 * delegations in force at `now` (expired ones are left out).
 */
export const resolveRights = (charter: Charter, now: Date): RightsMatrix => {
  const timezone = charter.workspace.timezone;
  const inForce = (charter.delegations ?? []).filter((d) => isDelegationInForce(d, now, timezone));
  return {
    asOf: now.toISOString(),
    teams: charter.teams.map((t) => ({ id: t.id, name: t.name })),
    domains: mergeDomains(charter).map((domain) => ({
      id: domain.id,
      title: domain.title,
      question: domain.question,
      origin: domain.origin,
      teams: charter.teams.map((team): TeamRights => {
        const raci = teamRaci(domain, team);
        const holder = (name: string): RightsHolder => holderForTeam(charter, team, name);
        const decider = raci.decides[0];
        return {
          team: { id: team.id, name: team.name },
          decider: decider === undefined ? null : holder(decider),
          consulted: raci.consulted.map(holder),
          informed: raci.informed.map(holder),
          overridden: raci.overridden,
          delegations: inForce
            .filter((d) => d.domain === domain.id && (d.team === undefined || d.team === team.id))
            .map((d) => ({
              from: holder(d.from),
              to: holder(d.to),
              until: d.until,
              reason: d.reason,
              teamSpecific: d.team !== undefined,
            })),
        };
      }),
    })),
  };
};
