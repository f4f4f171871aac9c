import type { Secrets } from '../config.js';
import { githubAuthorization } from '../connectors/github/github.auth.js';
import { createHttpClient } from '../connectors/http.client.js';
import {
  githubCommentSender,
  jiraCommentSender,
  slackMessageSender,
  sourceTarget,
  type NudgeSenders,
  type NudgeTarget,
} from '../connectors/nudge.senders.js';
import type { BoundaryOwners } from '../domain/boundary.js';
import type { Team } from '../domain/charter.schema.js';
import { mergeDomains } from '../domain/charter.validate.js';
import type { ConnectorsMapping } from '../domain/connector.mapping.js';
import {
  composeNudge,
  decideNudge,
  NUDGE_SKIP_REASONS,
  NUDGE_WINDOW_MS,
  renderNudge,
  type NudgeFormat,
  type NudgeMessage,
  type NudgePerson,
  type NudgeRecord,
  type NudgeSkipReason,
  type NudgeStatus,
} from '../domain/nudge.js';
import {
  claimNudge,
  finishNudge,
  listCrossingsToNudge,
  listNudgeRows,
  listRecentNudges,
  type NudgeCrossingRow,
  type NudgeRow,
} from '../store/nudge.repository.js';
import type { ServiceContext } from './context.js';

/**
 * Boundary nudges (issue 5): for teams that turn them on in `lanes.yaml`
 * (`teams[].nudges`), a short, kind note naming the owner per charter when a
 * person decided outside their lane — a comment on the GitHub or Jira item,
 * or a Slack message. Every crossing considered is recorded once in
 * `boundary_nudge` with what became of it; see `decideNudge` for the caps.
 */

export interface RunNudgesInput {
  now?: Date | undefined;
  /**
   * Preview: send nothing and store nothing, and return what a run would do
   * now (`lanes nudges run --dry-run`). Without it, teams in `dry-run` mode
   * still send nothing but record what would have been sent.
   */
  dryRunOverride?: boolean | undefined;
  /** How nudges are delivered (`buildNudgeSenders`); a channel without one fails its sends. */
  senders?: NudgeSenders | undefined;
}

export interface NudgeOutcome {
  decisionEventId: string;
  team: string;
  itemKey: string | null;
  domain: string;
  channel: string;
  target: string | null;
  status: Exclude<NudgeStatus, 'sending'>;
  reason: NudgeSkipReason | null;
  body: string | null;
  error: string | null;
}

export interface RunNudgesResult {
  considered: number;
  sent: number;
  dryRun: number;
  skipped: Record<NudgeSkipReason, number>;
  failed: number;
  outcomes: NudgeOutcome[];
}

const PAGE = 200;

const emptySkips = (): Record<NudgeSkipReason, number> =>
  Object.fromEntries(NUDGE_SKIP_REASONS.map((r) => [r, 0])) as Record<NudgeSkipReason, number>;

const parseOwners = (json: string): BoundaryOwners | null => {
  try {
    const value = JSON.parse(json) as Partial<BoundaryOwners> | null;
    if (!value || !Array.isArray(value.people)) return null;
    return {
      decides: typeof value.decides === 'string' ? value.decides : null,
      people: value.people,
      delegates: Array.isArray(value.delegates) ? value.delegates : [],
      consulted: Array.isArray(value.consulted) ? value.consulted : [],
      informed: Array.isArray(value.informed) ? value.informed : [],
    };
  } catch {
    return null;
  }
};

const formatFor = (target: NudgeTarget | null): NudgeFormat =>
  target?.kind === 'github' ? 'github' : target?.kind === 'slack' ? 'slack' : 'plain';

const describeTarget = (target: NudgeTarget | null, itemUrl: string | null): string | null => {
  if (target === null) return null;
  if (target.kind === 'slack') return `slack:${target.channel}`;
  if (itemUrl) return itemUrl;
  return target.kind === 'github' ? `github:${target.repo}#${target.number}` : `jira:${target.key}`;
};

const NOT_CONFIGURED: Record<NudgeTarget['kind'], string> = {
  github: 'GitHub is not configured for nudges: set LANES_GITHUB_TOKEN (or the GitHub App secrets)',
  jira: 'Jira is not configured for nudges: set LANES_JIRA_URL with LANES_JIRA_EMAIL and LANES_JIRA_API_TOKEN, or LANES_JIRA_PAT',
  slack: 'Slack is not configured for nudges: set LANES_SLACK_BOT_TOKEN',
};

const send = async (senders: NudgeSenders, target: NudgeTarget, message: NudgeMessage): Promise<void> => {
  const missing = new Error(NOT_CONFIGURED[target.kind]);
  switch (target.kind) {
    case 'github':
      if (!senders.github) throw missing;
      return senders.github(target, message);
    case 'jira':
      if (!senders.jira) throw missing;
      return senders.jira(target, message);
    case 'slack':
      if (!senders.slack) throw missing;
      return senders.slack(target, message);
  }
};

