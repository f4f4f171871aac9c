import { githubWebhooks } from './github/github.webhook.js';
import { jiraWebhooks } from './jira/jira.webhook.js';
import { linearWebhooks } from './linear/linear.webhook.js';

/** The webhook providers Lanes speaks, by the name in `/hooks/:provider`. */
export const WEBHOOK_PROVIDERS = {
  github: githubWebhooks,
  jira: jiraWebhooks,
  linear: linearWebhooks,
} as const;

export type ProviderName = keyof typeof WEBHOOK_PROVIDERS;

export const isProviderName = (name: string): name is ProviderName => Object.hasOwn(WEBHOOK_PROVIDERS, name);
