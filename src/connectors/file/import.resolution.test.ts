import { describe, expect, it } from 'vitest';
import { validateEventBatch } from '../../domain/event.js';
import { projectMapped } from '../stages.test-helper.js';
import { parseImportMap } from './import.map.js';
import { mapImportFile } from './import.mapper.js';

/** Bugzilla's statuses and resolutions as an export gives them, read with Lanes' defaults (no value maps). */
const MAP = `source: bugzilla
key: { column: bug_id, prefix: 'BZ-' }
occurred_at: changed
team: { value: web }
fields:
  title: short_desc
  kind: { value: bug }
  state: bug_status
  resolution: resolution
`;

const CSV = `bug_id,changed,short_desc,bug_status,resolution
1,2024-03-01 08:00:00,Checkout button does nothing,NEW,
1,2024-03-04 17:20:00,Checkout button does nothing,RESOLVED,FIXED
1,2024-03-06 08:05:00,Checkout button does nothing,VERIFIED,FIXED
2,2024-03-02 10:00:00,Site looks odd,UNCONFIRMED,
2,2024-03-02 11:30:00,Site looks odd,RESOLVED,INVALID
3,2024-03-03 11:00:00,Add dark mode,NEW,
3,2024-03-04 09:00:00,Add dark mode,RESOLVED,WONTFIX
4,2024-03-04 12:00:00,Checkout broken on Safari,UNCONFIRMED,
4,2024-03-04 12:40:00,Checkout broken on Safari,RESOLVED,DUPLICATE
5,2024-03-05 09:00:00,Search returns stale results,NEW,
5,2024-03-05 10:00:00,Search returns stale results,RESOLVED,WORKSFORME
6,2024-03-07 14:00:00,Page flickers,UNCONFIRMED,
6,2024-03-08 14:00:00,Page flickers,RESOLVED,INCOMPLETE
7,2024-03-05 09:00:00,Export drops header,ASSIGNED,
7,2024-03-06 09:00:00,Export drops header,RESOLVED,FIXED
7,2024-03-07 09:00:00,Export drops header,REOPENED,
8,2024-03-05 09:00:00,Rounding error,NEW,
8,2024-03-06 09:00:00,Rounding error,CLOSED,FIXED
9,2024-03-05 09:00:00,Wrong total,NEW,
9,2024-03-06 09:00:00,Wrong total,VERIFIED,INVALID
`;

describe('Bugzilla resolutions in an import', () => {
  it('gives each closing its own stage, Verified from VERIFIED, and never Live without a deployment', () => {
    const unmapped: string[] = [];
    const result = mapImportFile(CSV, 'csv', parseImportMap(MAP, 'bugzilla.map.yaml'), {
      unmapped: (c, v) => unmapped.push(`${c}:${v}`),
    });
    expect(result.rejections).toEqual([]);
    expect(unmapped).toEqual([]);
    const checked = validateEventBatch(result.events);
    expect(checked.ok).toBe(true);
    const items = projectMapped(result.events);
    const stages = Object.fromEntries([...items].map(([key, item]) => [key, item.stage]));
    expect(stages).toEqual({
      'BZ-1': 'verified',
      'BZ-2': 'invalid',
      'BZ-3': 'wont_fix',
      'BZ-4': 'duplicate',
      'BZ-5': 'cannot_reproduce',
      'BZ-6': 'incomplete',
      'BZ-7': 'acknowledged',
      'BZ-8': 'fixed',
      'BZ-9': 'invalid',
    });
    expect(items.get('BZ-7')!.reopenCount).toBe(1);
  });
});