/**
 * Considers every crossing of the last 7 days (by when it occurred) that no
 * earlier run considered, for the teams with nudges enabled, oldest first:
 * applies the caps, records the outcome, and sends through `senders` when the
 * team's mode is `send`. A failed send is recorded with its error and the run
 * goes on. The 7-day window keeps late-arriving history (a backfill) from
 * nudging about old decisions, and lets a crossing that arrived late still count.
 */
export const runNudges = async (ctx: ServiceContext, input: RunNudgesInput = {}): Promise<RunNudgesResult> => {
  const now = input.now ?? ctx.clock();
  const preview = input.dryRunOverride === true;
  const senders = input.senders ?? {};
  const result: RunNudgesResult = { considered: 0, sent: 0, dryRun: 0, skipped: emptySkips(), failed: 0, outcomes: [] };
  const charter = ctx.charter()?.charter;
  if (!charter) return result;

  const teams = new Map<string, Team>(charter.teams.filter((t) => t.nudges?.enabled).map((t) => [t.id, t]));
  if (teams.size === 0) return result;
  const domains = new Map(mergeDomains(charter).map((d) => [d.id, d]));
  const people = new Map<string, NudgePerson>(
    charter.people.map((p) => [p.id, { id: p.id, name: p.name, github: p.github, slack: p.slack }]),
  );
  const since = new Date(now.getTime() - NUDGE_WINDOW_MS).toISOString();
  const nowIso = now.toISOString();
  const recent: NudgeRecord[] = (await listRecentNudges(ctx.database, [...teams.keys()], since)).map((r) => ({
    team: r.team,
    itemKey: r.itemKey,
    domain: r.domain,
    createdAt: r.createdAt,
    status: r.status as NudgeStatus,
    mode: r.mode === 'send' ? 'send' : 'dry-run',
  }));

  const consider = async (row: NudgeCrossingRow): Promise<void> => {
    const team = teams.get(row.team)!;
    const settings = team.nudges!;
    const target: NudgeTarget | null =
      settings.channel === 'slack'
        ? settings.slack_channel
          ? { kind: 'slack', channel: settings.slack_channel }
          : null
        : sourceTarget(row.source, row.itemKey);
    const owners = parseOwners(row.owners);
    const message = owners
      ? composeNudge({
          teamName: team.name,
          domain: { id: row.domain, title: domains.get(row.domain)?.title ?? row.domain },
          item: { key: row.itemKey, kind: row.itemKind, title: row.itemTitle },
          change: row.kind
            ? { kind: row.kind, field: row.field, from: row.from, to: row.to, target: row.target }
            : null,
          owners,
          people,
          where: target?.kind === 'slack' ? 'elsewhere' : 'item',
        })
      : null;
    const verdict = decideNudge(
      {
        team: row.team,
        itemKey: row.itemKey,
        domain: row.domain,
        ownerFollowedUp: row.followedUp,
        hasOwner: message !== null,
        hasTarget: target !== null,
      },
      settings,
      recent,
      now,
    );
    const body = verdict.nudge && message ? renderNudge(message, formatFor(target)) : null;
    const status: NudgeStatus = !verdict.nudge
      ? 'skipped'
      : settings.mode === 'send' && !preview
        ? 'sending'
        : 'dry_run';
    const stored: NudgeRow = {
      id: ctx.newId(),
      team: row.team,
      itemKey: row.itemKey,
      domain: row.domain,
      decisionEventId: row.eventId,
      channel: target?.kind ?? settings.channel,
      target: describeTarget(target, row.itemUrl),
      mode: settings.mode,
      status,
      reason: verdict.nudge ? null : verdict.reason,
      body,
      createdAt: nowIso,
      sentAt: null,
      error: null,
    };
    // Another run that claimed this decision first owns it.
    if (!preview && !(await claimNudge(ctx.database, stored))) return;
    result.considered += 1;
    const outcome: NudgeOutcome = {
      decisionEventId: row.eventId,
      team: row.team,
      itemKey: row.itemKey,
      domain: row.domain,
      channel: stored.channel,
      target: stored.target,
      status: 'skipped',
      reason: stored.reason as NudgeSkipReason | null,
      body,
      error: null,
    };
    result.outcomes.push(outcome);
    if (!verdict.nudge) {
      result.skipped[verdict.reason] += 1;
      return;
    }
    recent.push({
      team: row.team,
      itemKey: row.itemKey,
      domain: row.domain,
      createdAt: nowIso,
      status,
      mode: settings.mode,
    });
    if (status === 'dry_run') {
      outcome.status = 'dry_run';
      result.dryRun += 1;
      return;
    }
    try {
      await send(senders, target!, message!);
      await finishNudge(ctx.database, stored.id, { status: 'sent', sentAt: ctx.clock().toISOString(), error: null });
      outcome.status = 'sent';
      result.sent += 1;
    } catch (error) {
      const text = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
      await finishNudge(ctx.database, stored.id, { status: 'failed', sentAt: null, error: text });
      ctx.logger.warn({ team: row.team, item: row.itemKey, channel: stored.channel, error: text }, 'nudge failed');
      outcome.status = 'failed';
      outcome.error = text;
      result.failed += 1;
    }
  };

  let after: { occurredAt: string; eventId: string } | undefined;
  for (;;) {
    const rows = await listCrossingsToNudge(ctx.database, { teams: [...teams.keys()], since, after, limit: PAGE });
    for (const row of rows) await consider(row);
    if (rows.length < PAGE) break;
    const last = rows.at(-1)!;
    after = { occurredAt: last.occurredAt, eventId: last.eventId };
  }
  return result;
};

