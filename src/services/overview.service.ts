import type { Audience } from '../domain/audience.js';
import type { LoggedEvent } from '../domain/event.js';
import { CLOSED_STAGES, type Stage } from '../domain/stage.js';
import { countVisiblePortalItems } from '../store/portal.repository.js';
import { rowToEvent } from '../store/event.mapper.js';
import { listSourceStates, type SourceState } from '../store/event.repository.js';
import { countItemsByTeamKindStage } from '../store/item.repository.js';
import type { ServiceContext } from './context.js';

export interface Overview {
  workspace: { id: string; name: string } | null;
  totals: { items: number; events: number };
  teams: Array<{ id: string; name: string; components: string[]; members: number; open: number; total: number }>;
  byKindStage: Array<{ kind: string; stage: string; count: number }>;
  recent: Array<{ event: LoggedEvent; itemKey: string | null; itemTitle: string | null }>;
  freshness: SourceState[];
}

/**
 * The workspace at a glance: teams, items by kind and stage, recent activity,
 * data freshness. Stakeholders get counts of the items the portal shows them and
 * no event stream or source details, which are the team's own.
 */
export const getOverview = async (ctx: ServiceContext, audience: Audience = 'internal'): Promise<Overview> => {
  const internal = audience === 'internal';
  const [counts, freshness, recentRows] = await Promise.all([
    internal ? countItemsByTeamKindStage(ctx.database) : countVisiblePortalItems(ctx.database),
    listSourceStates(ctx.database),
    internal
      ? ctx.database.db
          .selectFrom('event')
          .leftJoin('item', 'item.key', 'event.item_key')
          .selectAll('event')
          .select('item.title as item_title')
          .orderBy('event.occurred_at', 'desc')
          .limit(15)
          .execute()
      : Promise.resolve([]),
  ]);
  const charter = ctx.charter()?.charter;
  const byKindStage = new Map<string, { kind: string; stage: string; count: number }>();
  const byTeam = new Map<string, { open: number; total: number }>();
  let items = 0;
  for (const c of counts) {
    items += c.count;
    const k = `${c.kind}\u0001${c.stage}`;
    const entry = byKindStage.get(k) ?? { kind: c.kind, stage: c.stage, count: 0 };
    entry.count += c.count;
    byKindStage.set(k, entry);
    const team = byTeam.get(c.team ?? '') ?? { open: 0, total: 0 };
    team.total += c.count;
    if (!CLOSED_STAGES.has(c.stage as Stage)) team.open += c.count;
    byTeam.set(c.team ?? '', team);
  }
  return {
    workspace: charter ? { id: charter.workspace.id, name: charter.workspace.name } : null,
    totals: { items, events: freshness.reduce((sum, s) => sum + s.eventCount, 0) },
    teams: (charter?.teams ?? []).map((t) => ({
      id: t.id,
      name: t.name,
      components: t.components,
      members: t.members.length,
      ...(byTeam.get(t.id) ?? { open: 0, total: 0 }),
    })),
    byKindStage: [...byKindStage.values()].sort(
      (a, b) => a.kind.localeCompare(b.kind) || a.stage.localeCompare(b.stage),
    ),
    recent: recentRows.map((r) => {
      const { item_title, ...row } = r;
      return { event: rowToEvent(row), itemKey: row.item_key, itemTitle: item_title };
    }),
    freshness: internal ? freshness : [],
  };
};
