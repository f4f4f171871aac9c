import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GithubMapping } from '../../domain/connector.mapping.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import { stagePolicyOf } from '../../domain/stage.js';
import type { Charter } from '../../domain/charter.schema.js';
import { projectMapped } from '../stages.test-helper.js';
import { closingResolution, duplicateOfComment, milestoneMeaning } from './github.closing.js';
import { recordingContext } from './github.fixtures.test-helper.js';
import { mapRestIssue, mapRestPull } from './github.mapper.js';
import { githubIssueSchema, type GithubTimelineEvent } from './github.schema.js';
import { githubWebhooks } from './github.webhook.js';
import {
  agreeingStages,
  closingPullOf,
  inexSample,
  repoOf,
  restIssueOf,
  timelineOf,
  trackerReasonOf,
  type InexIssue,
} from './inex.test-helper.js';

const require = createRequire(import.meta.url);
const definitions = require('@octokit/webhooks-examples') as { name: string; examples: Record<string, unknown>[] }[];
const example = (name: string, action: string) =>
  structuredClone(definitions.find((d) => d.name === name)!.examples.find((e) => e['action'] === action)!);

const valid = (events: EventInput[]): EventInput[] => {
  const checked = validateEventBatch(events);
  if (!checked.ok) throw new Error(JSON.stringify(checked.rejections));
  return checked.events;
};

const sample = inexSample();
const repos = Object.fromEntries(sample.map((r) => [repoOf(r), { team: 'web', default_kind: 'bug' as const }]));

/** Backfill of one real issue (and the pull request that closed it) through the REST mapping. */
const backfill = (r: InexIssue, mapping: GithubMapping): EventInput[] => {
  const { ctx } = recordingContext(mapping);
  const pull = closingPullOf(r);
  return valid([
    ...mapRestIssue(repoOf(r), restIssueOf(r), ctx, timelineOf(r)),
    ...(pull ? mapRestPull(repoOf(r), pull, ctx) : []),
  ]);
};

const keyOf = (r: InexIssue) => `${repoOf(r)}#${r.number}`;

