import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  attributeIncidents,
  carriedChanges,
  previousSuccessful,
  prTimings,
  type AttributableDeployment,
  type DeploymentRecord,
  type IncidentRecord,
  type PrRecord,
} from './dora.js';

/**
 * Apache DevLake's hand-written DORA e2e tables (copied into
 * test/fixtures/external/devlake-e2e/dora, Apache-2.0): Lanes' linking,
 * attribution and per-PR timings against DevLake's expected outputs.
 * docs/dora-devlake.md explains every difference.
 */

const DORA = join(process.cwd(), 'test/fixtures/external/devlake-e2e/dora/e2e');
type Row = Record<string, string>;
const csv = (path: string): Row[] =>
  parse(readFileSync(join(DORA, path), 'utf8'), { columns: true, relax_quotes: true }) as Row[];

/** DevLake writes ISO instants and also `2023-4-11 4:51:47` (UTC). */
const time = (text: string | undefined): number | null => {
  if (!text) return null;
  if (text.includes('T')) return Date.parse(text);
  const [date, clock = '0:0:0'] = text.trim().split(' ');
  const [y, mo, d] = date!.split('-').map(Number);
  const [h, mi, s] = clock.split(':').map(Number);
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
};

const deploymentOf = (r: Row): DeploymentRecord => ({
  id: r['id']!,
  group: `${r['cicd_scope_id']}/${r['repo_url']}`,
  environment: r['environment']!,
  production: r['environment'] === 'PRODUCTION',
  success: r['result'] === 'SUCCESS',
  at: time(r['finished_date'])!,
  startedAt: time(r['started_date'])!,
});

describe('DevLake prev_success_deployment_commit', () => {
  it('links every deployment commit to the previous successful one of its scope, repo and environment', () => {
    const before = csv('prev_success_deployment_commit/cicd_deployment_commits_before.csv');
    const after = csv('prev_success_deployment_commit/cicd_deployment_commits_after.csv');
    const previous = previousSuccessful(before.map(deploymentOf));
    const actual = Object.fromEntries(before.map((r) => [r['id']!, previous.get(r['id']!) ?? '']));
    const expected = Object.fromEntries(after.map((r) => [r['id']!, r['prev_success_deployment_commit_id']!]));
    expect(actual).toEqual(expected);
  });
});

describe('DevLake connect_incident_to_deployment', () => {
  const dir = 'connect_incident_to_deployment';
  const mapping = csv(`${dir}/raw_tables/project_mapping.csv`);
  const projectsOf = (table: string, id: string): string[] =>
    mapping.filter((m) => m['table'] === table && m['row_id'] === id).map((m) => m['project_name']!);
  const deployments: AttributableDeployment[] = csv(
    `${dir}/prev_success_deployment_commit/cicd_deployment_commits_after.csv`,
  ).map((r) => ({
    id: r['cicd_deployment_id']!,
    scopes: projectsOf('cicd_scopes', r['cicd_scope_id']!),
    at: time(r['finished_date'])!,
    production: r['environment'] === 'PRODUCTION',
    success: r['result'] === 'SUCCESS',
  }));
  const raw = csv(`${dir}/raw_tables/incidents.csv`);
  const incidents: IncidentRecord[] = raw.flatMap((r) =>
    projectsOf(r['table']!, r['scope_id']!).map((project) => ({
      id: r['id']!,
      scope: project,
      declaredAt: time(r['created_date'])!,
      resolvedAt: time(r['updated_date']),
    })),
  );
  const expected = csv(`${dir}/snapshot_tables/project_incident_deployment_relationships.csv`).map((r) => ({
    id: r['id'],
    project: r['project_name'],
    deployment: r['deployment_id'],
  }));
  const relationships = (windowHours: number) =>
    attributeIncidents(incidents, deployments, windowHours)
      .map((a, i) => ({ id: a.incident, project: incidents[i]!.scope, deployment: a.deployment, inferred: a.inferred }))
      .filter((a) => a.deployment !== null);

  it('reproduces the expected relationships with no window (DevLake has none), each marked inferred', () => {
    const actual = relationships(Number.POSITIVE_INFINITY);
    expect(actual.map(({ id, project, deployment }) => ({ id, project, deployment }))).toEqual(expected);
    expect(actual.every((a) => a.inferred)).toBe(true);
    // repo3 belongs to no project: no row, as in DevLake.
    expect(raw.some((r) => r['scope_id'] === 'repo3')).toBe(true);
  });

  it('with Lanes’ default 72-hour window keeps only the incident declared hours after its deployment', () => {
    const actual = relationships(72);
    expect(actual.map((a) => [a.id, a.deployment])).toEqual([['github:GithubIssue:1:1373792478', 'pipeline2']]);
  });
});

