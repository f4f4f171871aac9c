import { z } from 'zod';

/**
 * The parts of GitHub's REST objects and webhook payloads that Lanes reads.
 * Schemas are loose (unknown keys pass) and lenient about nulls, because GitHub
 * adds fields often and deleted accounts show up as `null` users; they reject
 * only payloads that lack what the mapping cannot do without.
 */

const timestamp = z.string().min(1);

export const githubUserSchema = z.looseObject({
  login: z.string().min(1),
  type: z.string().optional(),
  name: z.string().nullish(),
});
export type GithubUser = z.infer<typeof githubUserSchema>;

const user = githubUserSchema.nullish();

export const githubLabelSchema = z.looseObject({
  id: z.number().optional(),
  name: z.string().min(1),
  color: z.string().nullish(),
  description: z.string().nullish(),
});
export type GithubLabel = z.infer<typeof githubLabelSchema>;

export const githubMilestoneSchema = z.looseObject({
  id: z.number().optional(),
  number: z.number().optional(),
  title: z.string().min(1),
  state: z.string().optional(),
  due_on: z.string().nullish(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  closed_at: z.string().nullish(),
  creator: user,
});
export type GithubMilestone = z.infer<typeof githubMilestoneSchema>;

const ref = z.looseObject({ ref: z.string(), sha: z.string().optional() });

/** An issue, or a pull request seen through the issues API (then `pull_request` is set). */
export const githubIssueSchema = z.looseObject({
  id: z.number().optional(),
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullish(),
  html_url: z.string().optional(),
  state: z.string().optional(),
  state_reason: z.string().nullish(),
  draft: z.boolean().nullish(),
  user,
  assignee: user,
  assignees: z.array(githubUserSchema).nullish(),
  labels: z.array(z.union([z.string(), githubLabelSchema])).nullish(),
  milestone: githubMilestoneSchema.nullish(),
  created_at: timestamp,
  updated_at: z.string().nullish(),
  closed_at: z.string().nullish(),
  closed_by: user,
  pull_request: z.looseObject({ merged_at: z.string().nullish() }).nullish(),
});
export type GithubIssue = z.infer<typeof githubIssueSchema>;

export const githubPullSchema = githubIssueSchema.extend({
  merged: z.boolean().nullish(),
  merged_at: z.string().nullish(),
  merged_by: user,
  merge_commit_sha: z.string().nullish(),
  base: ref.optional(),
  head: ref.optional(),
  additions: z.number().optional(),
  deletions: z.number().optional(),
  changed_files: z.number().optional(),
});
export type GithubPull = z.infer<typeof githubPullSchema>;

/** An entry of `/issues/{n}/timeline` or of the repository's `/issues/events` (which embeds `issue`). */
export const githubTimelineEventSchema = z.looseObject({
  id: z.number().nullish(),
  event: z.string(),
  actor: user,
  user,
  created_at: z.string().nullish(),
  submitted_at: z.string().nullish(),
  label: z.looseObject({ name: z.string().min(1) }).nullish(),
  assignee: user,
  assigner: user,
  milestone: z.looseObject({ title: z.string().min(1) }).nullish(),
  rename: z.looseObject({ from: z.string(), to: z.string() }).nullish(),
  state_reason: z.string().nullish(),
  state: z.string().nullish(),
  commit_id: z.string().nullish(),
  body: z.string().nullish(),
  html_url: z.string().nullish(),
  source: z
    .looseObject({
      type: z.string().optional(),
      issue: z
        .looseObject({
          number: z.number().int().positive(),
          repository: z.looseObject({ full_name: z.string() }).nullish(),
          pull_request: z.unknown().optional(),
        })
        .nullish(),
    })
    .nullish(),
  issue: githubIssueSchema.optional(),
});
export type GithubTimelineEvent = z.infer<typeof githubTimelineEventSchema>;

export const githubCommentSchema = z.looseObject({
  id: z.number(),
  body: z.string().nullish(),
  user,
  html_url: z.string().optional(),
  created_at: timestamp,
});
export type GithubComment = z.infer<typeof githubCommentSchema>;

export const githubReviewSchema = z.looseObject({
  id: z.number(),
  user,
  body: z.string().nullish(),
  state: z.string(),
  submitted_at: z.string().nullish(),
  commit_id: z.string().nullish(),
  html_url: z.string().optional(),
});
export type GithubReview = z.infer<typeof githubReviewSchema>;

export const githubDeploymentSchema = z.looseObject({
  id: z.number(),
  sha: z.string().nullish(),
  ref: z.string().nullish(),
  task: z.string().nullish(),
  environment: z.string().nullish(),
  description: z.string().nullish(),
  creator: user,
  created_at: timestamp,
  updated_at: z.string().nullish(),
});
export type GithubDeployment = z.infer<typeof githubDeploymentSchema>;

export const githubDeploymentStatusSchema = z.looseObject({
  id: z.number(),
  state: z.string(),
  environment: z.string().nullish(),
  description: z.string().nullish(),
  creator: user,
  created_at: timestamp,
});
export type GithubDeploymentStatus = z.infer<typeof githubDeploymentStatusSchema>;

export const githubWorkflowRunSchema = z.looseObject({
  id: z.number(),
  name: z.string().nullish(),
  workflow_id: z.number().optional(),
  run_number: z.number().optional(),
  run_attempt: z.number().optional(),
  status: z.string().nullish(),
  conclusion: z.string().nullish(),
  event: z.string().nullish(),
  head_sha: z.string().nullish(),
  head_branch: z.string().nullish(),
  run_started_at: z.string().nullish(),
  created_at: timestamp,
  updated_at: z.string().nullish(),
  actor: user,
  triggering_actor: user,
});
export type GithubWorkflowRun = z.infer<typeof githubWorkflowRunSchema>;

export const githubRepositorySchema = z.looseObject({
  full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/),
  updated_at: z.union([z.string(), z.number()]).nullish(),
  pushed_at: z.union([z.string(), z.number()]).nullish(),
});

/** What every webhook payload Lanes maps carries. */
export const githubWebhookBaseSchema = z.looseObject({
  action: z.string().optional(),
  sender: user,
  repository: githubRepositorySchema,
});

export const githubRunsPageSchema = z.looseObject({
  total_count: z.number().optional(),
  workflow_runs: z.array(githubWorkflowRunSchema),
});