describe('closing reasons on 40 real closed GitHub issues (InEx-Bug)', () => {
  it('covers every closing the data set has', () => {
    const reasons = new Map<string, number>();
    for (const r of sample) reasons.set(trackerReasonOf(r), (reasons.get(trackerReasonOf(r)) ?? 0) + 1);
    expect(Object.fromEntries(reasons)).toEqual({
      not_planned: 6,
      invalid: 4,
      wontfix: 2,
      stale: 4,
      duplicate: 3,
      completed: 21,
    });
    expect(sample.filter((r) => r.closing_pr?.merged)).toHaveLength(10);
  });

  it('agrees with the tracker on every issue once the charter names the repository-specific duplicate label', () => {
    const mapping: GithubMapping = { repos, labels: { 'type:duplicate': { resolution: 'duplicate' } } };
    const disagreements: string[] = [];
    for (const r of sample) {
      const item = projectMapped(backfill(r, mapping)).get(keyOf(r))!;
      if (!agreeingStages(trackerReasonOf(r)).includes(item.stage))
        disagreements.push(`${keyOf(r)}: ${trackerReasonOf(r)} → ${item.stage}`);
      expect(item.stage).not.toBe('live');
    }
    expect(disagreements).toEqual([]);
  });

  it('agrees on 38 of 40 with Lanes’ defaults alone: the two `type:duplicate` issues read as fixed', () => {
    const disagreements: string[] = [];
    for (const r of sample) {
      const item = projectMapped(backfill(r, { repos })).get(keyOf(r))!;
      if (!agreeingStages(trackerReasonOf(r)).includes(item.stage)) disagreements.push(`${r.html_url} ${item.stage}`);
    }
    expect(disagreements).toEqual([
      'https://github.com/prettier/prettier/issues/5051 fixed',
      'https://github.com/prettier/prettier/issues/2645 fixed',
    ]);
  });

  it('is Fix ready when a merged pull request closed it, and Live only when the charter says closing is releasing', () => {
    const byPr = sample.find((r) => r.number === 1717)!;
    expect(projectMapped(backfill(byPr, { repos })).get(keyOf(byPr))!.stage).toBe('fix_ready');
    const charter = { teams: [{ id: 'web', released_on_close: true }] } as unknown as Charter;
    const policy = stagePolicyOf(charter);
    const mapping: GithubMapping = { repos, labels: { 'type:duplicate': { resolution: 'duplicate' } } };
    for (const r of sample) {
      const item = projectMapped(backfill(r, mapping), policy).get(keyOf(r))!;
      const reason = trackerReasonOf(r);
      if (reason === 'completed') expect(item.stage, r.html_url).toBe('live');
      else expect(item.stage, r.html_url).not.toBe('live');
    }
  });

  it('names the original of a duplicate from a maintainer’s "Duplicate of #N"', () => {
    const r = sample.find((i) => i.number === 1550 && i.repo === 'eslint-plugin-react')!;
    const events = backfill(r, { repos });
    expect(events.filter((e) => e.change.kind === 'linked').map((e) => [e.change.target, e.change.data])).toEqual([
      ['yannickcr/eslint-plugin-react#1543', { relation: 'duplicates' }],
    ]);
    expect(projectMapped(events).get(keyOf(r))!.stage).toBe('duplicate');
    // A contributor's "Duplicate of <link>" names the original but does not mark it (GitHub would not either).
    const contributor = sample.find((i) => i.number === 1515 && i.repo === 'date-fns')!;
    const linked = backfill(contributor, { repos }).filter((e) => e.change.kind === 'linked');
    expect(linked.map((e) => e.change.target)).toEqual(['date-fns/date-fns.org#124']);
  });

  it('gives issues without a kind label the repository’s default kind, never to pull requests', () => {
    const byPr = sample.find((r) => r.number === 1080)!;
    const items = projectMapped(backfill(byPr, { repos }));
    expect(items.get(keyOf(byPr))!.kind).toBe('bug');
    expect(items.get(`${repoOf(byPr)}#${byPr.closing_pr!.number}`)!.kind).toBe('task');
    const bare = projectMapped(backfill(byPr, { repos: { [repoOf(byPr)]: { team: 'web' } } }));
    expect(bare.get(keyOf(byPr))!.kind).toBe('task');
  });

  it('says the same through webhooks: an issues.closed delivery of each issue', () => {
    const skeleton = example('issues', 'reopened');
    for (const r of sample) {
      const { ctx } = recordingContext({ repos });
      const payload = {
        ...skeleton,
        action: 'closed',
        repository: { ...(skeleton['repository'] as object), full_name: repoOf(r) },
        issue: { ...(skeleton['issue'] as object), ...restIssueOf(r) },
      };
      const closed = valid(githubWebhooks.map('issues.closed', payload, ctx)!);
      const viaHook = projectMapped(closed).get(keyOf(r))!;
      const labelled = ['invalid', 'wontfix', 'stale', 'not_planned'].includes(trackerReasonOf(r));
      if (labelled) expect(viaHook.stage, r.html_url).toBe(agreeingStages(trackerReasonOf(r))[0]);
      else if (trackerReasonOf(r) === 'completed') expect(viaHook.stage, r.html_url).toBe('fixed');
      expect(closed[0]!.change.data?.['stateReason']).toBe(r.state_reason);
    }
  });
});

describe('a recorded REST page (Gitea’s GitHub mock): one issue labelled duplicate yet closed as completed', () => {
  it('shows the label’s duplicate, and the other issue as fixed with the release not tracked', () => {
    const page = JSON.parse(
      readFileSync(join(process.cwd(), 'test/fixtures/external/github-gitea-mock/issues.json'), 'utf8'),
    ) as unknown[];
    const { ctx } = recordingContext({ repos: { 'go-gitea/test_repo': { team: 'web' } } });
    const events = valid(page.flatMap((raw) => mapRestIssue('go-gitea/test_repo', githubIssueSchema.parse(raw), ctx)));
    const items = projectMapped(events);
    expect([items.get('go-gitea/test_repo#1')!.stage, items.get('go-gitea/test_repo#2')!.stage]).toEqual([
      'fixed',
      'duplicate',
    ]);
    expect(items.get('go-gitea/test_repo#1')!.kind).toBe('bug');
  });
});

