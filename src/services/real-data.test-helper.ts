import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'yaml';
import { parseImportMap } from '../connectors/file/import.map.js';
import { mapImportFile } from '../connectors/file/import.mapper.js';
import { devlakeRaw, DEVLAKE_REPO } from '../connectors/github/github.fixtures.test-helper.js';
import { mapRestIssue, mapRestPull } from '../connectors/github/github.mapper.js';
import {
  githubIssueSchema,
  githubPullSchema,
  githubTimelineEventSchema,
  type GithubTimelineEvent,
} from '../connectors/github/github.schema.js';
import { githubWebhooks } from '../connectors/github/github.webhook.js';
import { mapJiraIssue, type JiraIssue } from '../connectors/jira/jira.mapper.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { parseCharter } from '../domain/charter.parse.js';
import type { GithubMapping, JiraMapping } from '../domain/connector.mapping.js';
import type { EventInput } from '../domain/event.js';
import type { LoadedCharter } from './context.js';

/**
 * The real data sets of docs/real-data.md, each as the events Lanes' own path
 * makes of it (a connector's mapper, the webhook provider, or `lanes import`)
 * and what the tracker itself says about how each item ended. Data only from
 * the project's copies (test/fixtures/external, src/connectors/file/fixtures),
 * each with its licence beside it.
 */

/** How the tracker says an item ended, in its own words and in Lanes' closing classes. */
export interface TrackerVerdict {
  /** `open`, `completed`, `verified`, `not_planned` (a closing without a fix, reason unnamed) or a named no-fix reason. */
  expected:
    | 'open'
    | 'completed'
    | 'verified'
    | 'not_planned'
    | 'wont_fix'
    | 'duplicate'
    | 'invalid'
    | 'cannot_reproduce'
    | 'incomplete';
  /** The tracker's words, e.g. `state_reason: not_planned`, `resolution: Won't Do`. */
  words: string;
}

export interface RealDataSet {
  name: string;
  /** Where it comes from (for the table). */
  origin: string;
  /** The path through Lanes. */
  path: string;
  charter: LoadedCharter;
  events: EventInput[];
  /** Item key → what the tracker says; only these items are compared. */
  verdicts: Map<string, TrackerVerdict>;
}

const ROOT = process.cwd();
const NOW = new Date('2026-06-01T00:00:00Z');
const json = <T>(path: string): T => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as T;
const csv = (path: string): Record<string, string>[] =>
  parse(readFileSync(join(ROOT, path), 'utf8'), { columns: true, relax_quotes: true }) as Record<string, string>[];
const quiet = (): void => undefined;

/** A charter from text; throws with its issues when it does not load. */
const charterOf = (text: string, file: string): LoadedCharter => {
  const { charter, issues } = parseCharter(text, file, NOW);
  if (!charter) throw new Error(`${file}: ${JSON.stringify(issues)}`);
  return { charter, index: buildCharterIndex(charter), path: file, loadedAt: NOW.toISOString() };
};

/** A charter for data without one: one team with vacant seats that owns every repository and project. */
const seatsCharter = (repos: readonly string[], projects: readonly string[]): LoadedCharter => {
  const seat = (id: string, role: string) => ({ id, name: `${id} (vacant seat)`, role });
  return charterOf(
    stringify({
      version: 1,
      workspace: { id: 'real-data', name: 'Real data' },
      people: [
        seat('product-seat', 'product-manager'),
        seat('design-seat', 'designer'),
        seat('tech-seat', 'tech-lead'),
        seat('leadership-seat', 'engineering-leadership'),
      ],
      teams: [
        {
          id: 'oss',
          name: 'Open source',
          members: ['product-seat', 'design-seat', 'tech-seat'],
          trio: { product: 'product-seat', design: 'design-seat', tech: 'tech-seat' },
          escalation: 'leadership-seat',
        },
      ],
      connectors: {
        ...(repos.length > 0 ? { github: { repos: Object.fromEntries(repos.map((r) => [r, { team: 'oss' }])) } } : {}),
        ...(projects.length > 0
          ? { jira: { projects: Object.fromEntries(projects.map((p) => [p, { team: 'oss' }])) } }
          : {}),
      },
    }),
    'seats.lanes.yaml',
  );
};

