import { z } from 'zod';
import { checkLinearPattern, linearPattern, type LinearPattern } from './linear.regex.js';

/**
 * Bots and service accounts, declared once for every source (PRODUCT.md C3):
 * the top-level `bots:` section of `lanes.yaml` lists them per identity kind —
 * the kind an event's actor is written in, whether it came from a connector
 * (`github`, `jira`, `linear`), an imported file (its `actor.kind`, mostly
 * `email`) or the API — and may add patterns matched against any actor's id.
 * The boundary monitor reports a bot's decisions apart and never counts its
 * comments as status pings, and `lanes sources` does not list it as an
 * unknown person. GitHub `[bot]` logins, `bot:` identities and the older
 * `connectors.<source>.bots` lists count as well.
 */

const botId = z.string().min(1).max(320);
const botList = (what: string) => z.array(botId).max(1000).optional().describe(what);

/** A bot pattern: RE2 syntax, refused at `file:line:col` when RE2 cannot run it (see `linear.regex.ts`). */
const botPattern = z
  .string()
  .min(1)
  .max(500)
  .superRefine((source, ctx) => {
    const problem = checkLinearPattern(source, { caseInsensitive: true });
    if (problem)
      ctx.addIssue({
        code: 'custom',
        message: problem.message,
        params: { pattern: { index: problem.index, hint: problem.hint } },
      });
  });

/** The `bots:` section of `lanes.yaml`. */
export const botsSectionSchema = z
  .strictObject({
    email: botList('E-mail addresses of bots and service accounts (imports, the API, Jira Data Center).'),
    github: botList('GitHub logins of bots (beside `[bot]` accounts, which always are).'),
    jira: botList('Jira account ids or user names of bots and automation users.'),
    linear: botList('Linear user ids (or app names) of bots.'),
    slack: botList('Slack member ids of bots.'),
    patterns: z
      .array(botPattern)
      .max(100)
      .optional()
      .describe(
        "Regular expressions in RE2 syntax, matched case-insensitively anywhere in any actor's id (login, e-mail, account id), e.g. `-bot$` or `^svc[-_.]`.",
      ),
  })
  .describe('Bots and service accounts of every source: reported apart, never held against the charter.');
export type BotsSection = z.output<typeof botsSectionSchema>;

/** Identity kinds a bot can be listed under. */
export const BOT_KINDS = ['email', 'github', 'jira', 'linear', 'slack'] as const;

/** What the matcher needs of a charter. */
export interface BotSources {
  bots?: BotsSection | undefined;
  connectors?: Partial<Record<'github' | 'jira' | 'linear', { bots?: readonly string[] | undefined } | undefined>>;
}

/** Tells bots from people by an identity key (`github:renovate`, `email:ci@acme.example`). */
export type BotMatcher = (identity: string | null) => boolean;

const BOT_SUFFIX = '[bot]';

/**
 * Builds the bot test of a charter once: `bot:` identities, GitHub `[bot]`
 * logins, the `bots:` lists by kind and patterns, and the connectors' `bots`
 * lists (matched by id in any kind, as before the `bots:` section existed).
 */
export const buildBotMatcher = (charter: BotSources): BotMatcher => {
  const keys = new Set<string>();
  for (const kind of BOT_KINDS) for (const id of charter.bots?.[kind] ?? []) keys.add(`${kind}:${id.toLowerCase()}`);
  const ids = new Set<string>();
  for (const c of [charter.connectors?.github, charter.connectors?.jira, charter.connectors?.linear]) {
    for (const b of c?.bots ?? []) ids.add(b.trim().toLowerCase());
  }
  const patterns: LinearPattern[] = (charter.bots?.patterns ?? []).map((p) =>
    linearPattern(p, { caseInsensitive: true }),
  );
  return (identity) => {
    if (identity === null) return false;
    const key = identity.toLowerCase();
    const id = key.slice(key.indexOf(':') + 1);
    if (key.startsWith('bot:') || id.endsWith(BOT_SUFFIX)) return true;
    if (keys.has(key) || ids.has(id) || ids.has(key)) return true;
    return patterns.some((p) => p.test(id));
  };
};
