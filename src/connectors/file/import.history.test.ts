import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppError } from '../../domain/errors.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import { parseImportMap, type ImportMapIssue } from './import.map.js';
import { mapImportFile, type ImportItemsFile } from './import.mapper.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const bugzillaMap = () => parseImportMap(fixture('bugzilla.map.yaml'), 'bugzilla.map.yaml');
const ACTIVITY = fixture('bugzilla-activity.csv');
const BUGS = fixture('bugzilla-bugs.csv');

const run = (activity: string, bugs: string | null = BUGS, map = bugzillaMap()) => {
  const unmapped: string[] = [];
  const items: ImportItemsFile | undefined = bugs === null ? undefined : { text: bugs, format: 'csv' };
  const result = mapImportFile(activity, 'csv', map, {
    unmapped: (c, v) => unmapped.push(`${c}:${v}`),
    ...(items ? { items } : {}),
  });
  return { ...result, unmappedSeen: unmapped };
};

const ofItem = (events: readonly EventInput[], key: string) => events.filter((e) => e.item?.key === key);

/** What the item's timeline shows: time, actor, change, field or label, from, to. */
const timeline = (events: readonly EventInput[], key: string) =>
  ofItem(events, key).map((e) =>
    [
      e.occurredAt.slice(5, 16),
      e.actor ? `${e.actor.kind}:${e.actor.id.split('@')[0]}` : null,
      e.change.kind,
      e.change.field ?? e.change.target ?? null,
      e.change.from,
      e.change.to,
    ].filter((v) => v !== undefined),
  );

