import type { Charter } from './charter.schema.js';

/**
 * Lookups derived from a valid charter that ingestion needs: external identity
 * (`github:octocat`, `email:a@b.c`, …) to person id, and component to owning team.
 */
export interface CharterIndex {
  personByIdentity: ReadonlyMap<string, string>;
  teamByComponent: ReadonlyMap<string, string>;
}

export const buildCharterIndex = (charter: Charter): CharterIndex => {
  const personByIdentity = new Map<string, string>();
  for (const p of charter.people) {
    personByIdentity.set(`lanes:${p.id}`, p.id);
    if (p.email) personByIdentity.set(`email:${p.email.toLowerCase()}`, p.id);
    if (p.github) personByIdentity.set(`github:${p.github.toLowerCase()}`, p.id);
    if (p.jira) personByIdentity.set(`jira:${p.jira.toLowerCase()}`, p.id);
    if (p.linear) personByIdentity.set(`linear:${p.linear.toLowerCase()}`, p.id);
    if (p.slack) personByIdentity.set(`slack:${p.slack.toLowerCase()}`, p.id);
  }
  for (const connector of ['github', 'jira', 'linear'] as const) {
    for (const [external, person] of Object.entries(charter.connectors?.[connector]?.identities ?? {})) {
      personByIdentity.set(`${connector}:${external.toLowerCase()}`, person);
    }
  }
  const teamByComponent = new Map<string, string>();
  for (const t of charter.teams) for (const c of t.components) teamByComponent.set(c, t.id);
  return { personByIdentity, teamByComponent };
};

export const EMPTY_CHARTER_INDEX: CharterIndex = { personByIdentity: new Map(), teamByComponent: new Map() };
