import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STAGES } from '../domain/stage.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { recomputeBoundaries } from './boundaries.service.js';
import { loadCharterFile } from './charter.service.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { importFile } from './import.service.js';
import { listSources } from './sources.service.js';

/**
 * `lanes import` of change-history rows through the whole ingest path, on
 * both engines: the Bugzilla fixture (bug_activity rows with the bugs table
 * as the item file), held against the web team's charter.
 */

const FIXTURES = join(import.meta.dirname, '..', 'connectors', 'file', 'fixtures');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const NOW = new Date('2024-06-01T00:00:00Z');

const bugzilla = (over: { dryRun?: boolean; text?: string; mapText?: string } = {}) => ({
  text: over.text ?? fixture('bugzilla-activity.csv'),
  format: 'csv' as const,
  mapText: over.mapText ?? fixture('bugzilla.map.yaml'),
  mapFile: 'bugzilla.map.yaml',
  dryRun: over.dryRun ?? false,
  items: { text: fixture('bugzilla-bugs.csv'), format: 'csv' as const },
});

describe.each(testEngines())('lanes import of a Bugzilla history on $engine', ({ open }) => {
  let loaded: LoadedCharter;
  let database: Database;
  let ctx: ServiceContext;
  let n = 0;

  beforeAll(async () => {
    const result = await loadCharterFile(join(FIXTURES, 'bugzilla.lanes.yaml'), NOW);
    expect(result.issues).toEqual([]);
    loaded = result.loaded!;
  });
  beforeEach(async () => {
    database = await open();
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => `e${String(++n).padStart(6, '0')}`,
      charter: () => loaded,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  const items = async () =>
    Object.fromEntries(
      (await database.db.selectFrom('item').select(['key', 'state', 'resolution', 'stage', 'assignee']).execute()).map(
        (r) => [r.key, [r.state, r.resolution, r.assignee]],
      ),
    );

  it('stores each bug once, in the state and resolution Bugzilla shows', async () => {
    const dry = await importFile(ctx, bugzilla({ dryRun: true }));
    expect(dry).toMatchObject({ rows: 45, stored: 0, rejections: [] });
    expect(dry.newEvents).toBe(dry.events);
    const first = await importFile(ctx, bugzilla());
    expect(first).toMatchObject({ events: dry.events, newEvents: dry.events, stored: dry.events, duplicates: 0 });
    expect(await items()).toEqual({
      'BZ-1001': ['verified', 'FIXED', 'dev.kim@bugzilla.example'],
      'BZ-1002': ['done', 'INVALID', null],
      'BZ-1003': ['done', 'WONTFIX', null],
      'BZ-1004': ['done', 'DUPLICATE', null],
      'BZ-1005': ['done', 'FIXED', 'dev.lee@bugzilla.example'],
      'BZ-1006': ['acknowledged', null, null],
      'BZ-1007': ['done', 'INCOMPLETE', null],
      'BZ-1008': ['acknowledged', null, 'dev.kim@bugzilla.example'],
    });
    const again = await importFile(ctx, bugzilla());
    expect(again).toMatchObject({ newEvents: 0, stored: 0, duplicates: dry.events });
  });

  it('counts unmapped values and unknown people as lanes sources does, once however often the file is imported', async () => {
    const first = await importFile(ctx, bugzilla());
    // The map's two untranslated values (once per row and field), and the eight reporters the charter does not name
    // (once per event: Eve also reopened her bug, two events).
    const identity = (who: string, count = 1) => ({ category: 'identity', value: `email:${who}@users.example`, count });
    expect(first.unmapped).toEqual({
      values: 10,
      occurrences: 12,
      newOccurrences: 12,
      list: [
        identity('eve', 3),
        { category: 'field', value: 'flagtypes.name', count: 1 },
        identity('ana'),
        identity('ben'),
        identity('cleo'),
        identity('dan'),
        identity('fay'),
        identity('gus'),
        identity('hal'),
        { category: 'state', value: 'NEEDINFO', count: 1 },
      ],
    });
    const again = await importFile(ctx, bugzilla());
    expect(again.unmapped).toMatchObject({ values: 10, occurrences: 12, newOccurrences: 0 });
    const [source] = await listSources(ctx, []);
    expect(source).toMatchObject({ source: 'bugzilla', unmappedValues: 10, unmappedTimes: 12 });
    expect(source!.unmapped.map((u) => [u.category, u.value, u.count]).sort()).toEqual(
      first.unmapped.list.map((u) => [u.category, u.value, u.count]).sort(),
    );

    // Once the map translates NEEDINFO, a re-import adds the change under its own id and counts nothing again.
    const fixed = fixture('bugzilla.map.yaml').replace('CLOSED: done', 'CLOSED: done\n      NEEDINFO: waiting');
    const third = await importFile(ctx, bugzilla({ mapText: fixed }));
    expect(third).toMatchObject({ newEvents: 1, stored: 1, unmapped: { values: 9, newOccurrences: 0 } });
    expect((await items())['BZ-1008']![0]).toBe('waiting');
    expect((await listSources(ctx, []))[0]).toMatchObject({ unmappedValues: 10, unmappedTimes: 12 });
  });

  it('judges imported actors through the charter: aliases are the same person, bots are bots', async () => {
    await importFile(ctx, bugzilla());
    await recomputeBoundaries(ctx);
    const rows = await database.db
      .selectFrom('boundary_decision')
      .select(['item_key', 'domain', 'standing', 'actor_role'])
      .orderBy('item_key')
      .orderBy('occurred_at')
      .execute();
    const of = (key: string) => rows.filter((r) => r.item_key === key).map((r) => `${r.domain} ${r.standing}`);
    // Kim takes BZ-1008 under her old address: self-assignment, no decision.
    expect(of('BZ-1008').filter((d) => d.startsWith('eng.assignment'))).toEqual([]);
    // The triage bot closes BZ-1007 as a bot (closing is no decision; a bot's decisions would be reported apart).
    const closer = await database.db
      .selectFrom('event')
      .select(['actor_identity', 'actor_person_id'])
      .where('source_event_id', '=', 'BZ-1007@2024-03-28T00:00:00.000Z/bug_status')
      .executeTakeFirstOrThrow();
    expect(closer).toEqual({ actor_identity: 'bot:bugbot@bugzilla.example', actor_person_id: null });
    expect(of('BZ-1007')).toEqual([]);
    // Every decision is a charter person's: bug triage by Mo (tech lead) and the engineers, and Ola's priority of
    // the dark-mode feature request.
    expect(rows.map((r) => `${r.domain} ${r.standing} ${r.actor_role}`).sort()).toEqual([
      ...Array(2).fill('eng.bug-triage decider engineer'),
      ...Array(3).fill('eng.bug-triage decider tech-lead'),
      'trio.prioritization decider product-manager',
    ]);
    expect(rows.filter((r) => r.standing === 'unknown')).toEqual([]);
  });

  it.runIf((STAGES as readonly string[]).includes('invalid'))(
    'gives each bug the stage its closing says, never Live without a release',
    async () => {
      await importFile(ctx, bugzilla());
      const stages = Object.fromEntries(
        (await database.db.selectFrom('item').select(['key', 'stage']).execute()).map((r) => [r.key, r.stage]),
      );
      expect(stages).toEqual({
        'BZ-1001': 'verified',
        'BZ-1002': 'invalid',
        'BZ-1003': 'wont_fix',
        'BZ-1004': 'duplicate',
        'BZ-1005': 'fixed',
        'BZ-1006': 'acknowledged',
        'BZ-1007': 'incomplete',
        'BZ-1008': 'acknowledged',
      });
    },
  );
});
