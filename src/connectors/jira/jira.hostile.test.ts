import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { JiraMapping } from '../../domain/connector.mapping.js';
import type { MapContext } from '../connector.types.js';
import { assertWellBehaved, mutated } from '../github/hostile.test-helper.js';
import { mapJiraIssue, type JiraIssue } from './jira.mapper.js';
import { jiraWebhooks } from './jira.webhook.js';

const HOOKS = join(process.cwd(), 'test/fixtures/external/webhooks/jira-and-gitlab-mobitel');
const DEVLAKE = join(process.cwd(), 'test/fixtures/external/devlake-e2e/jira/e2e/raw_tables');

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'gitlab' ? [] : files(path);
    return name.endsWith('.json') ? [path] : [];
  });

const hooks = files(HOOKS).map((f) => JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>);
const issues = (
  parse(readFileSync(join(DEVLAKE, '_raw_jira_api_issues.csv'), 'utf8'), {
    columns: true,
    relax_quotes: true,
  }) as Record<string, string>[]
)
  .slice(0, 12)
  .map((r) => JSON.parse(r['data']!) as JiraIssue);

const mapping: JiraMapping = {
  projects: { INDEV: { team: 'platform' }, EE: { team: 'enterprise' } },
  fields: { severity: 'customfield_10050', story_points: 'customfield_10024', customer: 'customfield_10060' },
};
const ctx: MapContext<JiraMapping> = { mapping, unmapped: () => undefined };

describe('Jira mappers on hostile versions of real payloads (property)', () => {
  it('webhooks: throw only AppErrors and return only valid events', () => {
    assertWellBehaved(fc.constantFrom(...hooks).chain(mutated), (payload) => {
      const type = (payload as { webhookEvent?: unknown } | null)?.webhookEvent;
      return jiraWebhooks.map(typeof type === 'string' ? type : 'jira:issue_updated', payload, ctx);
    });
  });

  it('backfill: throws only AppErrors and returns only valid events', () => {
    assertWellBehaved(fc.constantFrom(...issues).chain(mutated), (issue) => mapJiraIssue(issue as JiraIssue, ctx));
  });
});
