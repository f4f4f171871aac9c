import { AppError } from '../domain/errors.js';
import type { LoggedEvent } from '../domain/event.js';
import type { ItemState } from '../domain/item.projection.js';
import { listItemEvents } from '../store/event.repository.js';
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

/** One page of items, newest first, with an opaque cursor for the next page. */
export const listItemPage = async (
  ctx: ServiceContext,
  filter: ItemFilter,
  limit: number,
  cursor?: string,
): Promise<ItemPageResult> => {
  const after = cursor ? decodeCursor(cursor) : undefined;
  const rows = await listItems(ctx.database, filter, limit + 1, after);
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor({ updatedAt: last.updatedAt, key: last.key }) : null,
  };
};

/** An item with its whole history in log order. */
export const getItemWithHistory = async (
  ctx: ServiceContext,
  key: string,
): Promise<{ item: ItemState; events: LoggedEvent[] }> => {
  const item = await getItem(ctx.database, key);
  if (!item) throw new AppError('LANES_NOT_FOUND', `no item with key "${key}"`, { key });
  return { item, events: await listItemEvents(ctx.database, key) };
};
