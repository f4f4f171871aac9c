import type { EventDto } from './api';

/** Plain-language sentences for events in the log, as shown in activity lists and item histories. */

const FIELD_LABELS: Record<string, string> = {
  title: 'the title',
  kind: 'the kind',
  team: 'the team',
  component: 'the component',
  severity: 'the severity',
  priority: 'the priority',
  assignee: 'the assignee',
  state: 'the state',
  resolution: 'the resolution',
  customer: 'the customer',
};

const quoted = (value: string): string => `“${value.length > 80 ? `${value.slice(0, 79)}…` : value}”`;

/** Who did it: the charter person's name when known, else the external identity, else the source. */
export const actorName = (event: EventDto, personName: (id: string) => string | null = (id) => id): string => {
  const { personId, identity } = event.actor;
  if (personId) return personName(personId) ?? personId;
  if (identity) return identity.replace(/^[a-z]+:/, '');
  return event.source;
};

export const describeEvent = (event: EventDto): string => {
  const target = event.target ? ` ${event.target}` : '';
  switch (event.kind) {
    case 'created':
      return 'created the item';
    case 'field_changed': {
      const field = event.field ? (FIELD_LABELS[event.field] ?? event.field) : 'a field';
      if (event.from === null && event.to !== null) return `set ${field} to ${quoted(event.to)}`;
      if (event.to === null) return `cleared ${field}${event.from ? ` (was ${quoted(event.from)})` : ''}`;
      return `changed ${field} from ${quoted(event.from ?? '')} to ${quoted(event.to)}`;
    }
    case 'commented':
      return 'commented';
    case 'linked':
      return `linked${target || ' another item'}`;
    case 'reopened':
      return 'reopened the item';
    case 'closed':
      return event.to ? `closed the item as ${quoted(event.to)}` : 'closed the item';
    case 'pr_opened':
      return `opened a pull request${target}`;
    case 'review_submitted':
      return `reviewed${target || ' the pull request'}${event.to ? ` (${event.to.replace(/_/g, ' ')})` : ''}`;
    case 'pr_merged':
      return `merged${target || ' the pull request'}`;
    case 'deployed':
      return `deployed${target}`;
    case 'verified':
      return 'verified the fix';
    case 'incident_declared':
      return 'declared an incident';
    case 'incident_resolved':
      return 'resolved the incident';
    case 'sli_sample':
      return `reported an SLI sample${target}`;
    case 'coverage_report':
      return `reported test coverage${target}`;
    default:
      return String(event.kind).replace(/_/g, ' ');
  }
};

/** Only web links may become anchors: a tracker URL such as `javascript:…` stays text. */
export const safeHttpUrl = (url: string | null): string | null => {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : null;
  } catch {
    return null;
  }
};