describe('DevLake change_lead_time', () => {
  const dir = 'change_lead_time';
  const deployRows = csv(`${dir}/cicd_deployment_commits.csv`);
  const diffs = csv(`${dir}/commits_diffs.csv`);
  const records = deployRows.map(deploymentOf);
  const previous = previousSuccessful(records.filter((d) => d.production && d.success));
  const shaOfRow = new Map(deployRows.map((r) => [r['id']!, r['commit_sha']!]));
  // The commits a deployment carried: DevLake's commits_diffs between its commit and its previous one's.
  const deployments = records.map((d, i) => {
    const prev = previous.get(d.id) ?? null;
    const head = deployRows[i]!['commit_sha'];
    const shas =
      prev === null
        ? []
        : diffs
            .filter((x) => x['new_commit_sha'] === head && x['old_commit_sha'] === shaOfRow.get(prev))
            .map((x) => x['commit_sha']!);
    return { ...d, shas };
  });
  const pulls = csv(`${dir}/pull_requests.csv`);
  const commits = csv(`${dir}/pull_request_commits.csv`);
  const comments = csv(`${dir}/pull_request_comments.csv`);
  const prs: PrRecord[] = pulls.map((p) => {
    const id = p['id']!;
    const firstCommit = commits
      .filter((c) => c['pull_request_id'] === id)
      .map((c) => time(c['commit_authored_date'])!)
      .sort((a, b) => a - b)[0];
    const firstReview = comments
      .filter((c) => c['pull_request_id'] === id && c['account_id'] !== p['author_id'])
      .map((c) => time(c['created_date'])!)
      .sort((a, b) => a - b)[0];
    return {
      key: id,
      group: p['base_repo_id']!,
      openedAt: time(p['created_date']),
      mergedAt: time(p['merged_date']),
      mergeCommitSha: p['merge_commit_sha']!,
      firstCommitAt: firstCommit ?? null,
      firstReviewAt: firstReview ?? null,
    };
  });
  const carried = carriedChanges(deployments, prs);
  const deploymentOfPr = new Map<string, DeploymentRecord>();
  for (const d of [...deployments].sort((a, b) => a.at - b.at))
    for (const key of carried.get(d.id)?.prs ?? []) if (!deploymentOfPr.has(key)) deploymentOfPr.set(key, d);

  it('matches project_pr_metrics.csv minute for minute', () => {
    const num = (v: string | undefined) => (v ? Number(v) : null);
    const expected = csv(`${dir}/project_pr_metrics.csv`).map((r) => ({
      id: r['id'],
      coding: num(r['pr_coding_time']),
      pickup: num(r['pr_pickup_time']),
      review: num(r['pr_review_time']),
      deployment: r['deployment_commit_id'] || null,
      deploy: num(r['pr_deploy_time']),
      cycle: num(r['pr_cycle_time']),
    }));
    const actual = prs
      .filter((p) => p.mergedAt !== null)
      .map((p) => {
        const d = deploymentOfPr.get(p.key);
        return { id: p.key, ...prTimings({ ...p, deployedAt: d?.at ?? null }), deployment: d?.id ?? null };
      });
    expect(actual.map((a) => ({ ...a }))).toEqual(
      expected.map((e) => ({
        id: e.id,
        coding: e.coding,
        pickup: e.pickup,
        review: e.review,
        deploy: e.deploy,
        cycle: e.cycle,
        deployment: e.deployment,
      })),
    );
  });

  it('links no PR to the first deployment of a repository, whose diff DevLake does not compute', () => {
    expect(carried.get('1')).toMatchObject({ previous: null, prs: [], inferred: true });
  });
});
