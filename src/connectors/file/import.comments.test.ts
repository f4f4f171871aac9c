import { describe, expect, it } from 'vitest';
import { parseImportMap } from './import.map.js';
import { mapImportFile } from './import.mapper.js';

/**
 * Two comments with the same words are two comments (issue 16): a history
 * file's rows of one instant share their change's comment, but the same words
 * written again days later were stored once, silently, because the importer
 * took a comment equal to the previous row's as a repeat.
 */

const MAP = `source: bugzilla-export
shape: history
key: bug_id
occurred_at: bug_when
actor: { column: who, kind: email }
history: { field: fieldname, from: removed, to: added, fields: { bug_status: state } }
fields:
  state: { values: { NEW: new, ASSIGNED: in_progress, RESOLVED: done } }
comment: thetext
`;

const comments = (csv: string): { id: string; at: string; text: string | undefined }[] =>
  mapImportFile(csv, 'csv', parseImportMap(MAP, 'bugzilla.map.yaml'))
    .events.filter((e) => e.change.kind === 'commented')
    .map((e) => ({ id: e.sourceEventId, at: e.occurredAt, text: e.change.text }));

describe('comments of history rows', () => {
  it('keeps the same words written on two days as two comments', () => {
    const csv = [
      'bug_id,bug_when,who,fieldname,removed,added,thetext',
      '58,2020-03-01 10:00:00,dev@mozilla.example,bug_status,NEW,ASSIGNED,Still reproduces on Nightly.',
      '58,2020-03-03 09:30:00,dev@mozilla.example,bug_status,ASSIGNED,ASSIGNED,Still reproduces on Nightly.',
    ].join('\n');
    expect(comments(csv).map((c) => c.at)).toEqual(['2020-03-01T10:00:00.000Z', '2020-03-03T09:30:00.000Z']);
  });

  it('keeps one comment for the rows of one change that all carry it', () => {
    const csv = [
      'bug_id,bug_when,who,fieldname,removed,added,thetext',
      '58,2020-03-01 10:00:00,dev@mozilla.example,bug_status,NEW,RESOLVED,Fixed by the patch in bug 57.',
      '58,2020-03-01 10:00:00,dev@mozilla.example,resolution,,FIXED,Fixed by the patch in bug 57.',
    ].join('\n');
    expect(comments(csv)).toHaveLength(1);
  });
});
