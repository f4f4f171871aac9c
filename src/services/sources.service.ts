import type { SourceView } from '../api/sources.contract.js';
import { countDeliveries, listCheckpoints, listDeliveryErrors, listUnmapped } from '../store/connector.repository.js';
import { listSourceStates } from '../store/event.repository.js';
import type { ServiceContext } from './context.js';

const blank = (source: string, active: boolean): SourceView => ({
  source,
  events: 0,
  duplicates: 0,
  lastEventAt: null,
  lastReceivedAt: null,
  lagSeconds: null,
  webhooks: {
    active,
    deliveries: 0,
    pending: 0,
    mapped: 0,
    unknown: 0,
    failed: 0,
    lastDeliveryAt: null,
    unknownTypes: [],
  },
  syncs: [],
  unmapped: [],
  unmappedValues: 0,
  unmappedTimes: 0,
  errors: [],
});

/**
 * Every source Lanes has heard from or is configured for: events stored and
 * deduplicated, freshness, webhook deliveries by outcome (unknown event types
 * listed), sync runs per stream, values the mapping did not know, and errors.
 */
export const listSources = async (
  ctx: ServiceContext,
  activeWebhooks: readonly string[],
  unmappedLimit = 50,
): Promise<SourceView[]> => {
  const [states, deliveries, checkpoints, unmapped, failures] = await Promise.all([
    listSourceStates(ctx.database),
    countDeliveries(ctx.database),
    listCheckpoints(ctx.database),
    listUnmapped(ctx.database),
    listDeliveryErrors(ctx.database, 20),
  ]);
  const bySource = new Map<string, SourceView>();
  const view = (source: string): SourceView => {
    let v = bySource.get(source);
    if (!v) bySource.set(source, (v = blank(source, activeWebhooks.includes(source))));
    return v;
  };
  for (const name of activeWebhooks) view(name);
  const now = ctx.clock().getTime();
  for (const s of states) {
    const v = view(s.source);
    v.events = s.eventCount;
    v.duplicates = s.duplicateCount;
    v.lastEventAt = s.lastOccurredAt;
    v.lastReceivedAt = s.lastReceivedAt;
    v.lagSeconds = s.lastOccurredAt ? Math.max(0, Math.round((now - Date.parse(s.lastOccurredAt)) / 1000)) : null;
  }
  for (const d of deliveries) {
    const w = view(d.provider).webhooks;
    w.deliveries += d.count;
    w[d.status] += d.count;
    if (!w.lastDeliveryAt || d.lastReceivedAt > w.lastDeliveryAt) w.lastDeliveryAt = d.lastReceivedAt;
    if (d.status === 'unknown' && d.eventType) w.unknownTypes.push({ eventType: d.eventType, count: d.count });
  }
  for (const c of checkpoints) {
    const v = view(c.source);
    v.syncs.push({
      scope: c.scope,
      stream: c.stream,
      lastRunStartedAt: c.runStartedAt,
      lastSyncedAt: c.completedAt,
      inProgress: c.completedAt === null,
      units: c.units,
      events: c.eventCount,
      lastError: c.lastError,
    });
    if (c.lastError) v.errors.push({ at: c.updatedAt, message: `sync ${c.scope} ${c.stream}: ${c.lastError}` });
  }
  for (const u of unmapped) {
    const v = view(u.source);
    v.unmappedValues += 1;
    v.unmappedTimes += u.count;
    if (v.unmapped.length < unmappedLimit) {
      v.unmapped.push({ category: u.category, value: u.value, count: u.count, lastSeenAt: u.lastSeenAt });
    }
  }
  for (const f of failures) {
    view(f.provider).errors.push({ at: f.at, message: `delivery ${f.deliveryId} (${f.eventType}): ${f.error}` });
  }
  return [...bySource.values()].sort((a, b) => a.source.localeCompare(b.source));
};
