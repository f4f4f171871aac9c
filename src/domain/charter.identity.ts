import { buildBotMatcher, type BotMatcher } from './charter.bots.js';
import type { Charter, Person } from './charter.schema.js';
import type { ConnectorsMapping } from './connector.mapping.js';

/**
 * Lookups derived from a valid charter that ingestion needs: external identity
 * (`github:octocat`, `email:a@b.c`, …) to person id — a person's own ids, their
 * `aliases` and the connectors' `identities` — component to owning team, and
 * the bot test of the `bots:` section.
 */
export interface CharterIndex {
  personByIdentity: ReadonlyMap<string, string>;
  teamByComponent: ReadonlyMap<string, string>;
  /** True for bots and service accounts (see `charter.bots.ts`). */
  isBot: BotMatcher;
}

/** Identity kinds a person can be known by in the connected tools. */
export const PERSON_IDENTITY_KINDS = ['email', 'github', 'jira', 'linear', 'slack'] as const;
type PersonIdentityKind = (typeof PERSON_IDENTITY_KINDS)[number];

/** One identity a person claims, with where the charter says so. */
export interface IdentityClaim {
  /** `kind:id`, lower case. */
  key: string;
  personId: string;
  path: (string | number)[];
}

/** Every identity a person claims: their own ids, then their aliases, in file order. */
export const identitiesOfPerson = (person: Person, index: number): IdentityClaim[] => {
  const out: IdentityClaim[] = [];
  for (const kind of PERSON_IDENTITY_KINDS) {
    const own = person[kind];
    if (own) out.push({ key: `${kind}:${own.toLowerCase()}`, personId: person.id, path: ['people', index, kind] });
    person.aliases?.[kind]?.forEach((alias, i) =>
      out.push({
        key: `${kind}:${alias.toLowerCase()}`,
        personId: person.id,
        path: ['people', index, 'aliases', kind, i],
      }),
    );
  }
  return out;
};

const CONNECTOR_KINDS = ['github', 'jira', 'linear'] as const satisfies readonly PersonIdentityKind[];

/** The identities the connectors' `identities` maps give people. */
const connectorClaims = (connectors: ConnectorsMapping | undefined): IdentityClaim[] => {
  const out: IdentityClaim[] = [];
  for (const connector of CONNECTOR_KINDS) {
    for (const [external, person] of Object.entries(connectors?.[connector]?.identities ?? {})) {
      out.push({
        key: `${connector}:${external.toLowerCase()}`,
        personId: person,
        path: ['connectors', connector, 'identities', external],
      });
    }
  }
  return out;
};

export const buildCharterIndex = (charter: Charter): CharterIndex => {
  const personByIdentity = new Map<string, string>();
  charter.people.forEach((p, i) => {
    personByIdentity.set(`lanes:${p.id}`, p.id);
    for (const claim of identitiesOfPerson(p, i)) personByIdentity.set(claim.key, p.id);
  });
  for (const claim of connectorClaims(charter.connectors)) personByIdentity.set(claim.key, claim.personId);
  const teamByComponent = new Map<string, string>();
  for (const t of charter.teams) for (const c of t.components) teamByComponent.set(c, t.id);
  return { personByIdentity, teamByComponent, isBot: buildBotMatcher(charter) };
};

export const EMPTY_CHARTER_INDEX: CharterIndex = {
  personByIdentity: new Map(),
  teamByComponent: new Map(),
  isBot: buildBotMatcher({}),
};

/** An identity two people claim: `claim` is the later one, `first` where the other person claimed it. */
export interface IdentityConflict {
  claim: IdentityClaim;
  first: IdentityClaim;
}

/**
 * Identities claimed by two different people (in `people`, their `aliases` or
 * a connector's `identities`), for `lanes check`: events by such an identity
 * could be anyone's. The same person naming an identity twice is harmless.
 */
export const identityConflicts = (
  people: readonly { index: number; value: Person }[],
  connectors: ConnectorsMapping | undefined,
): IdentityConflict[] => {
  const firstClaim = new Map<string, IdentityClaim>();
  const conflicts: IdentityConflict[] = [];
  const claims = [...people.flatMap((p) => identitiesOfPerson(p.value, p.index)), ...connectorClaims(connectors)];
  for (const claim of claims) {
    const first = firstClaim.get(claim.key);
    if (!first) firstClaim.set(claim.key, claim);
    else if (first.personId !== claim.personId) conflicts.push({ claim, first });
  }
  return conflicts;
};

/** Where a claim is written, for a message: `people[2].aliases.email[0]`, `connectors.github.identities["octo"]`. */
export const claimPlace = (claim: IdentityClaim): string =>
  claim.path.reduce<string>(
    (out, part, i) =>
      typeof part === 'number'
        ? `${out}[${part}]`
        : i === claim.path.length - 1 && claim.path[0] === 'connectors'
          ? `${out}[${JSON.stringify(part)}]`
          : out === ''
            ? part
            : `${out}.${part}`,
    '',
  );