const devlakeCharter = (): LoadedCharter =>
  charterOf(
    readFileSync(join(ROOT, 'test/fixtures/external/devlake-e2e/lanes.yaml'), 'utf8'),
    'devlake-e2e/lanes.yaml',
  );

/** A Jira resolution (or its absence, with the status category) in Lanes' closing classes. */
const jiraVerdict = (resolution: string | null | undefined, category: string | null | undefined): TrackerVerdict => {
  if (!resolution) {
    return category === 'done'
      ? { expected: 'completed', words: 'status done, no resolution' }
      : { expected: 'open', words: 'unresolved' };
  }
  const r = resolution.toLowerCase();
  const expected: TrackerVerdict['expected'] = /won.?t|not a bug/.test(r)
    ? 'wont_fix'
    : /duplicate/.test(r)
      ? 'duplicate'
      : /incomplete/.test(r)
        ? 'incomplete'
        : /cannot reproduce/.test(r)
          ? 'cannot_reproduce'
          : 'completed';
  return { expected, words: `resolution ${resolution}` };
};

/** The maintainers' own labels that name how an issue ended without a fix (this oracle's list, not Lanes'). */
const LABEL_REASONS: [RegExp, TrackerVerdict['expected']][] = [
  [/^(type: ?|status: ?|resolution: ?)?duplicate$/i, 'duplicate'],
  [/^(status: ?|resolution: ?)?invalid$/i, 'invalid'],
  [/^(status: ?|resolution: ?)?(wontfix|won't fix|stale)$/i, 'wont_fix'],
];

/**
 * A GitHub issue's state and `state_reason` (null before 2022: closed means
 * completed). GitHub closes as `completed` unless the closer picks another
 * reason, so where the maintainers' own label names a reason without a fix
 * (invalid, wontfix, stale, duplicate) on an issue closed as completed, the
 * label is the tracker's word.
 */
const githubVerdict = (
  state: string | undefined,
  reason: string | null | undefined,
  labels: readonly string[] = [],
): TrackerVerdict => {
  if (state !== 'closed') return { expected: 'open', words: 'open' };
  if (reason === 'not_planned') return { expected: 'not_planned', words: 'state_reason not_planned' };
  if (reason === 'duplicate') return { expected: 'duplicate', words: 'state_reason duplicate' };
  const said = reason ? `state_reason ${reason}` : 'closed (no state_reason)';
  for (const label of labels) {
    const named = LABEL_REASONS.find(([pattern]) => pattern.test(label.trim()));
    if (named) return { expected: named[1], words: `${said}, label "${label}"` };
  }
  return { expected: 'completed', words: said };
};

const labelNames = (labels: unknown): string[] =>
  Array.isArray(labels)
    ? labels.map((l) => (typeof l === 'string' ? l : String((l as { name?: unknown }).name ?? '')))
    : [];

// ---------------------------------------------------------------- DevLake

type RawJira = JiraIssue & {
  fields: { resolution?: { name: string } | null; status?: { statusCategory?: { key?: string } } };
};

const devlakeJiraIssues = (): RawJira[] =>
  csv('test/fixtures/external/devlake-e2e/jira/e2e/raw_tables/_raw_jira_api_issues.csv').map(
    (r) => JSON.parse(r['data']!) as RawJira,
  );

const jiraStatusCategories = (): Map<string, string> =>
  new Map(
    csv('test/fixtures/external/devlake-e2e/jira/e2e/raw_tables/_raw_jira_api_status.csv').map((r) => {
      const s = JSON.parse(r['data']!) as { id: string; statusCategory: { key: string } };
      return [s.id, s.statusCategory.key] as const;
    }),
  );

const devlakeJira = (): RealDataSet => {
  const charter = devlakeCharter();
  const issues = devlakeJiraIssues();
  const statusCategories = jiraStatusCategories();
  const ctx = { mapping: charter.charter.connectors?.jira as JiraMapping, unmapped: quiet };
  return {
    name: 'DevLake Jira (merico.atlassian.net EE, K5)',
    origin: 'Apache DevLake e2e, `_raw_jira_api_issues.csv` (Apache-2.0)',
    path: 'Jira backfill mapper (`mapJiraIssue`)',
    charter,
    events: issues.flatMap((issue) => mapJiraIssue(issue, ctx, { statusCategories })),
    verdicts: new Map(
      issues.map((i) => [i.key, jiraVerdict(i.fields.resolution?.name, i.fields.status?.statusCategory?.key)]),
    ),
  };
};

const devlakeImport = (): RealDataSet => {
  const fixtures = join(ROOT, 'src/connectors/file/fixtures');
  const read = (name: string) => readFileSync(join(fixtures, name), 'utf8');
  const map = parseImportMap(read('devlake-jira.map.yaml'), 'devlake-jira.map.yaml');
  const mapped = mapImportFile(read('devlake-jira-changelog.csv'), 'csv', map, {
    items: { text: read('devlake-jira-issues.csv'), format: 'csv' },
  });
  // The tracker's resolution: the raw Jira issue where DevLake has it, else the item's own status.
  const raw = new Map(devlakeJiraIssues().map((i) => [i.key, i]));
  const verdicts = new Map<string, TrackerVerdict>();
  for (const row of csv('src/connectors/file/fixtures/devlake-jira-issues.csv')) {
    const issue = raw.get(row['issue_key']!);
    verdicts.set(
      row['issue_key']!,
      issue
        ? jiraVerdict(issue.fields.resolution?.name, issue.fields.status?.statusCategory?.key)
        : jiraVerdict(null, /closed|已完成|done/i.test(row['status'] ?? '') ? 'done' : 'new'),
    );
  }
  return {
    name: 'DevLake Jira changelog as history rows',
    origin: 'Apache DevLake e2e, issue_trace `issue_changelogs.csv` (Apache-2.0), converted',
    path: '`lanes import --items` (change-history rows)',
    charter: devlakeCharter(),
    events: mapped.events,
    verdicts,
  };
};

const devlakeGithub = (): RealDataSet => {
  const charter = devlakeCharter();
  const ctx = { mapping: charter.charter.connectors?.github as GithubMapping, unmapped: quiet };
  type RawEvent = GithubTimelineEvent & { issue: Record<string, unknown> & { number: number } };
  const timeline = devlakeRaw<RawEvent>('_raw_github_api_events');
  const issues = new Map<number, Record<string, unknown>>();
  for (const issue of devlakeRaw<{ number: number }>('_raw_github_api_issues')) issues.set(issue.number, issue);
  for (const e of timeline) if (!issues.has(e.issue.number)) issues.set(e.issue.number, e.issue);
  const events: EventInput[] = [];
  const verdicts = new Map<string, TrackerVerdict>();
  for (const raw of issues.values()) {
    const issue = githubIssueSchema.parse(raw);
    if (issue.pull_request) continue;
    const own = timeline
      .filter((e) => e.issue.number === issue.number)
      .map(({ issue: _issue, ...rest }) => githubTimelineEventSchema.parse(rest))
      .sort((a, b) => a.created_at!.localeCompare(b.created_at!) || a.id! - b.id!);
    const mapped = mapRestIssue(DEVLAKE_REPO, issue, ctx, own);
    events.push(...mapped);
    const key = mapped[0]?.item?.key;
    if (key) verdicts.set(key, githubVerdict(issue.state, issue.state_reason, labelNames(issue.labels)));
  }
  for (const pull of devlakeRaw('_raw_github_api_pull_requests')) {
    events.push(...mapRestPull(DEVLAKE_REPO, githubPullSchema.parse(pull), ctx));
  }
  return {
    name: 'DevLake GitHub (panjf2000/ants)',
    origin: 'Apache DevLake e2e, `_raw_github_api_{issues,events,pull_requests}.csv` (Apache-2.0)',
    path: 'GitHub backfill mapper (`mapRestIssue` with timelines, `mapRestPull`)',
    charter,
    events,
    verdicts,
  };
};

// ---------------------------------------------------------------- other real data

interface InexIssue {
  owner: string;
  repo: string;
  number: number;
  html_url: string;
  title: string;
  state: string;
  state_reason: string | null;
  created_at: string;
  closed_at: string | null;
  author: { username: string };
  closed_by: { username: string } | null;
  labels: string[];
  milestone: { title: string } | null;
}

const inexBug = (): RealDataSet => {
  const issues = readFileSync(join(ROOT, 'test/fixtures/external/github-inex-bug/issues.sample.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as InexIssue);
  const repos = [...new Set(issues.map((i) => `${i.owner}/${i.repo}`))];
  const charter = seatsCharter(repos, []);
  const ctx = { mapping: charter.charter.connectors?.github as GithubMapping, unmapped: quiet };
  const events: EventInput[] = [];
  const verdicts = new Map<string, TrackerVerdict>();
  for (const i of issues) {
    const issue = githubIssueSchema.parse({
      number: i.number,
      title: i.title,
      html_url: i.html_url,
      state: i.state,
      state_reason: i.state_reason,
      created_at: i.created_at,
      closed_at: i.closed_at,
      user: { login: i.author.username },
      closed_by: i.closed_by ? { login: i.closed_by.username } : null,
      labels: i.labels.map((name) => ({ name })),
      milestone: i.milestone,
    });
    const mapped = mapRestIssue(`${i.owner}/${i.repo}`, issue, ctx);
    events.push(...mapped);
    const key = mapped[0]?.item?.key;
    if (key) verdicts.set(key, githubVerdict(i.state, i.state_reason, i.labels));
  }
  return {
    name: 'InEx-Bug GitHub issues (sample)',
    origin: 'STASER-Lab InEx-Bug, `issues.sample.jsonl` (MIT)',
    path: 'GitHub backfill mapper (`mapRestIssue`, issue list without timelines)',
    charter,
    events,
    verdicts,
  };
};

const lucene = (): RealDataSet => {
  const page = json<{ issues: RawJira[] }>(
    'test/fixtures/external/jira-apache-lucene/search_LUCENE_first10.trimmed.json',
  );
  const charter = seatsCharter([], ['LUCENE']);
  const ctx = { mapping: charter.charter.connectors?.jira as JiraMapping, unmapped: quiet };
  return {
    name: 'Apache Lucene Jira (LUCENE-1..10)',
    origin: 'issues.apache.org search page via mikemccand/luceneserver (Apache-2.0)',
    path: 'Jira backfill mapper (`mapJiraIssue`, search page without changelogs)',
    charter,
    events: page.issues.flatMap((issue) => mapJiraIssue(issue, ctx)),
    verdicts: new Map(page.issues.map((i) => [i.key, jiraVerdict(i.fields.resolution?.name, 'done')])),
  };
};

const giteaMock = (): RealDataSet => {
  const issues = json<Record<string, unknown>[]>('test/fixtures/external/github-gitea-mock/issues.json');
  const repo = 'go-gitea/test_repo';
  const charter = seatsCharter([repo], []);
  const ctx = { mapping: charter.charter.connectors?.github as GithubMapping, unmapped: quiet };
  const events: EventInput[] = [];
  const verdicts = new Map<string, TrackerVerdict>();
  for (const raw of issues) {
    const issue = githubIssueSchema.parse(raw);
    const mapped = mapRestIssue(repo, issue, ctx);
    events.push(...mapped);
    const key = mapped[0]?.item?.key;
    if (key) verdicts.set(key, githubVerdict(issue.state, issue.state_reason, labelNames(issue.labels)));
  }
  return {
    name: 'Recorded GitHub traffic (Gitea mock)',
    origin: "Gitea's recorded GitHub REST response (MIT)",
    path: 'GitHub backfill mapper (`mapRestIssue`, issue list without timelines)',
    charter,
    events,
    verdicts,
  };
};

const changelogGenerator = (): RealDataSet => {
  const data = json<{ repo: string; closed_issues_page: Record<string, unknown>[]; issue_14_events: unknown[] }>(
    'test/fixtures/external/github-changelog-generator/closed-issues.json',
  );
  const charter = seatsCharter([data.repo], []);
  const ctx = { mapping: charter.charter.connectors?.github as GithubMapping, unmapped: quiet };
  const events: EventInput[] = [];
  const verdicts = new Map<string, TrackerVerdict>();
  for (const raw of data.closed_issues_page) {
    const issue = githubIssueSchema.parse(raw);
    if (issue.pull_request) continue;
    const timeline =
      issue.number === 14 ? data.issue_14_events.map((e) => githubTimelineEventSchema.parse(e)) : undefined;
    const mapped = mapRestIssue(data.repo, issue, ctx, timeline);
    events.push(...mapped);
    const key = mapped[0]?.item?.key;
    if (key) verdicts.set(key, githubVerdict(issue.state, issue.state_reason, labelNames(issue.labels)));
  }
  return {
    name: 'Recorded GitHub traffic (changelog_test)',
    origin: 'github-changelog-generator VCR cassettes, 2015-2016 (MIT)',
    path: 'GitHub backfill mapper (`mapRestIssue`; #14 with its events)',
    charter,
    events,
    verdicts,
  };
};

const webhookExamples = async (): Promise<RealDataSet> => {
  const all = (await import('@octokit/webhooks-examples')).default as unknown as {
    name: string;
    examples: {
      action?: string;
      issue?: { number: number; state?: string; state_reason?: string | null };
      repository?: { full_name: string };
    }[];
  }[];
  const examples = all.find((g) => g.name === 'issues')!.examples.filter((e) => e.action !== 'deleted');
  const repos = [...new Set(examples.map((e) => e.repository!.full_name))];
  const charter = seatsCharter(repos, []);
  const ctx = { mapping: charter.charter.connectors?.github as GithubMapping, unmapped: quiet };
  const events: EventInput[] = [];
  const verdicts = new Map<string, TrackerVerdict>();
  for (const example of examples) {
    const mapped = githubWebhooks.map(`issues.${example.action}`, example, ctx) ?? [];
    events.push(...mapped);
    const key = mapped.find((e) => e.item)?.item?.key;
    if (key) verdicts.set(key, githubVerdict(example.issue?.state, example.issue?.state_reason));
  }
  return {
    name: '@octokit/webhooks-examples `issues.*`',
    origin: 'npm @octokit/webhooks-examples (MIT), a dev dependency',
    path: 'GitHub webhook provider',
    charter,
    events,
    verdicts,
  };
};

const BUGZILLA_RESOLUTIONS: Record<string, TrackerVerdict['expected']> = {
  FIXED: 'completed',
  INVALID: 'invalid',
  WONTFIX: 'wont_fix',
  DUPLICATE: 'duplicate',
  WORKSFORME: 'cannot_reproduce',
  INCOMPLETE: 'incomplete',
};

/** The Bugzilla-shaped fixture (written for this project, not real data), through `lanes import`. */
const bugzillaFixture = (): RealDataSet => {
  const fixtures = join(ROOT, 'src/connectors/file/fixtures');
  const read = (name: string) => readFileSync(join(fixtures, name), 'utf8');
  const map = parseImportMap(read('bugzilla.map.yaml'), 'bugzilla.map.yaml');
  const mapped = mapImportFile(read('bugzilla-activity.csv'), 'csv', map, {
    items: { text: read('bugzilla-bugs.csv'), format: 'csv' },
  });
  const verdicts = new Map<string, TrackerVerdict>();
  for (const bug of csv('src/connectors/file/fixtures/bugzilla-bugs.csv')) {
    const status = bug['bug_status']!;
    const resolution = bug['resolution'] ?? '';
    const words = `${status}${resolution ? ` ${resolution}` : ''}`;
    const expected: TrackerVerdict['expected'] =
      resolution === ''
        ? 'open'
        : status === 'VERIFIED' && resolution === 'FIXED'
          ? 'verified'
          : (BUGZILLA_RESOLUTIONS[resolution] ?? 'completed');
    verdicts.set(`BZ-${bug['bug_id']}`, { expected, words });
  }
  return {
    name: 'Bugzilla-shaped fixture (written here, not real)',
    origin: '`src/connectors/file/fixtures/bugzilla-*.csv`',
    path: '`lanes import --items` (change-history rows)',
    charter: charterOf(read('bugzilla.lanes.yaml'), 'bugzilla.lanes.yaml'),
    events: mapped.events,
    verdicts,
  };
};

/** Every real data set of docs/real-data.md (and, last, the Bugzilla-shaped fixture for comparison). */
export const realDataSets = async (): Promise<RealDataSet[]> => [
  devlakeJira(),
  devlakeImport(),
  devlakeGithub(),
  inexBug(),
  lucene(),
  giteaMock(),
  changelogGenerator(),
  await webhookExamples(),
  bugzillaFixture(),
];
