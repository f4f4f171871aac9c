import { createHash } from 'node:crypto';
import { isVisibleToStakeholders, portalSettingsOf } from '../domain/portal.js';
import { stagePolicyOf, stageRulesFingerprint } from '../domain/stage.js';
import type { ItemKind } from '../domain/event.js';
import { withTransaction } from '../store/event.repository.js';
import { getMeta } from '../store/item.repository.js';
import { setMetaInTx } from '../store/boundary.repository.js';
import type { ServiceContext } from './context.js';
import { rebuildProjection, STAGE_FINGERPRINT_KEY } from './events.service.js';

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

/** Ids of stage changes not fanned out yet. */
const pendingChanges = async (ctx: ServiceContext): Promise<string[]> =>
  (await ctx.database.db.selectFrom('item_stage_change').select('id').where('fanned_out_at', 'is', null).execute()).map(
    (r) => r.id,
  );

/**
 * Rebuilds the projection and the portal from the log. Stage changes found
 * only because old history was derived again (new stage rules, another
 * `released_on_close`) are not news: they are marked notified, so followers
 * are not sent years of history; changes that were waiting stay waiting.
 */
const rebuildQuietly = async (ctx: ServiceContext, fingerprint: string): Promise<void> => {
  const waiting = await pendingChanges(ctx);
  await rebuildProjection(ctx);
  await withTransaction(ctx.database, async (tx) => {
    await setMetaInTx(tx, FINGERPRINT_KEY, fingerprint);
    const at = ctx.clock().toISOString();
    await tx.trx
      .updateTable('item_stage_change')
      .set({ fanned_out_at: at })
      .where('fanned_out_at', 'is', null)
      .execute();
    for (let i = 0; i < waiting.length; i += 500) {
      const ids = waiting.slice(i, i + 500);
      await tx.trx.updateTable('item_stage_change').set({ fanned_out_at: null }).where('id', 'in', ids).execute();
    }
  });
};

/**
 * Brings the portal index in line with the charter in force, at start and
 * after a reload: a database from before the portal (items but no portal
 * rows), or whose stages were derived under other stage rules or another
 * `released_on_close`, is rebuilt from the log; a change of the charter's
 * `portal` section re-decides which items stakeholders may see. Returns what
 * it did.
 */
export const ensurePortalIndex = async (ctx: ServiceContext): Promise<'rebuilt' | 'refreshed' | null> => {
  const fingerprint = fingerprintOf(ctx);
  const stages = stageRulesFingerprint(stagePolicyOf(ctx.charter()?.charter));
  const items = await count(ctx, 'item');
  const storedStages = await getMeta(ctx.database, STAGE_FINGERPRINT_KEY);
  if (items !== (await count(ctx, 'portal_item')) || (items > 0 && storedStages !== stages)) {
    await rebuildQuietly(ctx, fingerprint);
    return 'rebuilt';
  }
  if (storedStages !== stages)
    await withTransaction(ctx.database, (tx) => setMetaInTx(tx, STAGE_FINGERPRINT_KEY, stages));
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
