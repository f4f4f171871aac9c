import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JiraMapping } from '../../domain/connector.mapping.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import type { Stage } from '../../domain/stage.js';
import type { MapContext } from '../connector.types.js';
import { projectMapped } from '../stages.test-helper.js';
import { mapJiraIssue } from './jira.mapper.js';
import { jiraWebhooks } from './jira.webhook.js';

const EXTERNAL = join(process.cwd(), 'test/fixtures/external');
const read = (path: string): unknown => JSON.parse(readFileSync(join(EXTERNAL, path), 'utf8'));

const context = (mapping: JiraMapping): MapContext<JiraMapping> => ({ mapping, unmapped: () => undefined });
const valid = (events: EventInput[]): EventInput[] => {
  const checked = validateEventBatch(events);
  if (!checked.ok) throw new Error(JSON.stringify(checked.rejections));
  return checked.events;
};

/** What each Jira resolution of the page means as a stage, without deploy data. */
const EXPECTED: Record<string, Stage> = {
  Fixed: 'fixed',
  "Won't Fix": 'wont_fix',
  Duplicate: 'duplicate',
  Incomplete: 'incomplete',
};

describe('Jira resolutions on a real issues.apache.org page (LUCENE-1 … 10)', () => {
  const page = read('jira-apache-lucene/search_LUCENE_first10.trimmed.json') as {
    issues: { id: string; key: string; fields: { resolution: { name: string } | null } }[];
  };

  it('agrees with the tracker on every issue: Fixed is fixed (release not tracked), never Live', () => {
    const ctx = context({ projects: { LUCENE: { team: 'search' } } });
    const found = page.issues.map((issue) => {
      const item = projectMapped(valid(mapJiraIssue(issue, ctx))).get(issue.key)!;
      return [issue.fields.resolution!.name, item.stage];
    });
    expect(found).toEqual(page.issues.map((i) => [i.fields.resolution!.name, EXPECTED[i.fields.resolution!.name]]));
    const counts = new Map<string, number>();
    for (const [resolution] of found) counts.set(resolution!, (counts.get(resolution!) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ Fixed: 6, Duplicate: 1, "Won't Fix": 2, Incomplete: 1 });
  });

  it('is Verified where the charter maps the closed state to verified, and a resolution without a fix still wins', () => {
    const ctx = context({ projects: { LUCENE: { team: 'search' } }, states: { Closed: 'verified' } });
    const stages = page.issues.map((issue) => projectMapped(valid(mapJiraIssue(issue, ctx))).get(issue.key)!.stage);
    expect(stages.filter((s) => s === 'verified')).toHaveLength(6);
    expect(stages.filter((s) => s !== 'verified').sort()).toEqual(['duplicate', 'incomplete', 'wont_fix', 'wont_fix']);
  });
});

describe('Jira webhooks that set and clear a resolution (mattermost-plugin-jira test data)', () => {
  const deliver = (name: string): EventInput[] => {
    const payload = read(`webhooks/jira-mattermost/${name}`);
    const body = Buffer.from(JSON.stringify(payload));
    const { eventType } = jiraWebhooks.describe(payload, body, {}, new Date());
    return valid(jiraWebhooks.map(eventType, payload, context({ projects: { TES: { team: 'web' } } }))!);
  };

  it('resolves, then reopens with the resolution cleared (Cloud, Done)', () => {
    const resolved = deliver('webhook-issue-updated-resolved.json');
    expect(projectMapped(resolved).get('TES-41')!.stage).toBe('fixed');
    const reopened = [...resolved, ...deliver('webhook-issue-updated-reopened.json')];
    const item = projectMapped(reopened).get('TES-41')!;
    expect([item.stage, item.resolution, item.reopenCount]).toEqual(['scheduled', null, 1]);
  });

  it('resolves, then reopens (Server, Resolved → Reopened)', () => {
    const resolved = deliver('webhook-server-issue-updated-resolved.json');
    expect(projectMapped(resolved).get('TES-4')!).toMatchObject({ stage: 'fixed', resolution: 'Done' });
    const item = projectMapped([...resolved, ...deliver('webhook-server-issue-updated-reopened.json')]).get('TES-4')!;
    expect(item.stage).not.toBe('fixed');
    expect(item.resolution).toBeNull();
  });

  it('names the original of a duplicate from a "duplicates" link', () => {
    const ctx = context({ projects: { PAY: { team: 'payments' } } });
    const events = valid(
      mapJiraIssue(
        {
          id: '10009',
          key: 'PAY-9',
          fields: {
            summary: 'Refund twice',
            issuetype: { name: 'Bug' },
            status: { name: 'Closed', id: '6' },
            resolution: { name: 'Duplicate' },
            created: '2026-01-01T10:00:00.000+0000',
            project: { key: 'PAY' },
          },
          changelog: {
            histories: [
              {
                id: '100',
                created: '2026-01-02T10:00:00.000+0000',
                items: [
                  {
                    field: 'Link',
                    fieldtype: 'jira',
                    from: null,
                    fromString: null,
                    to: 'PAY-7',
                    toString: 'This issue duplicates PAY-7',
                  },
                ],
              },
            ],
          },
        },
        ctx,
      ),
    );
    const link = events.find((e) => e.change.kind === 'linked')!;
    expect([link.change.target, link.change.data?.['relation']]).toEqual(['PAY-7', 'duplicates']);
    expect(projectMapped(events).get('PAY-9')!.stage).toBe('duplicate');
  });
});
