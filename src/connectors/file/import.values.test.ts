import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../domain/event.js';
import { parseImportMap } from './import.map.js';
import { mapImportFile } from './import.mapper.js';

const run = (text: string, map: ReturnType<typeof parseImportMap>) => {
  const unmapped: string[] = [];
  const result = mapImportFile(text, 'csv', map, { unmapped: (c, v) => unmapped.push(`${c}:${v}`) });
  return { ...result, unmapped };
};

const timeline = (events: EventInput[], key: string) =>
  events
    .filter((e) => e.item?.key === key)
    .map((e) =>
      [e.occurredAt, e.actor?.id ?? null, e.change.kind, e.change.field ?? null, e.change.from, e.change.to].filter(
        (v) => v !== undefined,
      ),
    );

describe('snapshot values that mean no value, defaults and bots', () => {
  const map = () =>
    parseImportMap(
      [
        'source: helpdesk',
        'key: id',
        'occurred_at: at',
        'actor: who',
        "bots: ['robot@x.example']",
        "empty: ['--', 'Unassigned']",
        'fields:',
        '  kind: { column: type, values: { Problem: bug }, default: task }',
        '  assignee: { column: owner, values: { "queue@x.example": ~ } }',
        '  state: status',
      ].join('\n'),
      'helpdesk.map.yaml',
    );
  const text = [
    'id,at,who,type,owner,status',
    '1,2024-03-01 09:00:00,ann@x.example,,Unassigned,new',
    '1,2024-03-01 10:00:00,robot@x.example,Problem,queue@x.example,open',
    '1,2024-03-01 11:00:00,bo@x.example,Problem,queue@x.example,hold',
    '1,2024-03-01 12:00:00,bo@x.example,Problem,bo@x.example,hold',
    '2,2024-03-01 09:00:00,ann@x.example,--,--,new',
  ].join('\n');

  it('maps empty values, values mapped to ~ and a missing kind, and keeps other free-text values as they are', () => {
    const { events, rejections } = run(text, map());
    expect(rejections).toEqual([]);
    expect(events.find((e) => e.sourceEventId === '1/created')?.item).toEqual({ key: '1', kind: 'task', state: 'new' });
    expect(events.find((e) => e.sourceEventId === '2/created')?.item).toEqual({ key: '2', kind: 'task', state: 'new' });
    expect(timeline(events, '1').slice(1)).toEqual([
      ['2024-03-01T10:00:00.000Z', 'robot@x.example', 'field_changed', 'kind', 'task', 'bug'],
      ['2024-03-01T11:00:00.000Z', 'bo@x.example', 'activity', null],
      ['2024-03-01T12:00:00.000Z', 'bo@x.example', 'field_changed', 'assignee', null, 'bo@x.example'],
    ]);
    expect(events.filter((e) => e.actor?.id === 'robot@x.example').map((e) => e.actor?.kind)).toEqual(['bot']);
  });

  it('keeps a row whose only news is an untranslatable value as activity, so it is never lost', () => {
    const { events, unmapped } = run(text, map());
    expect(unmapped).toEqual(['state:hold']);
    expect(events.find((e) => e.change.kind === 'activity')).toMatchObject({
      sourceEventId: '1@2024-03-01T11:00:00.000Z/unmapped',
      change: { kind: 'activity', data: { unmapped: { state: 'hold' } } },
    });
  });
});
