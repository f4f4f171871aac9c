import { itemForStakeholders, summaryForStakeholders, type Audience } from '../domain/audience.js';
import { AppError } from '../domain/errors.js';
import { portalSettingsOf, showsField } from '../domain/portal.js';
import type { LoggedEvent } from '../domain/event.js';
import type { ItemState } from '../domain/item.projection.js';
import { listItemEvents } from '../store/event.repository.js';
import { getPortalRow } from '../store/portal.repository.js';
import { getItem, listItems, type ItemCursor, type ItemFilter, type ItemSummary } from '../store/item.repository.js';
import type { ServiceContext } from './context.js';

export interface ItemPageResult {
  items: ItemSummary[];
  nextCursor: string | null;
}

const encodeCursor = (c: ItemCursor): string => Buffer.from(JSON.stringify([c.updatedAt, c.key])).toString('base64url');

const decodeCursor = (text: string): ItemCursor => {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) {
      return { updatedAt: value[0] as string, key: value[1] as string };
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError('LANES_CURSOR_INVALID', 'the cursor is not one this server issued; start again without it');
};

/**
 * Filters stakeholders may use: only on fields the portal shows them, so that a
 * filter cannot reveal what a field holds.
 */
const checkStakeholderFilter = (ctx: ServiceContext, filter: ItemFilter): void => {
  const settings = portalSettingsOf(ctx.charter()?.charter);
  const refused: string[] = [];
  if (filter.assignee !== undefined) refused.push('assignee');
  for (const field of ['team', 'component', 'severity'] as const) {
    if (filter[field] !== undefined && !showsField(settings, field)) refused.push(field);
  }
  if (filter.q && !showsField(settings, 'title')) refused.push('q');
  if (refused.length > 0) {
    throw new AppError(
      'LANES_FORBIDDEN',
      `filtering by ${refused.join(', ')} is for members; the status portal searches what is shared with you`,
      { fields: refused },
    );
  }
};

/**
 * One page of items, newest first, with an opaque cursor for the next page.
 * Stakeholders get only items the portal shows them, with the portal's fields.
 */
export const listItemPage = async (
  ctx: ServiceContext,
  filter: ItemFilter,
  limit: number,
  cursor?: string,
  audience: Audience = 'internal',
): Promise<ItemPageResult> => {
  if (audience !== 'internal') checkStakeholderFilter(ctx, filter);
  const after = cursor ? decodeCursor(cursor) : undefined;
  const scoped = audience === 'internal' ? filter : { ...filter, stakeholderVisible: true };
  const rows = await listItems(ctx.database, scoped, limit + 1, after);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const settings = portalSettingsOf(ctx.charter()?.charter);
  return {
    items: audience === 'internal' ? page : page.map((i) => summaryForStakeholders(i, settings)),
    nextCursor: rows.length > limit && last ? encodeCursor({ updatedAt: last.updatedAt, key: last.key }) : null,
  };
};

/**
 * An item with its whole history in log order. Stakeholders get the item only
 * when the portal shows it to them (otherwise the same 404 as a missing key),
 * with the portal's fields and without the history, which holds the team's
 * internal discussion; their view of the history is the portal's stage history.
 */
export const getItemWithHistory = async (
  ctx: ServiceContext,
  key: string,
  audience: Audience = 'internal',
): Promise<{ item: ItemState; events: LoggedEvent[] }> => {
  const notFound = () => new AppError('LANES_NOT_FOUND', `no item with key "${key}"`, { key });
  if (audience !== 'internal') {
    const row = await getPortalRow(ctx.database, key);
    const item = row?.visible ? await getItem(ctx.database, key) : undefined;
    if (!item) throw notFound();
    return { item: itemForStakeholders(item, portalSettingsOf(ctx.charter()?.charter)), events: [] };
  }
  const item = await getItem(ctx.database, key);
  if (!item) throw notFound();
  return { item, events: await listItemEvents(ctx.database, key) };
};
