import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEventBatch } from '../../domain/event.js';
import type { GithubMapping } from '../../domain/connector.mapping.js';
import type { MapContext } from '../connector.types.js';
import { devlakeRaw, DEVLAKE_REPO } from './github.fixtures.test-helper.js';
import { mapRestIssue, mapRestPull, mapRestWorkflowRun } from './github.mapper.js';
import {
  githubIssueSchema,
  githubPullSchema,
  githubTimelineEventSchema,
  githubWorkflowRunSchema,
} from './github.schema.js';
import { githubWebhooks } from './github.webhook.js';
import { assertWellBehaved, mutated } from './hostile.test-helper.js';

const require = createRequire(import.meta.url);
const definitions = require('@octokit/webhooks-examples') as { name: string; examples: Record<string, unknown>[] }[];
const EVENTS = [
  'issues',
  'issue_comment',
  'label',
  'milestone',
  'pull_request',
  'pull_request_review',
  'deployment',
  'deployment_status',
  'workflow_run',
];
const examples = definitions
  .filter((d) => EVENTS.includes(d.name))
  .flatMap((d) => d.examples.map((payload) => ({ name: d.name, payload })));

const ctx: MapContext<GithubMapping> = {
  mapping: { repos: { 'Codertocat/Hello-World': { team: 'core' }, [DEVLAKE_REPO]: { team: 'core' } } },
  unmapped: () => undefined,
  receivedAt: '2026-05-01T12:00:00.000Z',
};

const issues = devlakeRaw('_raw_github_api_issues').slice(0, 20);
const events = devlakeRaw('_raw_github_api_events').slice(0, 40);
const pulls = devlakeRaw('_raw_github_api_pull_requests').slice(0, 20);
const runs = devlakeRaw('_raw_github_api_runs').slice(0, 20);

describe('GitHub mappers on hostile versions of real payloads (property)', () => {
  it('webhooks: throw only AppErrors and return only valid events', () => {
    assertWellBehaved(
      fc.constantFrom(...examples).chain(({ name, payload }) => mutated(payload).map((p) => ({ name, p }))),
      ({ name, p }) => githubWebhooks.map(name, p, ctx),
    );
  });

  it('backfill: issues with timelines, pull requests and runs that pass their schemas map to valid events', () => {
    const issueWithTimeline = fc.record({
      issue: fc.constantFrom(...issues).chain(mutated),
      timeline: fc.subarray(events).chain((list) => fc.tuple(...list.map(mutated))),
    });
    assertWellBehaved(issueWithTimeline, ({ issue, timeline }) => {
      const parsed = githubIssueSchema.safeParse(issue);
      if (!parsed.success) return null;
      const entries = timeline.flatMap((e) => {
        const t = githubTimelineEventSchema.safeParse(e);
        return t.success ? [t.data] : [];
      });
      return mapRestIssue(DEVLAKE_REPO, parsed.data, ctx, entries);
    });
    assertWellBehaved(fc.constantFrom(...pulls).chain(mutated), (pull) => {
      const parsed = githubPullSchema.safeParse(pull);
      return parsed.success ? mapRestPull(DEVLAKE_REPO, parsed.data, ctx) : null;
    });
    assertWellBehaved(fc.constantFrom(...runs).chain(mutated), (run) => {
      const parsed = githubWorkflowRunSchema.safeParse(run);
      return parsed.success ? mapRestWorkflowRun(DEVLAKE_REPO, parsed.data, ctx) : null;
    });
  });
});

describe('GitHub webhooks with odd references', () => {
  it('skips "fixes" references that make no item key instead of failing the delivery', () => {
    const opened = structuredClone(
      examples.find((e) => e.name === 'pull_request' && e.payload['action'] === 'opened')!,
    );
    const pull = opened.payload['pull_request'] as Record<string, unknown>;
    pull['body'] = `fixes #99999999999999999999999, closes ${'o'.repeat(130)}/r#3, resolves #1 and <script>x</script>`;
    const events = githubWebhooks.map('pull_request', opened.payload, ctx)!;
    expect(validateEventBatch(events).ok).toBe(true);
    expect(events.filter((e) => e.change.kind === 'linked').map((e) => e.change.target)).toEqual([
      'Codertocat/Hello-World#1',
    ]);
  });
});
