import {
  DEFAULT_SENSITIVE_LABELS,
  PORTAL_FIELDS,
  portalSettingsSchema,
  type Charter,
  type PortalField,
  type PortalSettings,
} from './charter.schema.js';
import type { ItemKind } from './event.js';
import type { Stage } from './stage.js';

/**
 * The audience rules of the self-serve portal (PRODUCT.md C4) and the
 * matching of saved searches. Pure: the service and the notifier both use it.
 */

/** The portal's settings with defaults, for a charter that may have none. */
export const portalSettingsOf = (charter: Charter | undefined): PortalSettings =>
  charter?.portal ?? portalSettingsSchema.parse({});

/** Lower case, no diacritics, `_` and spaces as `-`: how labels and words are compared. */
export const foldText = (text: string): string =>
  text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();

const labelForm = (label: string): string =>
  foldText(label)
    .trim()
    .replace(/[\s_]+/g, '-');

/** True when the item carries a label that marks it security-sensitive. */
export const isSensitive = (labels: readonly string[], settings: PortalSettings): boolean => {
  if (labels.length === 0) return false;
  const wanted = new Set((settings.sensitive_labels ?? DEFAULT_SENSITIVE_LABELS).map(labelForm));
  return labels.some((l) => {
    const form = labelForm(l);
    // `security`, `type: security` and `kind/security` all count.
    return wanted.has(form) || wanted.has(form.replace(/^.*[:/]-?/, ''));
  });
};

/** What the audience rules need of an item; `ItemState` fits. */
export interface AudienceItem {
  kind: ItemKind;
  team: string | null;
  labels: readonly string[];
}

/** May stakeholders see this item at all? Never when it is security-sensitive. */
export const isVisibleToStakeholders = (item: AudienceItem, settings: PortalSettings): boolean =>
  settings.visible_kinds.includes(item.kind) &&
  (item.team === null || !settings.hidden_teams.includes(item.team)) &&
  !isSensitive(item.labels, settings);

/** Whether a field is shown to stakeholders. */
export const showsField = (settings: PortalSettings, field: PortalField): boolean =>
  settings.visible_fields.includes(field);

export const ALL_PORTAL_FIELDS: readonly PortalField[] = PORTAL_FIELDS;

/** One row of the portal index (what search and the notifier look at). */
export interface PortalRow {
  key: string;
  kind: ItemKind;
  title: string;
  team: string | null;
  component: string | null;
  customer: string | null;
  reporter: string | null;
  stage: Stage;
  url: string | null;
  visible: boolean;
  updatedAt: string;
}

/** The filters of a saved search (the portal search without paging). */
export interface SearchFilters {
  q?: string | undefined;
  reporter?: string | undefined;
  customer?: string | undefined;
  team?: string | undefined;
  component?: string | undefined;
  stage?: Stage | undefined;
}

/** The words of a query, folded; punctuation splits words (as the full-text indexes do). */
export const queryWords = (q: string): string[] =>
  foldText(q)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0)
    .slice(0, 20);

/**
 * Does a visible item match a saved search? The same rules as the portal
 * search: every word of `q` starts a word of the key, title, component or
 * customer; the other filters are equalities (customer and reporter ignoring
 * case). A pasted link or key matches the item it names.
 */
export const itemMatchesSearch = (row: PortalRow, search: SearchFilters): boolean => {
  if (!row.visible) return false;
  if (search.team !== undefined && row.team !== search.team) return false;
  if (search.component !== undefined && row.component !== search.component) return false;
  if (search.stage !== undefined && row.stage !== search.stage) return false;
  if (search.customer !== undefined && foldText(row.customer ?? '') !== foldText(search.customer)) return false;
  if (search.reporter !== undefined && foldText(row.reporter ?? '') !== foldText(search.reporter)) return false;
  const q = search.q?.trim();
  if (q) {
    const named = keyOfReference(q);
    if (named !== null) return named.toLowerCase() === row.key.toLowerCase() || (row.url !== null && row.url === q);
    const haystack = new Set(queryWords([row.key, row.title, row.component ?? '', row.customer ?? ''].join(' ')));
    const words = [...haystack];
    for (const word of queryWords(q)) if (!words.some((w) => w.startsWith(word))) return false;
  }
  return true;
};

const JIRA_KEY = /^[A-Z][A-Z0-9_]{0,30}-\d{1,9}$/;
const GITHUB_REF = /^[A-Za-z0-9][\w.-]{0,99}\/[\w.-]{1,100}#\d{1,9}$/;

/**
 * The item key a query names directly, or null: a Jira or Linear key
 * (`PAY-231`), a GitHub reference (`acme/web#12`), or a pasted link to one
 * (Jira `/browse/KEY`, GitHub `/issues/N` or `/pull/N`, Linear `/issue/KEY-1/…`,
 * Lanes' own `/items/KEY`). A Slack permalink names no key; the service looks
 * it up among the events that came from Slack.
 */
export const keyOfReference = (query: string): string | null => {
  const q = query.trim();
  if (JIRA_KEY.test(q.toUpperCase()) && !q.includes(' ')) return q.toUpperCase();
  if (GITHUB_REF.test(q)) return q;
  let url: URL;
  try {
    url = new URL(q);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const browse = parts.indexOf('browse');
  if (browse >= 0 && parts[browse + 1] && JIRA_KEY.test(parts[browse + 1]!.toUpperCase()))
    return parts[browse + 1]!.toUpperCase();
  const selected = url.searchParams.get('selectedIssue');
  if (selected && JIRA_KEY.test(selected.toUpperCase())) return selected.toUpperCase();
  const issue = parts.indexOf('issue');
  if (issue >= 0 && parts[issue + 1] && JIRA_KEY.test(parts[issue + 1]!.toUpperCase()))
    return parts[issue + 1]!.toUpperCase();
  if (parts.length >= 4 && (parts[2] === 'issues' || parts[2] === 'pull') && /^\d{1,9}$/.test(parts[3]!))
    return `${parts[0]}/${parts[1]}#${parts[3]}`;
  const items = parts.indexOf('items');
  if (items >= 0 && parts[items + 1]) return parts[items + 1]!;
  return null;
};