describe('closing reasons from GitHub’s own payloads (@octokit/webhooks-examples)', () => {
  it('maps pull requests closed merged and unmerged, transferred and deleted issues', () => {
    const { ctx } = recordingContext(undefined);
    const stages = (name: string, action: string, index = 0) => {
      const payload = definitions.find((d) => d.name === name)!.examples.filter((e) => e['action'] === action)[index]!;
      const events = valid(githubWebhooks.map(`${name}.${action}`, structuredClone(payload), ctx)!);
      return [...projectMapped(events).values()].map((i) => i.stage);
    };
    // The package's two closed pull requests were closed unmerged; a merge is the same payload with merged_at set.
    expect(stages('pull_request', 'closed')).toEqual(['wont_fix']);
    const closedPull = example('pull_request', 'closed');
    const pr = closedPull['pull_request'] as Record<string, unknown>;
    Object.assign(pr, {
      merged: true,
      merged_at: pr['closed_at'],
      merge_commit_sha: 'c4295bd74fb0f4fbd6d6a22d47d4f7b9ed7e57ec',
    });
    const merged = valid(githubWebhooks.map('pull_request.closed', closedPull, ctx)!);
    expect([...projectMapped(merged).values()].map((i) => i.stage)).toEqual(['fix_ready']);
    expect(stages('issues', 'transferred')).toEqual(['duplicate']);
    expect(stages('issues', 'deleted')).toEqual(['wont_fix']);
  });

  it('reads state_reason on an issues.closed delivery: completed, not_planned, duplicate', () => {
    const { ctx } = recordingContext(undefined);
    const base = example('issues', 'reopened');
    const issue = githubIssueSchema.parse(base['issue']);
    const stageOf = (reason: string | null, labels: string[] = []) => {
      const closed = { ...issue, state: 'closed', state_reason: reason, closed_at: '2024-01-02T00:00:00Z', labels };
      const events = valid(githubWebhooks.map('issues.closed', { ...base, action: 'closed', issue: closed }, ctx)!);
      return projectMapped(events).values().next().value!.stage;
    };
    expect(stageOf('completed')).toBe('fixed');
    expect(stageOf(null)).toBe('fixed');
    expect(stageOf('not_planned')).toBe('wont_fix');
    expect(stageOf('duplicate')).toBe('duplicate');
    expect(stageOf('completed', ['duplicate'])).toBe('duplicate');
    expect(stageOf('completed', ['worksforme'])).toBe('cannot_reproduce');
    expect(stageOf('not_planned', ['invalid'])).toBe('wont_fix');
  });
});

