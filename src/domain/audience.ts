import type { UserRole } from './access.js';
import type { Charter, PortalSettings } from './charter.schema.js';
import type { ItemState } from './item.projection.js';
import { showsField } from './portal.js';

/**
 * Who is looking, for what a surface may show (issue 13): `internal` (members
 * and admins) sees everything; `stakeholder` sees what the charter's `portal:`
 * rules let stakeholders see; `public` is anonymous and sees only what a
 * share link or a public page names. Every route derives its audience from the
 * caller with `audienceOf`, and every item it returns passes through the
 * functions below — the one place where those rules are applied outside the
 * portal index (whose `visible` flag is computed by `isVisibleToStakeholders`).
 */
export type Audience = 'internal' | 'stakeholder' | 'public';

/** The audience of a caller: no role is anonymous. */
export const audienceOf = (role: UserRole | undefined): Audience =>
  role === undefined ? 'public' : role === 'stakeholder' ? 'stakeholder' : 'internal';

/**
 * An item as stakeholders may see it: the key, kind, stage and dates always;
 * title, severity, team, component and customer as the portal settings allow;
 * nothing of the triage (priority, assignee, reporter, labels, tracker state,
 * resolution) and no counts of internal discussion. The caller has already
 * checked that the item is visible at all.
 */
export const itemForStakeholders = (item: ItemState, settings: PortalSettings): ItemState => ({
  ...item,
  title: showsField(settings, 'title') ? item.title : item.key,
  team: showsField(settings, 'team') ? item.team : null,
  component: showsField(settings, 'component') ? item.component : null,
  severity: showsField(settings, 'severity') ? item.severity : null,
  customer: showsField(settings, 'customer') ? item.customer : null,
  priority: null,
  assignee: null,
  reporter: null,
  resolution: null,
  state: '',
  labels: [],
  commentCount: 0,
  eventCount: 0,
  reopenCount: 0,
});

/** What an item summary exposes: a subset of `ItemState`. */
export type AudienceSummary = Pick<
  ItemState,
  'key' | 'title' | 'team' | 'component' | 'severity' | 'priority' | 'assignee' | 'state'
>;

/** An item summary as stakeholders may see it (same rules as `itemForStakeholders`). */
export const summaryForStakeholders = <S extends AudienceSummary>(summary: S, settings: PortalSettings): S => ({
  ...summary,
  title: showsField(settings, 'title') ? summary.title : summary.key,
  team: showsField(settings, 'team') ? summary.team : null,
  component: showsField(settings, 'component') ? summary.component : null,
  severity: showsField(settings, 'severity') ? summary.severity : null,
  priority: null,
  assignee: null,
  state: '',
});

/**
 * The charter as stakeholders may read it: who decides what (people by name and
 * role), teams and their components, delegations and response targets. People's
 * e-mail addresses and tool identities, connector settings, decision rules,
 * quality settings, SLOs and the portal's own rules are for members.
 */
export const charterForStakeholders = (charter: Charter): Record<string, unknown> => ({
  version: charter.version,
  workspace: charter.workspace,
  ...(charter.groups ? { groups: charter.groups } : {}),
  people: charter.people.map((p) => ({ id: p.id, name: p.name, role: p.role })),
  teams: charter.teams.map(({ nudges: _nudges, ...team }) => team),
  ...(charter.domains ? { domains: charter.domains } : {}),
  ...(charter.delegations ? { delegations: charter.delegations } : {}),
  ...(charter.response_targets ? { response_targets: charter.response_targets } : {}),
});