/** A recorded nudge, for `lanes nudges list` and the API. */
export type NudgeView = NudgeRow;

/** The most recent nudges first (every outcome, skipped ones included). */
export const listNudges = async (
  ctx: ServiceContext,
  filter: { team?: string | undefined; limit?: number | undefined } = {},
): Promise<NudgeView[]> =>
  listNudgeRows(ctx.database, { team: filter.team, limit: Math.min(Math.max(filter.limit ?? 50, 1), 1000) });

export interface NudgeClientOptions {
  timeoutMs?: number | undefined;
  onWait?: ((reason: string, ms: number) => void) | undefined;
}

/**
 * The senders whose credentials are set (see docs/nudges.md): GitHub with
 * `LANES_GITHUB_TOKEN` or the GitHub App, Jira with the same secrets as its
 * sync, Slack with `LANES_SLACK_BOT_TOKEN`. Base URLs: the environment, then
 * `base_url` in lanes.yaml, then the public service. A POST is never retried
 * (a 5xx may have posted the comment all the same); rate-limit waits are capped at a minute.
 */
export const buildNudgeSenders = (
  secrets: Readonly<Secrets>,
  connectors: ConnectorsMapping | undefined,
  options: NudgeClientOptions = {},
): NudgeSenders => {
  const common = {
    userAgent: 'lanes-nudges',
    maxAttempts: 1,
    maxWaitMs: 60_000,
    timeoutMs: options.timeoutMs ?? 15_000,
    ...(options.onWait ? { onWait: options.onWait } : {}),
  };
  const senders: NudgeSenders = {};

  const githubUrl = secrets.LANES_GITHUB_API_URL ?? connectors?.github?.base_url ?? 'https://api.github.com';
  const githubAuth = secrets.LANES_GITHUB_TOKEN
    ? { token: secrets.LANES_GITHUB_TOKEN }
    : secrets.LANES_GITHUB_APP_ID && secrets.LANES_GITHUB_APP_PRIVATE_KEY && secrets.LANES_GITHUB_APP_INSTALLATION_ID
      ? {
          appId: secrets.LANES_GITHUB_APP_ID,
          privateKey: secrets.LANES_GITHUB_APP_PRIVATE_KEY,
          installationId: secrets.LANES_GITHUB_APP_INSTALLATION_ID,
        }
      : undefined;
  if (githubAuth) {
    senders.github = githubCommentSender(
      createHttpClient({
        ...common,
        baseUrl: githubUrl,
        authorization: githubAuthorization(githubAuth, githubUrl),
        accept: 'application/vnd.github+json',
      }),
    );
  }

  const jiraUrl = secrets.LANES_JIRA_URL ?? connectors?.jira?.base_url ?? connectors?.jira?.site;
  const jiraHeader = secrets.LANES_JIRA_PAT
    ? `Bearer ${secrets.LANES_JIRA_PAT}`
    : secrets.LANES_JIRA_EMAIL && secrets.LANES_JIRA_API_TOKEN
      ? `Basic ${Buffer.from(`${secrets.LANES_JIRA_EMAIL}:${secrets.LANES_JIRA_API_TOKEN}`).toString('base64')}`
      : undefined;
  if (jiraUrl && jiraHeader) {
    // As for the sync: Data Center when asked for, or when only a personal access token is set.
    const flavor =
      secrets.LANES_JIRA_FLAVOR === 'datacenter' || (!secrets.LANES_JIRA_FLAVOR && secrets.LANES_JIRA_PAT)
        ? 'datacenter'
        : 'cloud';
    senders.jira = jiraCommentSender(
      createHttpClient({ ...common, baseUrl: jiraUrl, authorization: async () => jiraHeader }),
      flavor,
    );
  }

  if (secrets.LANES_SLACK_BOT_TOKEN) {
    const header = `Bearer ${secrets.LANES_SLACK_BOT_TOKEN}`;
    senders.slack = slackMessageSender(
      createHttpClient({
        ...common,
        baseUrl: secrets.LANES_SLACK_API_URL ?? 'https://slack.com/api',
        authorization: async () => header,
      }),
    );
  }
  return senders;
};