describe('workflows kept in milestones and labels', () => {
  const mapping: GithubMapping = {
    repos: { 'webcompat/web-bugs': { team: 'web', default_kind: 'bug' } },
    milestones: {
      needstriage: { state: 'new' },
      needsdiagnosis: { state: 'acknowledged' },
      sitewait: { state: 'waiting' },
      duplicate: { resolution: 'duplicate' },
      worksforme: { resolution: 'cannot_reproduce' },
      'non-compat': { resolution: 'invalid' },
    },
    labels: { 'status-needsinfo': { state: 'waiting' } },
  };
  const at = (minute: number) => new Date(Date.UTC(2024, 0, 1, 0, minute)).toISOString();
  const issue = githubIssueSchema.parse({
    number: 7,
    title: 'Site does not load',
    state: 'closed',
    state_reason: 'completed',
    created_at: at(0),
    closed_at: at(50),
    labels: [],
    user: { login: 'reporter' },
  });
  const stagesAlong = (timeline: GithubTimelineEvent[]) => {
    const { ctx } = recordingContext(mapping);
    const events = valid(mapRestIssue('webcompat/web-bugs', issue, ctx, timeline));
    const stages: string[] = [];
    for (let i = 1; i <= events.length; i++) {
      const stage = projectMapped(events.slice(0, i)).get('webcompat/web-bugs#7')!.stage;
      if (stages.at(-1) !== stage) stages.push(stage);
    }
    return stages;
  };

  it('moves through the charter’s milestones and ends as the milestone says', () => {
    const milestone = (title: string, minute: number, event = 'milestoned'): GithubTimelineEvent => ({
      id: minute,
      event,
      milestone: { title },
      created_at: at(minute),
    });
    expect(
      stagesAlong([
        milestone('needstriage', 1),
        milestone('needstriage', 10, 'demilestoned'),
        milestone('needsdiagnosis', 10),
        milestone('needsdiagnosis', 20, 'demilestoned'),
        milestone('sitewait', 20),
        milestone('sitewait', 49, 'demilestoned'),
        milestone('duplicate', 49),
        { id: 50, event: 'closed', state_reason: 'completed', created_at: at(50) },
        // A later triage milestone never reopens the closed issue.
        milestone('needstriage', 55),
      ]),
    ).toEqual(['reported', 'acknowledged', 'waiting', 'duplicate']);
  });

  it('moves through workflow labels, and a closing-reason label wins over "completed"', () => {
    expect(
      stagesAlong([
        { id: 1, event: 'labeled', label: { name: 'status-needsinfo' }, created_at: at(1) },
        { id: 2, event: 'unlabeled', label: { name: 'status-needsinfo' }, created_at: at(5) },
        { id: 3, event: 'labeled', label: { name: 'worksforme' }, created_at: at(49) },
        { id: 50, event: 'closed', state_reason: 'completed', created_at: at(50) },
      ]),
    ).toEqual(['reported', 'waiting', 'cannot_reproduce']);
  });

  it('marks and unmarks duplicates from the timeline, linking the original when GitHub names it', () => {
    const { ctx } = recordingContext(mapping);
    const events = valid(
      mapRestIssue('webcompat/web-bugs', issue, ctx, [
        { id: 1, event: 'marked_as_duplicate', created_at: at(2), canonical: { number: 3 } } as GithubTimelineEvent,
        { id: 50, event: 'closed', state_reason: 'completed', created_at: at(50) },
      ]),
    );
    expect(events.find((e) => e.change.kind === 'linked')?.change.target).toBe('webcompat/web-bugs#3');
    expect(projectMapped(events).get('webcompat/web-bugs#7')!.stage).toBe('duplicate');
    const unmarked = valid(
      mapRestIssue('webcompat/web-bugs', issue, ctx, [
        { id: 1, event: 'marked_as_duplicate', created_at: at(2) },
        { id: 2, event: 'unmarked_as_duplicate', created_at: at(3) },
        { id: 50, event: 'closed', state_reason: 'completed', created_at: at(50) },
      ]),
    );
    expect(projectMapped(unmarked).get('webcompat/web-bugs#7')!.stage).toBe('fixed');
  });
});

describe('closing helpers', () => {
  it('prefers GitHub’s reason unless it is the default and a label or milestone says more', () => {
    expect(closingResolution(undefined, 'not_planned', ['duplicate'])).toBe('not_planned');
    expect(closingResolution(undefined, 'completed', ['bug', 'wontfix'])).toBe('wont_fix');
    expect(closingResolution(undefined, null, ['stale'])).toBe('wont_fix');
    expect(closingResolution(undefined, 'completed', [])).toBe('completed');
    expect(closingResolution({ repos: {}, milestones: { fixed: { state: 'done' } } }, 'completed', [], 'fixed')).toBe(
      'completed',
    );
    expect(milestoneMeaning(undefined, '1.0.0', true)).toEqual([]);
  });

  it('reads "Duplicate of" the way GitHub does: at the start of a comment', () => {
    expect(duplicateOfComment('o/r', 'Duplicate of #12')).toBe('o/r#12');
    expect(duplicateOfComment('o/r', 'duplicate of other/repo#3 — closing')).toBe('other/repo#3');
    expect(duplicateOfComment('o/r', 'Duplicate of https://github.com/a/b/issues/9')).toBe('a/b#9');
    expect(duplicateOfComment('o/r', 'This seems to be a duplicate of #266')).toBeNull();
    expect(duplicateOfComment('o/r', null)).toBeNull();
  });
});
