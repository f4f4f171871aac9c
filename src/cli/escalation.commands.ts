import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { createDeps, type AppDeps } from '../deps.js';
import type { NotificationSenders } from '../connectors/notify/notify.types.js';
import { AppError } from '../domain/errors.js';
import { formatIssues, loadCharterFile } from '../services/charter.service.js';
import { sendEscalationNotifications } from '../services/escalation.notify.js';
import { evaluateFindings, exportEscalationsMarkdown } from '../services/findings.service.js';
import { buildNotificationSenders } from '../services/notifications.service.js';
import { EXIT, type CliIo } from './io.js';

interface Flags {
  database?: string;
  charter?: string;
  team?: string;
  out?: string;
  evaluate?: boolean;
}

/** Opens the database with the charter loaded: escalations are addressed from it. */
const open = async (io: CliIo, flags: Flags): Promise<AppDeps> => {
  const overrides: Partial<Config> = {};
  if (flags.database) overrides.databaseUrl = flags.database;
  if (flags.charter) overrides.charterPath = resolve(io.cwd, flags.charter);
  const deps = await createDeps(loadConfig(io.env, io.cwd, overrides));
  try {
    const { loaded, issues } = await loadCharterFile(deps.config.charterPath, deps.clock());
    if (!loaded) {
      io.err(formatIssues(issues));
      throw new AppError('LANES_CHARTER_INVALID', `${deps.config.charterPath} has errors; fix them first`);
    }
    deps.setCharter(loaded);
    return deps;
  } catch (error) {
    await deps.close();
    throw error;
  }
};

export const registerEscalationCommands = (program: Command, io: CliIo): void => {
  const escalations = program
    .command('escalations')
    .description('Systemic quality findings escalated to engineering leadership');
  escalations
    .command('export')
    .description('Write the escalations as Markdown (to stdout, or --out FILE)')
    .option('--team <id>', 'one team (default: every team)')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--evaluate', 'run the findings catalog over the current signals first')
    .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
    .option('--charter <file>', 'lanes.yaml (env LANES_CHARTER)')
    .action(async (flags: Flags) => {
      const deps = await open(io, flags);
      try {
        if (flags.team && !deps.charter()?.charter.teams.some((t) => t.id === flags.team)) {
          throw new AppError('LANES_VALIDATION', `--team "${flags.team}" is not a team of the charter`);
        }
        if (flags.evaluate) {
          const r = await evaluateFindings(deps);
          io.err(`Findings: ${r.opened.length} new, ${r.reopened.length} reopened, ${r.cleared.length} gone.`);
        }
        const markdown = await exportEscalationsMarkdown(deps, flags.team);
        if (flags.out) {
          const path = resolve(io.cwd, flags.out);
          writeFileSync(path, markdown);
          io.err(`Wrote ${path}`);
        } else {
          io.out(markdown);
        }
        io.exitCode = EXIT.ok;
      } finally {
        await deps.close();
      }
    });
  escalations
    .command('notify')
    .description('E-mail the pending escalations to their engineering-leadership contact now (lanes serve does it too)')
    .option('--evaluate', 'run the findings catalog over the current signals first')
    .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
    .option('--charter <file>', 'lanes.yaml (env LANES_CHARTER)')
    .action(async (flags: Flags) => {
      const deps = await open(io, flags);
      let senders: NotificationSenders | undefined;
      try {
        senders = buildNotificationSenders(deps.config.secrets, { publicUrl: deps.config.publicUrl });
        if (!senders.email) {
          throw new AppError(
            'LANES_CONFIG_INVALID',
            'e-mail is not configured: set LANES_SMTP_URL and LANES_MAIL_FROM',
          );
        }
        if (flags.evaluate) {
          const r = await evaluateFindings(deps);
          io.err(`Findings: ${r.opened.length} new, ${r.reopened.length} reopened, ${r.cleared.length} gone.`);
        }
        // Asked for now: failed sends waiting for their retry time are tried too.
        const r = await sendEscalationNotifications(deps, senders, {
          publicUrl: deps.config.publicUrl,
          retryWaiting: true,
        });
        io.out(`Sent ${r.sent} escalation e-mail${r.sent === 1 ? '' : 's'}.`);
        if (r.failed > 0) io.err(`${r.failed} could not be sent; they stay pending and are tried again later.`);
        if (r.unaddressed > 0) {
          io.err(
            `${r.unaddressed} have no address: give the teams an engineering-leadership contact with an e-mail in the charter.`,
          );
        }
        io.exitCode = r.failed > 0 ? EXIT.failure : EXIT.ok;
      } finally {
        await senders?.close?.();
        await deps.close();
      }
    });
};
