import type { Secrets } from '../config.js';
import type { SyncHttp, SyncPlan } from '../connectors/connector.types.js';
import { githubAuthorization } from '../connectors/github/github.auth.js';
import { githubSyncPlan } from '../connectors/github/github.sync.js';
import { createHttpClient } from '../connectors/http.client.js';
import { jiraSyncPlan } from '../connectors/jira/jira.sync.js';
import { linearSyncPlan } from '../connectors/linear/linear.sync.js';
import type { ConnectorsMapping } from '../domain/connector.mapping.js';
import { AppError } from '../domain/errors.js';

/**
 * Builds what `runSync` needs for one provider and scope: the plan, an HTTP
 * client pointed at the configured base URL with its credentials, and the
 * mapping section. Base URLs: the environment first (`LANES_GITHUB_API_URL`,
 * `LANES_JIRA_URL`, `LANES_LINEAR_API_URL`), then `base_url` in lanes.yaml,
 * then the public cloud service.
 */
export interface SyncTarget {
  plan: SyncPlan<unknown>;
  http: SyncHttp;
  mapping: unknown;
  baseUrl: string;
}

export type SyncProvider = 'github' | 'jira' | 'linear';

const notConfigured = (what: string): AppError =>
  new AppError('LANES_CONNECTOR_NOT_CONFIGURED', `${what}; see docs/connectors.md`);

export const buildSyncTarget = (
  provider: SyncProvider,
  scope: string,
  secrets: Readonly<Secrets>,
  connectors: ConnectorsMapping | undefined,
  onWait: (reason: string, ms: number) => void,
  clientOptions: { timeoutMs?: number; maxAttempts?: number; backoffMs?: number } = {},
): SyncTarget => {
  const common = { onWait, userAgent: 'lanes-sync', ...clientOptions };
  if (provider === 'github') {
    if (!/^[^/\s]+\/[^/\s]+$/.test(scope)) throw new AppError('LANES_VALIDATION', '--repo must look like owner/name');
    const mapping = connectors?.github;
    const baseUrl = secrets.LANES_GITHUB_API_URL ?? mapping?.base_url ?? 'https://api.github.com';
    let authorization: (() => Promise<string>) | undefined;
    if (secrets.LANES_GITHUB_TOKEN) {
      authorization = githubAuthorization({ token: secrets.LANES_GITHUB_TOKEN }, baseUrl);
    } else if (
      secrets.LANES_GITHUB_APP_ID &&
      secrets.LANES_GITHUB_APP_PRIVATE_KEY &&
      secrets.LANES_GITHUB_APP_INSTALLATION_ID
    ) {
      authorization = githubAuthorization(
        {
          appId: secrets.LANES_GITHUB_APP_ID,
          privateKey: secrets.LANES_GITHUB_APP_PRIVATE_KEY,
          installationId: secrets.LANES_GITHUB_APP_INSTALLATION_ID,
        },
        baseUrl,
      );
    } else {
      throw notConfigured(
        'GitHub sync needs LANES_GITHUB_TOKEN, or LANES_GITHUB_APP_ID, LANES_GITHUB_APP_PRIVATE_KEY(_FILE) and LANES_GITHUB_APP_INSTALLATION_ID',
      );
    }
    const http = createHttpClient({
      ...common,
      baseUrl,
      authorization,
      accept: 'application/vnd.github+json',
    });
    return { plan: githubSyncPlan(scope) as SyncPlan<unknown>, http, mapping, baseUrl };
  }
  if (provider === 'jira') {
    if (!/^[A-Z][A-Z0-9_]*$/.test(scope))
      throw new AppError('LANES_VALIDATION', '--project must be a Jira project key');
    const mapping = connectors?.jira;
    const baseUrl = secrets.LANES_JIRA_URL ?? mapping?.base_url ?? mapping?.site;
    if (!baseUrl) throw notConfigured('Jira sync needs LANES_JIRA_URL or connectors.jira.base_url');
    let header: string;
    if (secrets.LANES_JIRA_PAT) header = `Bearer ${secrets.LANES_JIRA_PAT}`;
    else if (secrets.LANES_JIRA_EMAIL && secrets.LANES_JIRA_API_TOKEN) {
      header = `Basic ${Buffer.from(`${secrets.LANES_JIRA_EMAIL}:${secrets.LANES_JIRA_API_TOKEN}`).toString('base64')}`;
    } else {
      throw notConfigured(
        'Jira sync needs LANES_JIRA_EMAIL and LANES_JIRA_API_TOKEN (Cloud) or LANES_JIRA_PAT (Data Center)',
      );
    }
    const flavor =
      secrets.LANES_JIRA_FLAVOR === 'datacenter' || (!secrets.LANES_JIRA_FLAVOR && secrets.LANES_JIRA_PAT)
        ? 'datacenter'
        : 'cloud';
    const http = createHttpClient({ ...common, baseUrl, authorization: async () => header });
    return { plan: jiraSyncPlan(scope, { flavor }) as SyncPlan<unknown>, http, mapping, baseUrl };
  }
  if (!/^[A-Z][A-Z0-9_]*$/.test(scope)) throw new AppError('LANES_VALIDATION', '--team must be a Linear team key');
  const mapping = connectors?.linear;
  const baseUrl = secrets.LANES_LINEAR_API_URL ?? mapping?.base_url ?? 'https://api.linear.app';
  const key = secrets.LANES_LINEAR_API_KEY;
  if (!key) throw notConfigured('Linear sync needs LANES_LINEAR_API_KEY');
  // Personal API keys are sent as they are; OAuth tokens with Bearer.
  const header = key.startsWith('lin_oauth_') ? `Bearer ${key}` : key;
  const http = createHttpClient({ ...common, baseUrl, authorization: async () => header });
  return { plan: linearSyncPlan(scope) as SyncPlan<unknown>, http, mapping, baseUrl };
};
