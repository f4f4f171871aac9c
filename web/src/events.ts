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
  milestone: 'the milestone',
  sprint: 'the sprint',
  estimate: 'the estimate',
};

/** What an `activity` event's action means, for the common ones (GitHub `event.action`). */
const ACTIVITY: Record<string, string> = {
  'issues.edited': 'edited the description',
  'issues.locked': 'locked the conversation',
  'issues.unlocked': 'unlocked the conversation',
  'issues.pinned': 'pinned the item',
  'issues.unpinned': 'unpinned the item',
  'issue_comment.edited': 'edited a comment',
  'issue_comment.deleted': 'deleted a comment',
  'pull_request.synchronize': 'pushed new commits',
  'pull_request.converted_to_draft': 'turned the pull request back into a draft',
  'pull_request.review_requested': 'asked for a review',
  'pull_request.review_request_removed': 'withdrew a review request',
  'pull_request.locked': 'locked the conversation',
  'pull_request.unlocked': 'unlocked the conversation',
  'pull_request_review.dismissed': 'dismissed a review',
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
    case 'slo_alert': {
      const slo = typeof event.data?.['slo'] === 'string' ? ` on the SLO ${quoted(event.data['slo'])}` : '';
      const rule = typeof event.data?.['rule'] === 'string' ? ` (${event.data['rule']})` : '';
      return event.data?.['state'] === 'resolved'
        ? `resolved a burn-rate alert${slo}${rule}`
        : `fired a burn-rate alert${slo}${rule}`;
    }
    case 'label_added':
      return event.target ? `added the label ${quoted(event.target)}` : 'added a label';
    case 'label_removed':
      return event.target ? `removed the label ${quoted(event.target)}` : 'removed a label';
    case 'ci_run':
      return `ran CI${target}`;
    case 'definition_changed':
      return 'changed a label or milestone definition';
    case 'activity': {
      const action = typeof event.data?.['action'] === 'string' ? event.data['action'] : '';
      return ACTIVITY[action] ?? 'worked on the item';
    }
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
