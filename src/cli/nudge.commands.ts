import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { createDeps, type AppDeps } from '../deps.js';
import { AppError } from '../domain/errors.js';
import { formatIssues, loadCharterFile } from '../services/charter.service.js';
import {
  buildNudgeSenders,
  listNudges,
  runNudges,
  type NudgeView,
  type RunNudgesResult,
} from '../services/nudges.service.js';
import { EXIT, type CliIo } from './io.js';

interface CommonFlags {
  database?: string;
  charter?: string;
}

const configFrom = (io: CliIo, flags: CommonFlags): Readonly<Config> => {
  const overrides: Partial<Config> = {};
  if (flags.database) overrides.databaseUrl = flags.database;
  if (flags.charter) overrides.charterPath = resolve(io.cwd, flags.charter);
  return loadConfig(io.env, io.cwd, overrides);
};

/** Nudges follow the charter: without a valid lanes.yaml there is nobody to name. */
const openWithCharter = async (io: CliIo, flags: CommonFlags): Promise<AppDeps> => {
  const deps = await createDeps(configFrom(io, flags));
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

const indent = (text: string, prefix = '    '): string =>
  text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');

export const formatRun = (result: RunNudgesResult, preview: boolean): string => {
  if (result.considered === 0) {
    return 'No new crossings to nudge (nudges are off unless a team sets nudges.enabled in lanes.yaml).';
  }
  const skipped = Object.entries(result.skipped).filter(([, n]) => n > 0);
  const skippedTotal = skipped.reduce((sum, [, n]) => sum + n, 0);
  const lines = [
    `${preview ? 'Preview (nothing sent, nothing stored): ' : ''}${result.considered} crossing(s) considered: ` +
      `${result.sent} sent, ${result.dryRun} dry run, ${result.failed} failed, ${skippedTotal} skipped` +
      (skipped.length > 0 ? ` (${skipped.map(([r, n]) => `${r} ${n}`).join(', ')})` : '') +
      '.',
  ];
  for (const o of result.outcomes) {
    const what = o.status === 'skipped' ? `skipped: ${o.reason ?? ''}` : o.status;
    lines.push(`  ${o.team} ${o.itemKey ?? '(no item)'} ${o.domain} → ${o.target ?? o.channel}: ${what}`);
    if (o.error) lines.push(`    error: ${o.error}`);
    if (o.status === 'dry_run' && o.body) lines.push(indent(o.body));
  }
  return lines.join('\n');
};

export const formatNudges = (nudges: readonly NudgeView[]): string => {
  if (nudges.length === 0) return 'No nudges recorded yet.';
  return nudges
    .map((n) => {
      const what = n.status === 'skipped' ? `skipped (${n.reason ?? ''})` : n.status;
      const tail = n.error ? `\n    error: ${n.error}` : '';
      return `${n.createdAt} ${n.team} ${n.itemKey ?? '(no item)'} ${n.domain} → ${n.target ?? n.channel}: ${what}${tail}`;
    })
    .join('\n');
};

export const registerNudgeCommands = (program: Command, io: CliIo): void => {
  const nudges = program
    .command('nudges')
    .description('Boundary nudges: a kind note naming the owner when someone decides outside their lane (opt-in)');

  nudges
    .command('run')
    .description('Consider new crossings: record each, and send for teams in send mode')
    .option('--dry-run', 'preview only: send nothing, store nothing, print what would be sent')
    .option('--json', 'print JSON')
    .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
    .option('--charter <file>', 'lanes.yaml (env LANES_CHARTER)')
    .action(async (flags: CommonFlags & { dryRun?: boolean; json?: boolean }) => {
      const deps = await openWithCharter(io, flags);
      try {
        const senders = buildNudgeSenders(deps.config.secrets, deps.charter()?.charter.connectors, {
          onWait: (reason) => io.err(`nudges: ${reason}`),
        });
        const preview = Boolean(flags.dryRun);
        const result = await runNudges(deps, { dryRunOverride: preview, senders });
        io.out(flags.json ? JSON.stringify(result, null, 2) : formatRun(result, preview));
        io.exitCode = result.failed > 0 ? EXIT.failure : EXIT.ok;
      } finally {
        await deps.close();
      }
    });

  nudges
    .command('list')
    .description('Recorded nudges, newest first: sent, dry runs, failures and skips with their reason')
    .option('--team <id>', 'only this team')
    .option('--limit <n>', 'how many (default 50, at most 1000)')
    .option('--json', 'print JSON')
    .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
    .action(async (flags: CommonFlags & { team?: string; limit?: string; json?: boolean }) => {
      const limit = flags.limit === undefined ? 50 : Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new AppError('LANES_VALIDATION', '--limit must be a whole number from 1 to 1000');
      }
      const deps = await createDeps(configFrom(io, flags));
      try {
        const list = await listNudges(deps, { team: flags.team, limit });
        io.out(flags.json ? JSON.stringify({ nudges: list }, null, 2) : formatNudges(list));
        io.exitCode = EXIT.ok;
      } finally {
        await deps.close();
      }
    });
};
