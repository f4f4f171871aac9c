import { AppError } from '../domain/errors.js';
import { renderNudge, type NudgeMessage } from '../domain/nudge.js';
import type { SyncHttp } from './connector.types.js';

/**
 * The HTTP calls that deliver a boundary nudge: a comment on a GitHub issue or
 * pull request, a comment on a Jira issue (Cloud: REST v3 with an Atlassian
 * Document; Data Center: REST v2 with wiki markup), or a Slack message. Each
 * sender renders the message for its channel, so what came from a source can
 * neither format, link nor mention.
 *
 * The `SyncHttp` given should not retry a failed POST (a 5xx may have posted
 * the comment all the same); rate-limit waits are fine, the request was refused.
 */

export type NudgeTarget =
  { kind: 'github'; repo: string; number: number } | { kind: 'jira'; key: string } | { kind: 'slack'; channel: string };

export type NudgeSender<T extends NudgeTarget> = (target: T, message: NudgeMessage) => Promise<void>;

/** The senders that are configured; a missing one means that channel cannot send. */
export interface NudgeSenders {
  github?: NudgeSender<Extract<NudgeTarget, { kind: 'github' }>> | undefined;
  jira?: NudgeSender<Extract<NudgeTarget, { kind: 'jira' }>> | undefined;
  slack?: NudgeSender<Extract<NudgeTarget, { kind: 'slack' }>> | undefined;
}

const GITHUB_KEY = /^([A-Za-z0-9][A-Za-z0-9-]*)\/([A-Za-z0-9._-]+)#(\d{1,10})$/;
const JIRA_KEY = /^[A-Za-z][A-Za-z0-9_]*-\d{1,12}$/;

/**
 * Where a comment on the source item goes: GitHub items are keyed
 * `owner/name#number` (see `github.mapper.ts`), Jira items by their issue key.
 * Null for any other source (Linear, files, the demo).
 */
export const sourceTarget = (source: string | null, itemKey: string | null): NudgeTarget | null => {
  if (itemKey === null) return null;
  if (source === 'github') {
    const m = GITHUB_KEY.exec(itemKey);
    return m ? { kind: 'github', repo: `${m[1]!}/${m[2]!}`, number: Number(m[3]) } : null;
  }
  if (source === 'jira') return JIRA_KEY.test(itemKey) ? { kind: 'jira', key: itemKey.toUpperCase() } : null;
  return null;
};

/** `POST /repos/{owner}/{repo}/issues/{number}/comments` (issues and pull requests alike). */
export const githubCommentSender =
  (http: SyncHttp): NonNullable<NudgeSenders['github']> =>
  async (target, message) => {
    const [owner, repo] = target.repo.split('/') as [string, string];
    await http.request({
      method: 'POST',
      url: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/issues/${target.number}/comments`,
      body: { body: renderNudge(message, 'github') },
    });
  };

type AdfInline = { type: 'text'; text: string; marks?: Array<{ type: 'code' }> };

/** The message as an Atlassian Document: one paragraph, values from the source as inline code. */
export const nudgeAdf = (message: NudgeMessage): Record<string, unknown> => {
  const content: AdfInline[] = [];
  for (const s of message.segments) {
    if ('value' in s) content.push({ type: 'text', text: s.value, marks: [{ type: 'code' }] });
    else {
      const text = 'text' in s ? s.text : 'key' in s ? s.key : s.person.name;
      const last = content.at(-1);
      if (last && !last.marks) last.text += text;
      else content.push({ type: 'text', text });
    }
  }
  return { type: 'doc', version: 1, content: [{ type: 'paragraph', content }] };
};

/** `POST /rest/api/3/issue/{key}/comment` (Cloud, ADF body) or `/rest/api/2/...` (Data Center, wiki markup). */
export const jiraCommentSender =
  (http: SyncHttp, flavor: 'cloud' | 'datacenter'): NonNullable<NudgeSenders['jira']> =>
  async (target, message) => {
    const key = encodeURIComponent(target.key);
    await http.request(
      flavor === 'cloud'
        ? { method: 'POST', url: `/rest/api/3/issue/${key}/comment`, body: { body: nudgeAdf(message) } }
        : {
            method: 'POST',
            url: `/rest/api/2/issue/${key}/comment`,
            body: { body: renderNudge(message, 'jira-wiki') },
          },
    );
  };

/**
 * `POST chat.postMessage` with the bot token. Slack answers most errors with
 * HTTP 200 and `{"ok": false, "error": "channel_not_found"}`: those fail too.
 */
export const slackMessageSender =
  (http: SyncHttp): NonNullable<NudgeSenders['slack']> =>
  async (target, message) => {
    const response = await http.request({
      method: 'POST',
      url: 'chat.postMessage',
      body: { channel: target.channel, text: renderNudge(message, 'slack'), unfurl_links: false, unfurl_media: false },
    });
    const body = response.body;
    const ok = typeof body === 'object' && body !== null && (body as Record<string, unknown>)['ok'] === true;
    if (!ok) {
      const error =
        typeof body === 'object' && body !== null && typeof (body as Record<string, unknown>)['error'] === 'string'
          ? String((body as Record<string, unknown>)['error'])
          : 'an answer without "ok": true';
      throw new AppError('LANES_UPSTREAM_FAILED', `Slack chat.postMessage answered ${error}`, { error });
    }
  };
