import type { Role } from './charter.schema.js';
import type { ResolvedDomain } from './charter.validate.js';
import type { ItemKind, LoggedEvent } from './event.js';

/** The words of the boundary monitor's sentences: roles, kinds, fields and lists, in plain English. */

export const ROLE_WORDS: Record<Role, { one: string; many: string; article: 'a' | 'an' }> = {
  'product-manager': { one: 'product manager', many: 'product managers', article: 'a' },
  designer: { one: 'designer', many: 'designers', article: 'a' },
  'tech-lead': { one: 'tech lead', many: 'tech leads', article: 'a' },
  'engineering-manager': { one: 'engineering manager', many: 'engineering managers', article: 'an' },
  engineer: { one: 'engineer', many: 'engineers', article: 'an' },
  sre: { one: 'SRE', many: 'SREs', article: 'an' },
  'engineering-leadership': { one: 'engineering leader', many: 'engineering leaders', article: 'an' },
  stakeholder: { one: 'stakeholder', many: 'stakeholders', article: 'a' },
};

export const KIND_WORDS: Record<ItemKind, string> = {
  bug: 'bug',
  incident: 'incident',
  tech_debt: 'tech debt item',
  feature: 'feature',
  task: 'task',
};

export const KIND_ADJECTIVES: Record<ItemKind, string> = {
  bug: 'bug',
  incident: 'incident',
  tech_debt: 'tech debt',
  feature: 'feature',
  task: 'task',
};

export const capitalise = (s: string): string => (s === '' ? s : s[0]!.toUpperCase() + s.slice(1));

export const joinWords = (words: readonly string[]): string =>
  words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)!}`;

export const MAX_NAMES = 3;

export const nameList = (names: readonly string[]): string =>
  names.length > MAX_NAMES
    ? `${names.slice(0, MAX_NAMES).join(', ')} and ${names.length - MAX_NAMES} more`
    : joinWords(names);

export const FIELD_WORDS: Partial<Record<string, string>> = {
  estimate: 'estimate',
  milestone: 'milestone',
  sprint: 'sprint',
  priority: 'priority',
  severity: 'severity',
};

/** What the charter decides, as a noun: "bug priority", "assignment", "architecture (eng.architecture)". */
export const whatIsDecided = (
  event: LoggedEvent,
  item: { kind?: ItemKind | null | undefined },
  domain: ResolvedDomain,
): string => {
  const kind = item.kind ?? event.item?.kind ?? null;
  if (event.kind === 'field_changed') {
    const prefix = kind === null ? '' : `${KIND_ADJECTIVES[kind]} `;
    switch (event.field) {
      case 'priority':
      case 'severity':
        return `${prefix}${event.field}`;
      case 'milestone':
      case 'sprint':
        return `${prefix}scheduling`;
      case 'estimate':
        return 'estimation';
      case 'assignee':
        if (domain.id === 'eng.assignment') return 'assignment';
        break;
      default:
        break;
    }
  }
  return `${domain.title.toLowerCase()} (${domain.id})`;
};

export const isAre = (noun: string): string => (/[^s]s( \(|$)/.test(noun) ? 'are' : 'is');