/** The value of each field an item ends with, folding its events in order. */
const finalValues = (events: readonly EventInput[], key: string): Record<string, string | null> => {
  const out: Record<string, string | null> = {};
  for (const e of [...ofItem(events, key)].sort(
    (a, b) => a.occurredAt.localeCompare(b.occurredAt) || a.sourceEventId.localeCompare(b.sourceEventId),
  )) {
    if (e.change.kind === 'created') Object.assign(out, { ...e.item, key: undefined, url: undefined });
    if (e.change.kind === 'field_changed') out[e.change.field!] = e.change.to ?? null;
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
};

const mapError = (text: string): ImportMapIssue[] => {
  try {
    parseImportMap(text, 'map.yaml');
  } catch (e) {
    expect((e as AppError).code).toBe('LANES_IMPORT_INVALID');
    return (e as { details: { issues: ImportMapIssue[] } }).details.issues;
  }
  throw new Error('expected the map to be refused');
};

describe('history import map', () => {
  it('reads the shape, the columns of a change, the field names and values that mean no value', () => {
    const map = bugzillaMap();
    expect(map.shape).toBe('history');
    expect(map.history).toMatchObject({ field: 'fieldname', from: 'removed', to: 'added', ignore: ['cc'] });
    expect(map.history?.fields['keywords']).toBe('labels');
    expect(map.empty).toContain('nobody@bugzilla.example');
    expect(map.fields.kind).toMatchObject({ column: 'bug_type', default: 'bug' });
    // A snapshot map is what it was: the shape defaults to snapshot.
    expect(parseImportMap('source: x\nkey: k\noccurred_at: t\n', 'm').shape).toBe('snapshot');
  });

  it('maps a value to no value with ~ or an empty string', () => {
    const map = parseImportMap(
      "source: x\nkey: k\noccurred_at: t\nfields:\n  assignee: { column: a, values: { unassigned: ~, '--': '' } }\n",
      'm',
    );
    expect(map.fields.assignee?.values).toEqual({ unassigned: null, '--': null });
  });

  it('refuses history settings in a snapshot map, and a history map without them, by position', () => {
    const head = 'source: x\nkey: k\noccurred_at: t\n';
    expect(mapError(`${head}history: { field: f, to: t, fields: { s: state } }\n`)).toEqual([
      expect.objectContaining({ line: 4, path: 'history', message: '"history" needs `shape: history`' }),
    ]);
    expect(mapError(`${head}shape: history\n`)).toEqual([
      expect.objectContaining({ path: 'history', message: expect.stringMatching(/needs "history"/) }),
    ]);
    expect(mapError(`${head}fields:\n  title: { default: untitled }\n`)).toEqual([
      expect.objectContaining({ line: 5, path: 'fields.title', message: expect.stringMatching(/either "column"/) }),
    ]);
    expect(mapError(`${head}shape: history\nhistory: { field: f, to: t, fields: { s: stage } }\n`)).toEqual([
      expect.objectContaining({ line: 5, path: 'history.fields.s' }),
    ]);
  });
});

describe('import of a Bugzilla activity export (bug_id, bug_when, who, fieldname, removed, added) with its bugs table', () => {
  it('maps every row of both files to valid events', () => {
    const { events, rejections, rows } = run(ACTIVITY);
    expect(rejections).toEqual([]);
    expect(rows).toBe(37 + 8);
    const checked = validateEventBatch(events);
    expect(checked.ok ? [] : checked.rejections).toEqual([]);
    expect(new Set(events.map((e) => e.sourceEventId)).size).toBe(events.length);
  });

  it('creates each bug at creation_ts, by its reporter, as it was before its first change of each field', () => {
    const created = run(ACTIVITY).events.find((e) => e.sourceEventId === 'BZ-1001/created');
    expect(created).toEqual({
      source: 'bugzilla',
      sourceEventId: 'BZ-1001/created',
      occurredAt: '2024-03-01T08:00:00.000Z',
      actor: { kind: 'email', id: 'ana@users.example' },
      // UNCONFIRMED and no priority before triage; "nobody" is no assignee, "---" no milestone.
      item: {
        key: 'BZ-1001',
        title: 'Checkout button does nothing on Safari 17',
        kind: 'bug',
        team: 'web',
        component: 'Checkout',
        severity: 'high',
        state: 'new',
      },
      change: { kind: 'created', data: { source: { kind: 'defect', severity: 'major', state: 'UNCONFIRMED' } } },
    });
  });

  it('ends each bug in the state, resolution and assignee the bugs table shows', () => {
    const { events } = run(ACTIVITY);
    const end = (key: string) => {
      const v = finalValues(events, key);
      return [v['state'], v['resolution'] ?? null, v['assignee'] ?? null];
    };
    expect(
      Object.fromEntries([1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008].map((n) => [n, end(`BZ-${n}`)])),
    ).toEqual({
      1001: ['verified', 'FIXED', 'dev.kim@bugzilla.example'],
      1002: ['done', 'INVALID', null],
      1003: ['done', 'WONTFIX', null],
      1004: ['done', 'DUPLICATE', null],
      1005: ['done', 'FIXED', 'dev.lee@bugzilla.example'],
      1006: ['acknowledged', null, null],
      1007: ['done', 'INCOMPLETE', null],
      // NEEDINFO is not in the map: the bug stays where Lanes last knew it.
      1008: ['acknowledged', null, 'dev.kim@bugzilla.example'],
    });
  });

  it('follows a bug through works-for-me, reopening and a fix, with the source words kept', () => {
    const { events } = run(ACTIVITY);
    expect(timeline(events, 'BZ-1005')).toEqual([
      ['03-05T09:00', 'email:eve', 'created', null],
      ['03-05T10:00', 'email:dev.lee', 'field_changed', 'state', 'acknowledged', 'done'],
      ['03-05T10:00', 'email:dev.lee', 'field_changed', 'resolution', null, 'WORKSFORME'],
      ['03-07T08:00', 'email:eve', 'field_changed', 'state', 'done', 'acknowledged'],
      ['03-07T08:00', 'email:eve', 'field_changed', 'resolution', 'WORKSFORME', null],
      ['03-07T09:30', 'email:dev.lee', 'field_changed', 'assignee', null, 'dev.lee@bugzilla.example'],
      ['03-07T09:30', 'email:dev.lee', 'field_changed', 'state', 'acknowledged', 'in_progress'],
      ['03-07T09:30', 'email:dev.lee', 'field_changed', 'milestone', null, '2024.05'],
      ['03-11T16:45', 'email:dev.lee', 'field_changed', 'state', 'in_progress', 'done'],
      ['03-11T16:45', 'email:dev.lee', 'field_changed', 'resolution', null, 'FIXED'],
    ]);
    const reopened = events.find((e) => e.sourceEventId === 'BZ-1005@2024-03-07T08:00:00.000Z/bug_status');
    expect(reopened?.change.data).toEqual({ sourceState: 'REOPENED', fromSourceState: 'RESOLVED' });
    const verified = events.find((e) => e.sourceEventId === 'BZ-1001@2024-03-06T08:05:00.000Z/bug_status');
    expect(verified?.change).toMatchObject({ from: 'done', to: 'verified', data: { sourceState: 'VERIFIED' } });
  });

  it("maps Bugzilla's words for no value to no value, and P5 through the value map", () => {
    const { events } = run(ACTIVITY);
    const triage = ofItem(events, 'BZ-1006').filter((e) => e.change.kind === 'field_changed');
    expect(triage.map((e) => [e.change.field, e.change.from, e.change.to])).toEqual([
      ['severity', 'medium', 'critical'],
      ['state', 'new', 'acknowledged'],
      ['priority', null, 'P1'],
    ]);
    expect(events.find((e) => e.sourceEventId === 'BZ-1003@2024-03-03T15:00:00.000Z/priority')?.change).toMatchObject({
      from: null,
      to: 'P4',
      data: { sourceValue: 'P5' },
    });
    expect(events.some((e) => e.item?.assignee === 'nobody@bugzilla.example' || e.change.to === '---')).toBe(false);
  });

  it('takes the default kind where the bugs table names none', () => {
    const { events } = run(ACTIVITY);
    const kinds = events.filter((e) => e.change.kind === 'created').map((e) => [e.item!.key, e.item!.kind]);
    expect(Object.fromEntries(kinds)).toMatchObject({ 'BZ-1003': 'feature', 'BZ-1005': 'bug', 'BZ-1008': 'task' });
  });

  it("stores the map's bots as bot identities, never as people", () => {
    const { events } = run(ACTIVITY);
    expect(ofItem(events, 'BZ-1007').map((e) => e.actor)).toEqual([
      { kind: 'email', id: 'gus@users.example' },
      { kind: 'bot', id: 'bugbot@bugzilla.example' },
      { kind: 'bot', id: 'bugbot@bugzilla.example' },
    ]);
  });

  it('turns keywords and whiteboard words into labels added and removed', () => {
    const { events } = run(ACTIVITY);
    const labels = events.filter((e) => e.change.kind === 'label_added' || e.change.kind === 'label_removed');
    expect(labels.map((e) => `${e.item!.key} ${e.change.kind} ${e.change.target}`)).toEqual([
      'BZ-1001 label_added regression',
      'BZ-1006 label_added crash',
      'BZ-1006 label_added regression',
      'BZ-1006 label_added needs-diagnosis',
      'BZ-1006 label_removed needs-diagnosis',
    ]);
  });

  it('keeps unknown fields and untranslatable values as activity, counted once each, the bug unchanged', () => {
    const { events, unmapped, unmappedSeen } = run(ACTIVITY);
    expect(unmappedSeen.sort()).toEqual(['field:flagtypes.name', 'state:NEEDINFO']);
    expect(unmapped).toEqual([
      { line: 34, category: 'field', value: 'flagtypes.name' },
      { line: 38, category: 'state', value: 'NEEDINFO' },
    ]);
    const activity = events.filter((e) => e.change.kind === 'activity');
    expect(activity.map((e) => [e.sourceEventId, e.change.data])).toEqual([
      [
        'BZ-1006@2024-03-06T13:00:00.000Z/flagtypes.name',
        { field: 'flagtypes.name', from: null, to: 'needinfo?(fay@users.example)' },
      ],
      [
        'BZ-1008@2024-03-09T09:00:00.000Z/bug_status/unmapped',
        { field: 'bug_status', from: 'NEW', to: 'NEEDINFO', unmapped: { state: 'NEEDINFO' } },
      ],
    ]);
    // cc changes are ignored by the map: no event, not counted.
    expect(events.some((e) => JSON.stringify(e).includes('"cc"'))).toBe(false);
  });

  it('gives the same events for any order of the lines of either file (property)', () => {
    const byId = (events: EventInput[]) => [...events].sort((a, b) => a.sourceEventId.localeCompare(b.sourceEventId));
    const first = byId(run(ACTIVITY).events);
    const split = (text: string) => {
      const [header, ...lines] = text.trimEnd().split('\n');
      return { header: header!, lines };
    };
    const activity = split(ACTIVITY);
    const bugs = split(BUGS);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(activity.lines, { minLength: activity.lines.length }),
        fc.shuffledSubarray(bugs.lines, { minLength: bugs.lines.length }),
        (a, b) => {
          const again = run([activity.header, ...a].join('\n'), [bugs.header, ...b].join('\n'));
          expect(again.rejections).toEqual([]);
          expect(byId(again.events)).toEqual(first);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('without the bugs table: each bug starts at its first change, by nobody known, as the changes say it was', () => {
    // The same map without the table's columns: the rows' own values, the default kind and the value maps remain.
    const { item: _item, component: _component, fields, ...rest } = bugzillaMap();
    const map = {
      ...rest,
      fields: {
        kind: { default: 'bug' as const },
        state: { values: fields.state!.values },
        priority: { values: fields.priority!.values },
        severity: { values: fields.severity!.values },
      },
    };
    const { events, rejections } = run(ACTIVITY, null, map);
    expect(rejections).toEqual([]);
    expect(events.find((e) => e.sourceEventId === 'BZ-1005/created')).toMatchObject({
      occurredAt: '2024-03-05T10:00:00.000Z',
      actor: null,
      item: { key: 'BZ-1005', kind: 'bug', team: 'web', state: 'acknowledged' },
    });
    // The state before the first change is its "removed" value; "nobody" is still no assignee.
    expect(events.find((e) => e.sourceEventId === 'BZ-1005/created')?.item).not.toHaveProperty('assignee');
    expect(finalValues(events, 'BZ-1005')).toMatchObject({ state: 'done', resolution: 'FIXED' });
    expect(finalValues(events, 'BZ-1001')).toMatchObject({ state: 'verified', priority: 'P2' });
  });

  it('rejects bad rows of either file by their line, and a bug the table holds twice', () => {
    const activity = `${ACTIVITY.trimEnd()}\n1009,not a time,x@y.example,bug_status,NEW,RESOLVED\n,2024-03-01 10:00:00,x@y.example,bug_status,NEW,RESOLVED\n`;
    const bugs = `${BUGS.trimEnd()}\n1002,2024-03-02 10:00:00,ben@users.example,Again,defect,normal,--,General,NEW,,,---,\n1010,last week,x@y.example,T,defect,normal,--,General,NEW,,,---,\n`;
    const { rejections } = run(activity, bugs);
    expect(rejections.map((r) => [r.file ?? 'activity', r.line, r.message])).toEqual([
      ['activity', 39, expect.stringContaining('cannot read the time "not a time" in column "bug_when"')],
      ['activity', 40, 'no key: column "bug_id" is empty or missing'],
      ['items', 10, 'the item file has "BZ-1002" twice (first on line 3)'],
      ['items', 11, expect.stringContaining('cannot read the time "last week" in column "creation_ts"')],
    ]);
  });
});

// ---------------------------------------------------------------- Apache DevLake: Jira changelogs as history rows

const DEVLAKE = join(process.cwd(), 'test/fixtures/external/devlake-e2e/issue_trace/e2e');
type Row = Record<string, string>;
const devlake = (path: string): Row[] =>
  parse(readFileSync(join(DEVLAKE, path), 'utf8'), { columns: true, relax_quotes: true }) as Row[];

/** `key|status|start` and `key|assignee|start` rows, as DevLake's issue_trace derives them. */
const histories = (events: readonly EventInput[]) => {
  const statuses: string[] = [];
  const assignees: string[] = [];
  const holder = new Map<string, string | null>();
  for (const e of events) {
    const key = e.item!.key;
    if (e.change.kind === 'created') {
      const source = e.change.data?.['source'] as Record<string, string> | undefined;
      statuses.push(`${key}|${source?.['state'] ?? e.item?.state ?? ''}|${e.occurredAt}`);
      holder.set(key, e.item?.assignee ?? null);
      if (e.item?.assignee) assignees.push(`${key}|${e.item.assignee}|${e.occurredAt}`);
    } else if (e.change.kind === 'field_changed' && e.change.field === 'state') {
      statuses.push(`${key}|${String(e.change.data?.['sourceState'] ?? e.change.to)}|${e.occurredAt}`);
    } else if (e.change.kind === 'field_changed' && e.change.field === 'assignee') {
      const to = e.change.to ?? null;
      if (to && to !== holder.get(key)) assignees.push(`${key}|${to}|${e.occurredAt}`);
      holder.set(key, to);
    }
  }
  return { statuses: statuses.sort(), assignees: assignees.sort() };
};

const difference = (a: readonly string[], b: readonly string[]): string[] => {
  const rest = [...b];
  return a.filter((x) => {
    const i = rest.indexOf(x);
    if (i < 0) return true;
    rest.splice(i, 1);
    return false;
  });
};

describe('import of Jira changelogs as change-history rows, against Apache DevLake issue_trace', () => {
  it('gives the status and assignee histories DevLake expects, but for EE-26 held by two people at once', () => {
    const map = parseImportMap(fixture('devlake-jira.map.yaml'), 'devlake-jira.map.yaml');
    const { events, rejections, unmapped, rows } = mapImportFile(fixture('devlake-jira-changelog.csv'), 'csv', map, {
      items: { text: fixture('devlake-jira-issues.csv'), format: 'csv' },
    });
    expect(rejections).toEqual([]);
    expect(rows).toBe(312 + 32);
    expect(unmapped).toEqual([]);
    expect(validateEventBatch(events).ok).toBe(true);

    const keyOf = new Map(devlake('raw_tables/issues.csv').map((r) => [r['id']!, r['issue_key']!]));
    const utc = (value: string) => new Date(value).toISOString();
    const strip = (value: string) => value.replace(/(jira:JiraAccount|tapd:TapdAccount):2:/g, '');
    const expected = {
      statuses: devlake('snapshot_tables/issue_status_history.csv')
        .map((r) => `${keyOf.get(r['issue_id']!)}|${r['original_status']}|${utc(r['start_date']!)}`)
        .sort(),
      assignees: devlake('snapshot_tables/issue_assignee_history.csv')
        .map((r) => `${keyOf.get(r['issue_id']!)}|${strip(r['assignee']!)}|${utc(r['start_date']!)}`)
        .sort(),
    };
    const actual = histories(events);
    expect(expected.statuses).toHaveLength(200);
    expect(difference(expected.statuses, actual.statuses)).toEqual([]);
    expect(difference(actual.statuses, expected.statuses)).toEqual([]);
    // EE-26 was created held by two people at once ("a,b" in the changelog's first "from"): DevLake splits the pair
    // into two holders, Lanes holds one assignee value, so yuxiang alone taking it over is a new start.
    expect(difference(expected.assignees, actual.assignees)).toEqual([
      'EE-26|5ecfbd0a47d31e0c2a15fd87|2020-06-12T00:41:01.683Z',
      'EE-26|5ecfbd0ba04d9c0c220c18d8|2020-06-12T00:41:01.683Z',
    ]);
    expect(difference(actual.assignees, expected.assignees)).toEqual([
      'EE-26|5ecfbd0a47d31e0c2a15fd87|2020-06-12T00:44:34.880Z',
      'EE-26|5ecfbd0ba04d9c0c220c18d8,5ecfbd0a47d31e0c2a15fd87|2020-06-12T00:41:01.683Z',
    ]);
    // All 200 status rows agree (the empty first status of the TAPD story included), and 40 of 42 assignee rows.
    expect([expected.assignees.length, actual.assignees.length]).toEqual([42, 42]);
  });
});
