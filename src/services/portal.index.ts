import { createHash } from 'node:crypto';
import { isVisibleToStakeholders, portalSettingsOf } from '../domain/portal.js';
import type { ItemKind } from '../domain/event.js';
import { withTransaction } from '../store/event.repository.js';
import { getMeta } from '../store/item.repository.js';
import { setMetaInTx } from '../store/boundary.repository.js';
import type { ServiceContext } from './context.js';
import { rebuildProjection } from './events.service.js';

const FINGERPRINT_KEY = 'portal.fingerprint';
const PAGE = 5000;

const fingerprintOf = (ctx: ServiceContext): string =>
  createHash('sha256')
    .update(JSON.stringify(portalSettingsOf(ctx.charter()?.charter)))
    .digest('hex')
    .slice(0, 32);

const count = async (ctx: ServiceContext, table: 'item' | 'portal_item'): Promise<number> =>
  Number(
    (
      await ctx.database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/**
 * Brings the portal index in line with the charter in force, at start and
 * after a reload: a database from before the portal (items but no portal
 * rows) is rebuilt from the log; a change of the charter's `portal` section
 * re-decides which items stakeholders may see. Returns what it did.
 */
export const ensurePortalIndex = async (ctx: ServiceContext): Promise<'rebuilt' | 'refreshed' | null> => {
  const fingerprint = fingerprintOf(ctx);
  if ((await count(ctx, 'item')) !== (await count(ctx, 'portal_item'))) {
    await rebuildProjection(ctx);
    await withTransaction(ctx.database, (tx) => setMetaInTx(tx, FINGERPRINT_KEY, fingerprint));
    return 'rebuilt';
  }
  if ((await getMeta(ctx.database, FINGERPRINT_KEY)) === fingerprint) return null;
  const settings = portalSettingsOf(ctx.charter()?.charter);
  await withTransaction(ctx.database, async (tx) => {
    let after = '';
    for (;;) {
      const rows = await tx.trx
        .selectFrom('item')
        .select(['key', 'kind', 'team', 'labels'])
        .where('key', '>', after)
        .orderBy('key')
        .limit(PAGE)
        .execute();
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.key;
      const show: string[] = [];
      const hide: string[] = [];
      for (const r of rows) {
        const labels = JSON.parse(r.labels || '[]') as string[];
        (isVisibleToStakeholders({ kind: r.kind as ItemKind, team: r.team, labels }, settings) ? show : hide).push(
          r.key,
        );
      }
      if (show.length > 0)
        await tx.trx.updateTable('portal_item').set({ visible: 1 }).where('key', 'in', show).execute();
      if (hide.length > 0)
        await tx.trx.updateTable('portal_item').set({ visible: 0 }).where('key', 'in', hide).execute();
    }
    await setMetaInTx(tx, FINGERPRINT_KEY, fingerprint);
  });
  return 'refreshed';
};
