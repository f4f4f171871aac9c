import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import { BILLION_LAUGHS } from '../../domain/yaml.guard.test-helper.js';
import { parseImportMap, type ImportMapIssue } from './import.map.js';
import { mapImportFile, parseImportTime } from './import.mapper.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

const zendeskMap = () => parseImportMap(fixture('zendesk.map.yaml'), 'zendesk.map.yaml');
const opsMap = () => parseImportMap(fixture('ops.map.yaml'), 'ops.map.yaml');

const run = (text: string, format: 'csv' | 'jsonl', map = format === 'csv' ? zendeskMap() : opsMap()) => {
  const unmapped: string[] = [];
  const result = mapImportFile(text, format, map, { unmapped: (c, v) => unmapped.push(`${c}:${v}`) });
  return { ...result, unmapped };
};

/** What a user would see in the item's timeline. */
const timeline = (events: EventInput[], key: string) =>
  events
    .filter((e) => e.item?.key === key)
    .map((e) =>
      [e.occurredAt, e.actor?.id ?? null, e.change.kind, e.change.field ?? null, e.change.from, e.change.to].filter(
        (v) => v !== undefined,
      ),
    );

const mapError = (text: string): { message: string; issues: ImportMapIssue[] } => {
  try {
    parseImportMap(text, 'map.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('LANES_IMPORT_INVALID');
    return {
      message: (e as AppError).message,
      issues: (e as { details: { issues: ImportMapIssue[] } }).details.issues,
    };
  }
  throw new Error('expected the map to be refused');
};

describe('import map', () => {
  it('reads the short and long forms', () => {
    const map = zendeskMap();
    expect(map.source).toBe('zendesk');
    expect(map.key).toEqual({ column: 'ticket_id', prefix: 'ZD-' });
    expect(map.occurred_at).toEqual({ column: 'updated_at' });
    expect(map.actor).toEqual({ column: 'author_email', kind: 'email' });
    expect(map.fields.title).toEqual({ column: 'subject' });
    expect(map.fields.state?.values?.['pending']).toBe('in_progress');
    expect(opsMap().team).toEqual({ value: 'platform' });
  });

  it('points at a value a value map cannot use', () => {
    const text = [
      'source: zendesk',
      'key: ticket_id',
      'occurred_at: updated_at',
      'fields:',
      '  kind: { column: type, values: { problem: bugg } }',
    ].join('\n');
    const { message, issues } = mapError(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 5, col: 44, path: 'fields.kind.values.problem' });
    expect(message).toContain('map.yaml:5:44: fields.kind.values.problem:');
  });

  it('points at unknown fields, missing fields and bad values, all at once', () => {
    const text = [
      'source: Zendesk Export', // not lower-case
      'key: { column: id, prefx: "ZD-" }',
      'timezone: Mars/Olympus',
      'fields:',
      '  title: subject',
      '  colour: red',
    ].join('\n');
    const { issues } = mapError(text);
    expect(issues.map((i) => [i.line, i.col, i.path])).toEqual([
      [1, 1, 'occurred_at'],
      [1, 9, 'source'],
      [2, 20, 'key.prefx'],
      [3, 11, 'timezone'],
      [6, 3, 'fields.colour'],
    ]);
    expect(issues[0]!.message).toBe('missing required field "occurred_at"');
  });

  it('needs exactly one of column and value', () => {
    const { issues } = mapError('source: x\nkey: k\noccurred_at: t\nteam: { column: g, value: payments }\n');
    expect(issues).toEqual([expect.objectContaining({ line: 4, col: 7, path: 'team' })]);
    expect(issues[0]!.message).toMatch(/either "column".*or "value"/);
  });

  it('refuses an alias bomb, deep nesting and a map over 1 MiB with their position, before expanding anything', () => {
    const head = 'source: x\nkey: k\noccurred_at: t\n';
    const bomb = mapError(`${head}${BILLION_LAUGHS.replace(/^(\w):/gm, 'x-$1:')}\n`);
    expect(bomb.issues).toEqual([
      {
        file: 'map.yaml',
        line: 10,
        col: 9,
        path: '',
        message: expect.stringMatching(/^the map expands to more than 1,000,000 values/),
      },
    ]);
    expect(bomb.message).toContain('map.yaml:10:9: the map expands to more than 1,000,000 values');
    const deep = mapError(`${head}fields: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`);
    expect(deep.issues).toEqual([
      expect.objectContaining({
        line: 4,
        message: 'the map is nested or indented too deeply here; Lanes reads at most 64 levels',
      }),
    ]);
    const big = mapError(`${head}comment: "${'x'.repeat(1024 * 1024)}"\n`);
    expect(big.issues).toEqual([
      expect.objectContaining({
        line: 1,
        col: 1,
        message: expect.stringMatching(/^the map is 1,048,6\d\d bytes; Lanes reads at most 1 MiB$/),
      }),
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const { issues } = mapError('source: x\nkey: [unclosed\noccurred_at: t\n');
    expect(issues[0]).toMatchObject({ file: 'map.yaml', line: expect.any(Number), col: expect.any(Number) });
    expect(issues[0]!.line).toBeGreaterThanOrEqual(2);
  });
});

describe('import of a CSV export (Zendesk-like, with a BOM, CRLF, quoted commas and newlines)', () => {
  const text = fixture('zendesk-tickets.csv');

  it('reads every row and maps them to valid events', () => {
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const { events, rejections, rows, lineOf } = run(text, 'csv');
    expect(rejections).toEqual([]);
    expect(rows).toBe(22);
    expect(events).toHaveLength(38);
    expect(lineOf).toHaveLength(events.length);
    const checked = validateEventBatch(events);
    expect(checked.ok ? [] : checked.rejections).toEqual([]);
    expect(new Set(events.map((e) => e.item?.key))).toEqual(
      new Set(['ZD-101', 'ZD-102', 'ZD-103', 'ZD-104', 'ZD-105', 'ZD-106']),
    );
  });

  it('creates an item from its first row, with the snapshot the map describes', () => {
    const { events, lineOf } = run(text, 'csv');
    const index = events.findIndex((e) => e.sourceEventId === 'ZD-101/created');
    expect(lineOf[index]).toBe(2);
    expect(events[index]).toEqual({
      source: 'zendesk',
      sourceEventId: 'ZD-101/created',
      occurredAt: '2024-03-01T09:00:00.000Z',
      actor: { kind: 'email', id: 'alice@acme.example' },
      item: {
        key: 'ZD-101',
        title: 'Card payments fail at checkout',
        kind: 'bug',
        team: 'payments',
        severity: 'critical',
        state: 'new',
        customer: 'Acme, Inc.',
        url: 'https://acme.zendesk.com/agent/tickets/101',
      },
      change: { kind: 'created', data: { source: { kind: 'problem', team: 'Billing', severity: 'urgent' } } },
    });
  });

  it('turns later rows into the changes between them, and keeps HTML and SQL as text', () => {
    const { events } = run(text, 'csv');
    expect(timeline(events, 'ZD-101')).toEqual([
      ['2024-03-01T09:00:00.000Z', 'alice@acme.example', 'created', null],
      ['2024-03-01T09:00:00.000Z', 'alice@acme.example', 'commented', null],
      ['2024-03-01T09:30:00.000Z', 'dana@support.example', 'field_changed', 'assignee', null, 'dana@support.example'],
      ['2024-03-01T09:30:00.000Z', 'dana@support.example', 'field_changed', 'state', 'new', 'acknowledged'],
      ['2024-03-01T09:30:00.000Z', 'dana@support.example', 'commented', null],
      ['2024-03-01T11:00:00.000Z', 'dana@support.example', 'field_changed', 'state', 'acknowledged', 'in_progress'],
      ['2024-03-01T11:00:00.000Z', 'dana@support.example', 'commented', null],
      ['2024-03-02T08:15:00.000Z', 'dana@support.example', 'field_changed', 'state', 'in_progress', 'done'],
      ['2024-03-02T08:15:00.000Z', 'dana@support.example', 'commented', null],
      // 2024-03-03: "solved" → "closed" is done → done, and the comment repeats: nothing new.
    ]);
    const comments = events.filter((e) => e.item?.key === 'ZD-101' && e.change.kind === 'commented');
    expect(comments.map((e) => e.change.text)).toEqual([
      'Card payments fail with <b>500</b> at checkout, see <a href="https://acme.example/x">screenshot</a>',
      'Looking into it; reproduced with <script>alert(1)</script> in the name field',
      "Query used: SELECT * FROM payments WHERE status = 'failed'; DROP TABLE users;--",
      'Fixed in release 4.2, thanks!',
    ]);
    const open = events.find((e) => e.sourceEventId === 'ZD-101@2024-03-01T09:30:00.000Z/state');
    expect(open?.change.data).toEqual({ sourceState: 'open' });
    expect(open?.item).toMatchObject({ state: 'acknowledged', assignee: 'dana@support.example' });
  });

  it('keeps quoted newlines and quotes, and numbers rows by the line they start on', () => {
    const { events, lineOf } = run(text, 'csv');
    const index = events.findIndex((e) => e.sourceEventId === 'ZD-103@2024-03-02T07:00:00.000Z/comment');
    expect(events[index]?.change.text).toBe('Customers report:\n- timeouts\n- "gateway error" on /pay');
    expect(lineOf[index]).toBe(7);
    const next = events.findIndex((e) => e.sourceEventId === 'ZD-103@2024-03-02T07:05:00.000Z/state');
    expect(lineOf[next]).toBe(10);
    expect(events.find((e) => e.sourceEventId === 'ZD-105/created')?.item?.title).toBe(
      'Dashboard shows wrong totals, "net" vs "gross"',
    );
    expect(timeline(events, 'ZD-103').filter((e) => e[3] === 'severity')).toEqual([
      ['2024-03-02T07:45:00.000Z', 'dana@support.example', 'field_changed', 'severity', 'critical', 'high'],
    ]);
  });

  it('counts values the map cannot translate, keeps them raw, and changes nothing for them', () => {
    const { events, unmapped } = run(text, 'csv');
    expect(unmapped.sort()).toEqual(['issue_type:feedback', 'scope:Legal', 'state:hold']);

    const created104 = events.find((e) => e.sourceEventId === 'ZD-104/created')!;
    expect(created104.item).not.toHaveProperty('kind');
    expect(created104.item).not.toHaveProperty('team');
    expect(created104.change.data).toMatchObject({ unmapped: { kind: 'feedback', team: 'Legal' } });
    expect(timeline(events, 'ZD-104').map((e) => e[3])).toEqual([null, 'title', 'assignee', 'state', null, 'state']);

    // "hold" is not in the map: the state stays acknowledged, the raw value rides on the row's comment.
    expect(timeline(events, 'ZD-102')).toEqual([
      ['2024-03-01T10:00:00.000Z', 'bea@globex.example', 'created', null],
      ['2024-03-01T12:00:00.000Z', 'erik@support.example', 'field_changed', 'assignee', null, 'erik@support.example'],
      ['2024-03-01T12:00:00.000Z', 'erik@support.example', 'field_changed', 'state', 'new', 'acknowledged'],
      ['2024-03-04T09:00:00.000Z', 'erik@support.example', 'commented', null],
      ['2024-03-05T09:00:00.000Z', 'erik@support.example', 'field_changed', 'state', 'acknowledged', 'done'],
      ['2024-03-05T09:00:00.000Z', 'erik@support.example', 'commented', null],
    ]);
    const hold = events.find((e) => e.sourceEventId === 'ZD-102@2024-03-04T09:00:00.000Z/comment');
    expect(hold?.change.data).toEqual({ unmapped: { state: 'hold' } });
  });

  it('gives the same ids when the same file is mapped again, or its rows come in another order', () => {
    const first = run(text, 'csv').events;
    expect(run(text, 'csv').events).toEqual(first);
    const [header, ...rows] = text.replace(/^\uFEFF/, '').split(/\r\n(?=\d{3},)/);
    const shuffled = [header, ...rows.reverse()].join('\r\n');
    const again = run(shuffled, 'csv');
    expect(again.rejections).toEqual([]);
    expect(again.events.map((e) => e.sourceEventId).sort()).toEqual(first.map((e) => e.sourceEventId).sort());
    expect(new Set(first.map((e) => e.sourceEventId)).size).toBe(first.length);
  });

  it('gives the same events for any order of the rows (property)', () => {
    const first = run(text, 'csv').events;
    const byId = (events: EventInput[]) => [...events].sort((a, b) => a.sourceEventId.localeCompare(b.sourceEventId));
    const [header, ...rows] = text.replace(/^\uFEFF/, '').split(/\r\n(?=\d{3},)/);
    fc.assert(
      fc.property(fc.shuffledSubarray(rows, { minLength: rows.length }), (order) => {
        const again = run([header, ...order].join('\r\n'), 'csv');
        expect(again.rejections).toEqual([]);
        expect(byId(again.events)).toEqual(byId(first));
      }),
      { numRuns: 40 },
    );
  });

  it('rejects rows without a key, with an unreadable time or with the wrong number of fields, by line', () => {
    const bad = [
      'ticket_id,updated_at,subject,type,status,priority,group,assignee_email,author_email,organization,url,body',
      '201,2024-03-01 09:00:00,Fine,problem,new,low,Billing,,a@x.example,,,',
      ',2024-03-01 09:00:00,No key,problem,new,low,Billing,,a@x.example,,,',
      '202,yesterday,Bad time,problem,new,low,Billing,,a@x.example,,,',
      '203,2024-02-30 09:00:00,No such day,problem,new,low,Billing,,a@x.example,,,',
      '204,2024-03-01 09:00:00,"Too, few fields"',
      '205 x,2024-03-01 09:00:00,Bad key,problem,new,low,Billing,,a@x.example,,,',
      '206,,No time,problem,new,low,Billing,,a@x.example,,,',
    ].join('\n');
    const { events, rejections, rows } = run(bad, 'csv');
    expect(rows).toBe(7);
    expect(rejections.map((r) => [r.line, r.code])).toEqual([
      [3, 'LANES_IMPORT_INVALID'],
      [4, 'LANES_IMPORT_INVALID'],
      [5, 'LANES_IMPORT_INVALID'],
      [6, 'LANES_IMPORT_INVALID'],
      [7, 'LANES_IMPORT_INVALID'],
      [8, 'LANES_IMPORT_INVALID'],
    ]);
    expect(rejections[0]!.message).toContain('no key');
    expect(rejections[1]!.message).toContain('"yesterday"');
    expect(rejections[3]!.message).toContain('3 fields, the header 12');
    expect(events.map((e) => e.item?.key)).toEqual(['ZD-201']);
  });
});

describe('import of a JSONL export (dotted paths, Lanes defaults, a time zone)', () => {
  const text = fixture('ops-issues.jsonl');

  it('maps nested fields through the default vocabulary and converts wall-clock times', () => {
    const { events, rejections, rows, unmapped, lineOf } = run(text, 'jsonl');
    expect(rejections).toEqual([]);
    expect(rows).toBe(5);
    const checked = validateEventBatch(events);
    expect(checked.ok ? [] : checked.rejections).toEqual([]);
    expect(events.find((e) => e.sourceEventId === 'OPS-1/created')).toEqual({
      source: 'ops-tracker',
      sourceEventId: 'OPS-1/created',
      // 09:00 in Berlin summer time
      occurredAt: '2024-05-02T07:00:00.000Z',
      actor: { kind: 'email', id: 'ines@acme.example', name: 'Ines' },
      item: {
        key: 'OPS-1',
        title: 'Nightly backup job fails',
        kind: 'bug',
        team: 'platform',
        priority: 'P2',
        state: 'scheduled',
      },
      change: { kind: 'created', data: { source: { kind: 'Bug', state: 'To Do', priority: 'High' } } },
    });
    expect(timeline(events, 'OPS-1')).toEqual([
      ['2024-05-02T07:00:00.000Z', 'ines@acme.example', 'created', null],
      ['2024-05-02T07:00:00.000Z', 'ines@acme.example', 'field_changed', 'sprint', 'Sprint 14'],
      ['2024-05-02T09:15:00.000Z', 'jon@acme.example', 'field_changed', 'priority', 'P2', 'P1'],
      ['2024-05-02T09:15:00.000Z', 'jon@acme.example', 'field_changed', 'assignee', null, 'jon@acme.example'],
      ['2024-05-02T09:15:00.000Z', 'jon@acme.example', 'field_changed', 'state', 'scheduled', 'in_progress'],
      ['2024-05-02T09:15:00.000Z', 'jon@acme.example', 'commented', null],
      ['2024-05-03T07:00:00.000Z', 'jon@acme.example', 'field_changed', 'state', 'in_progress', 'done'],
    ]);
    expect(events.find((e) => e.change.kind === 'commented')?.change.text).toBe(
      'Disk full on <code>/var/backups</code>; running `DELETE FROM snapshots WHERE age > 30`',
    );
    // An explicit offset wins over the map's time zone.
    expect(events.find((e) => e.sourceEventId === 'OPS-2/created')).toMatchObject({
      occurredAt: '2024-05-02T08:30:00.000Z',
      item: { kind: 'tech_debt', state: 'acknowledged', priority: 'P3', assignee: 'jon@acme.example' },
    });
    expect(timeline(events, 'OPS-2').slice(1)).toEqual([
      ['2024-05-02T08:30:00.000Z', 'jon@acme.example', 'field_changed', 'estimate', '8'],
      ['2024-05-03T06:00:00.000Z', 'jon@acme.example', 'field_changed', 'estimate', '8', '13'],
    ]);
    expect(unmapped).toEqual(['state:Blocked']);
    // The blank line 3 is skipped but still counted in line numbers.
    expect(lineOf[events.findIndex((e) => e.change.kind === 'commented')]).toBe(4);
  });

  it('rejects lines that are not JSON objects, by line', () => {
    const bad = [
      '{"key":"OPS-9","changed":"2024-05-02T10:00:00Z","fields":{"summary":"ok"}}',
      '{"key":"OPS-10",',
      '["an","array"]',
      '{"changed":"2024-05-02T10:00:00Z"}',
    ].join('\n');
    const { rejections, events } = run(bad, 'jsonl');
    expect(rejections.map((r) => [r.line, r.message.split(':')[0]])).toEqual([
      [2, 'not JSON'],
      [3, 'each line must be a JSON object'],
      [4, 'no key'],
    ]);
    expect(events.map((e) => e.sourceEventId)).toEqual(['OPS-9/created']);
  });
});

describe('import times', () => {
  it.each([
    ['2024-03-01T09:00:00Z', undefined, '2024-03-01T09:00:00.000Z'],
    ['2024-03-01T09:00:00.123+01:00', undefined, '2024-03-01T08:00:00.123Z'],
    ['2024-03-01 09:00:00', undefined, '2024-03-01T09:00:00.000Z'],
    ['2024-03-01', undefined, '2024-03-01T00:00:00.000Z'],
    ['2024-01-15 09:00:00', 'Europe/Berlin', '2024-01-15T08:00:00.000Z'],
    ['2024-07-15 09:00:00', 'Europe/Berlin', '2024-07-15T07:00:00.000Z'],
    ['2024-03-10 12:30:00', 'America/New_York', '2024-03-10T16:30:00.000Z'],
    ['2024-03-01T09:00:00Z', 'Asia/Tokyo', '2024-03-01T09:00:00.000Z'],
  ])('%s in %s is %s', (raw, zone, expected) => {
    expect(parseImportTime(raw, zone)).toBe(expected);
  });

  it('reads back any wall-clock time it is given, in any zone (property)', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'];
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2035-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom(...zones),
        (date, zone) => {
          const wall = (d: Date) =>
            new Intl.DateTimeFormat('sv-SE', {
              timeZone: zone,
              year: 'numeric',
              month: '2-digit',
              day: '2-digit',
              hour: '2-digit',
              minute: '2-digit',
              second: '2-digit',
              hourCycle: 'h23',
            }).format(d);
          const text = wall(date);
          const parsed = parseImportTime(text, zone);
          expect(parsed).toBeDefined();
          expect(wall(new Date(parsed!))).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each(['yesterday', '2024-02-30 10:00:00', '2024-13-01', '01/03/2024', '2024-03-01 25:00:00', ''])(
    'refuses %j',
    (raw) => {
      expect(parseImportTime(raw)).toBeUndefined();
    },
  );
});

describe('import of hostile files', () => {
  const HEADER =
    'ticket_id,updated_at,subject,type,status,priority,group,assignee_email,author_email,organization,url,body';
  const row = (cells: Partial<Record<string, string>>) =>
    HEADER.split(',')
      .map((c) => `"${(cells[c] ?? '').replace(/"/g, '""')}"`)
      .join(',');

  it('rejects a quote that is never closed by line instead of throwing', () => {
    const text = `${HEADER}\r\n${row({ ticket_id: '1', updated_at: '2024-03-01 09:00:00' })}\r\n2,2024-03-01,"open`;
    const { events, rejections } = run(text, 'csv');
    expect(events).toEqual([]);
    expect(rejections).toEqual([
      { line: 3, code: 'LANES_IMPORT_INVALID', message: expect.stringMatching(/^not CSV: /) },
    ]);
  });

  it('rejects a header without a column the map reads, naming the column and where the map uses it', () => {
    const text = `${HEADER.replace('subject', 'subjct')}\r\n${row({ ticket_id: '1', updated_at: '2024-03-01' })}`;
    const { rejections } = run(text, 'csv');
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ line: 1, message: expect.stringContaining('"subject" (fields.title)') });
    expect(rejections[0]!.message).toContain('"subjct"');
  });

  it('clips huge cells to the event limits and keeps HTML and SQL as text', () => {
    const body = `<script>alert(1)</script> '; DROP TABLE events; -- ${'x'.repeat(70_000)}`;
    const text = `\uFEFF${HEADER}\r\n${row({
      ticket_id: '9',
      updated_at: '2024-03-01 09:00:00',
      subject: `"quoted"\nnew line ${'t'.repeat(600)}`,
      author_email: `${'a'.repeat(400)}@x.example`,
      organization: 'o'.repeat(300),
      body,
    })}`;
    const { events, rejections } = run(text, 'csv');
    expect(rejections).toEqual([]);
    expect(validateEventBatch(events).ok).toBe(true);
    const created = events.find((e) => e.change.kind === 'created')!;
    expect(created.item!.title).toMatch(/^"quoted"\nnew line t+$/);
    expect(created.item!.title!.length).toBe(500);
    expect(created.actor!.id.length).toBe(320);
    const comment = events.find((e) => e.change.kind === 'commented')!;
    expect(comment.change.text).toBe(body.slice(0, 65_536));
  });

  it('never throws and returns only valid events or rejections, for any cells (property)', () => {
    const cell = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('', '2024-03-01 09:00:00', '2024-02-30', 'ZD-1', '<b>x</b>', "'; DROP TABLE x;--", '"', '\r\n'),
    );
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 10, maxLength: 13 }), { maxLength: 6 }), (rows) => {
        const text = [HEADER, ...rows.map((r) => r.map((c) => `"${c.replace(/"/g, '""')}"`).join(','))].join('\n');
        const { events, rejections } = run(text, 'csv');
        if (rejections.length === 0) expect(validateEventBatch(events).ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
