import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { createDeps, type AppDeps } from '../deps.js';
import { AppError } from '../domain/errors.js';
import { loadCharterFile, formatIssues } from '../services/charter.service.js';
import { importFile, type ImportResult } from '../services/import.service.js';
import { listSources } from '../services/sources.service.js';
import { runSync } from '../services/sync.service.js';
import { buildSyncTarget, type SyncProvider } from '../services/sync.targets.js';
import { activeWebhookProviders } from '../services/webhooks.service.js';
import type { SourceView } from '../api/sources.contract.js';
import { cliProgress } from './progress.js';
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

/** Opens the database and loads lanes.yaml when there is one (mappings and identities come from it). */
const open = async (io: CliIo, flags: CommonFlags): Promise<AppDeps> => {
  const deps = await createDeps(configFrom(io, flags));
  try {
    const { loaded, issues } = await loadCharterFile(deps.config.charterPath, deps.clock());
    if (loaded) deps.setCharter(loaded);
    else if (issues.some((i) => i.code !== 'LANES_CHARTER_EMPTY')) {
      io.err(formatIssues(issues));
      throw new AppError('LANES_CHARTER_INVALID', `${deps.config.charterPath} has errors; fix them first`);
    }
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'LANES_CHARTER_NOT_FOUND')) {
      await deps.close();
      throw error;
    }
    io.err(`No charter at ${deps.config.charterPath}: syncing without mappings (everything unmapped is counted).`);
  }
  return deps;
};

const parseSince = (value: string | undefined, now: Date): string | undefined => {
  if (value === undefined) return undefined;
  const relative = /^(\d+)d$/.exec(value);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * 86_400_000).toISOString();
  const t = Date.parse(value);
  if (!Number.isFinite(t))
    throw new AppError('LANES_VALIDATION', `--since "${value}" is not a date (2024-01-31) or 90d`);
  return new Date(t).toISOString();
};

interface SyncFlags extends CommonFlags {
  since?: string;
  full?: boolean;
  stream?: string[];
}

const syncAction =
  (io: CliIo, provider: SyncProvider, scopeFlag: 'repo' | 'project' | 'team') =>
  async (flags: SyncFlags & Record<string, string | undefined>): Promise<void> => {
    const scope = flags[scopeFlag] as string;
    const deps = await open(io, flags);
    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts += 1;
      if (interrupts > 1) process.exit(130);
      io.err('Stopping after the current page (Ctrl-C again to quit now; the next run resumes either way)…');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    try {
      const label = `${provider} ${scope}`;
      const progress = cliProgress(io, label);
      const target = buildSyncTarget(
        provider,
        scope,
        deps.config.secrets,
        deps.charter()?.charter.connectors,
        (reason, ms) => progress.waiting(reason, ms),
        {
          ...(io.env['LANES_SYNC_TIMEOUT_MS'] ? { timeoutMs: Number(io.env['LANES_SYNC_TIMEOUT_MS']) } : {}),
          ...(io.env['LANES_SYNC_BACKOFF_MS'] ? { backoffMs: Number(io.env['LANES_SYNC_BACKOFF_MS']) } : {}),
        },
      );
      const result = await runSync(deps, {
        plan: target.plan,
        http: target.http,
        mapping: target.mapping,
        since: flags.full ? null : parseSince(flags.since, deps.clock()),
        streams: flags.stream,
        progress,
        signal: controller.signal,
      });
      const events = result.streams.reduce((sum, s) => sum + s.stored, 0);
      io.out(
        `${result.interrupted ? 'Stopped' : 'Synced'} ${provider} ${scope}: ${result.streams
          .map((s) => `${s.stream} ${s.units} ${s.completed ? '' : '(partial) '}`.trim())
          .join(', ')}; ${events} new events.${result.interrupted ? ' Run the same command to resume.' : ''}`,
      );
      io.exitCode = result.interrupted ? EXIT.failure : EXIT.ok;
    } finally {
      process.off('SIGINT', onSigint);
      await deps.close();
    }
  };

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const ago = (iso: string | null, now: number): string => {
  if (!iso) return 'never';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172_800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
};

const times = (n: number): string => (n === 1 ? 'once' : `${n} times`);

export const formatSources = (sources: readonly SourceView[], now: number): string => {
  if (sources.length === 0) return 'No sources yet: configure a webhook, run `lanes sync`, or `lanes import`.';
  const lines: string[] = [];
  for (const s of sources) {
    lines.push(
      `${s.source}: ${s.events} events (${s.duplicates} duplicates skipped), lag: newest event ${ago(s.lastEventAt, now)}, last received ${ago(s.lastReceivedAt, now)}`,
    );
    const w = s.webhooks;
    if (w.active || w.deliveries > 0) {
      lines.push(
        `  webhook ${w.active ? 'active' : 'not configured'}: ${w.deliveries} deliveries (${w.mapped} mapped, ${w.pending} pending, ${w.unknown} unknown type, ${w.failed} failed), last ${ago(w.lastDeliveryAt, now)}`,
      );
      for (const t of w.unknownTypes) lines.push(`    unknown type ${t.eventType}: ${t.count} (kept raw)`);
    }
    for (const c of s.syncs) {
      lines.push(
        `  sync ${c.scope} ${c.stream}: ${c.inProgress ? `in progress or stopped (started ${ago(c.lastRunStartedAt, now)})` : `last synced ${ago(c.lastSyncedAt, now)}`}, ${c.units} units, ${c.events} events`,
      );
    }
    if (s.unmapped.length > 0) {
      const where = ['github', 'jira', 'linear'].includes(s.source)
        ? `connectors.${s.source} in lanes.yaml`
        : 'the import map of this source';
      lines.push(
        `  ${s.unmappedValues} unmapped ${s.unmappedValues === 1 ? 'value' : 'values'}, ${times(s.unmappedTimes)} (add them to ${where}):`,
      );
      for (const u of s.unmapped) lines.push(`    ${u.category} "${u.value}": ${u.count}×`);
      if (s.unmappedValues > s.unmapped.length) lines.push(`    … and ${s.unmappedValues - s.unmapped.length} more`);
    }
    for (const e of s.errors.slice(0, 5)) lines.push(`  error ${e.at}: ${e.message}`);
  }
  return lines.join('\n');
};

const readText = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new AppError('LANES_IMPORT_INVALID', `cannot read ${path}: ${(error as Error).message}`);
  }
};

/**
 * What `lanes import` prints: events, new and already stored, and the values
 * the map could not translate in the unit `lanes sources` counts them in
 * (distinct values; times = once per row and field).
 */
export const formatImport = (result: ImportResult, dryRun: boolean): string => {
  const fresh = dryRun ? result.newEvents : result.stored;
  const head = `${dryRun ? 'Would import' : 'Imported'} ${result.events} events from ${result.rows} rows (${fresh} new, ${result.events - fresh} already stored).`;
  const u = result.unmapped;
  if (u.values === 0) return head;
  const lines = [
    head,
    `${u.values} unmapped ${u.values === 1 ? 'value' : 'values'}, ${times(u.occurrences)} in this file${
      u.newOccurrences === u.occurrences ? '' : ` (${times(u.newOccurrences)} in rows not imported before)`
    }: values go in the import map, people and bots in lanes.yaml (\`lanes sources\` counts them the same way):`,
  ];
  for (const v of u.list.slice(0, 10)) lines.push(`  ${v.category} "${v.value}": ${v.count}×`);
  if (u.list.length > 10) lines.push(`  … and ${u.list.length - 10} more (lanes sources)`);
  return lines.join('\n');
};

export const registerConnectorCommands = (program: Command, io: CliIo): void => {
  const sync = program.command('sync').description('Backfill a source through its API; resumes where it stopped');
  const targets = [
    {
      provider: 'github',
      about: 'issues with timelines, comments, pull requests with reviews, deployments, workflow runs',
      scope: ['repo', '--repo <owner/name>', 'the repository'],
    },
    {
      provider: 'jira',
      about: 'issues with their full changelog, components, sprints and mapped fields',
      scope: ['project', '--project <KEY>', 'the project key'],
    },
    {
      provider: 'linear',
      about: 'issues with their history, through the GraphQL API',
      scope: ['team', '--team <KEY>', 'the team key'],
    },
  ] as const;
  for (const { provider, about, scope } of targets) {
    sync
      .command(provider)
      .description(about)
      .requiredOption(scope[1], scope[2])
      .option('--since <date>', 'only what changed since this date (2024-01-31) or 90d; default: since the last run')
      .option('--full', 'ignore the last run and fetch everything again (stored events are not duplicated)')
      .option('--stream <name>', 'only this stream (repeatable)', collect)
      .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
      .option('--charter <file>', 'lanes.yaml with the mappings (env LANES_CHARTER)')
      .action(syncAction(io, provider, scope[0]));
  }

  program
    .command('import')
    .description('Import a CSV or JSONL export of a tracker Lanes does not speak (snapshot or change-history rows)')
    .argument('<file>', 'FILE.csv or FILE.jsonl')
    .requiredOption('--map <file>', 'MAP.yaml: which column means what (see docs/connectors.md)')
    .option('--items <file>', 'with change-history rows: a CSV or JSONL file with one row per item')
    .option('--dry-run', 'check and count, store nothing')
    .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
    .option('--charter <file>', 'lanes.yaml (env LANES_CHARTER)')
    .action(async (file: string, flags: CommonFlags & { map: string; items?: string; dryRun?: boolean }) => {
      const read = (name: string): { text: string; format: 'csv' | 'jsonl' } => {
        const path = resolve(io.cwd, name);
        const ext = extname(path).toLowerCase();
        const format = ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined;
        if (!format) throw new AppError('LANES_IMPORT_INVALID', `${name}: use a .csv or .jsonl file`);
        return { text: readText(path), format };
      };
      const data = read(file);
      const items = flags.items ? read(flags.items) : undefined;
      const mapText = readText(resolve(io.cwd, flags.map));
      const deps = await open(io, flags);
      try {
        const result = await importFile(deps, {
          ...data,
          mapText,
          mapFile: flags.map,
          dryRun: Boolean(flags.dryRun),
          ...(items ? { items } : {}),
        });
        if (result.rejections.length > 0) {
          for (const r of result.rejections.slice(0, 20))
            io.err(`${r.file === 'items' ? flags.items : file}:${r.line}: LANES_IMPORT_INVALID ${r.message}`);
          if (result.rejections.length > 20) io.err(`… and ${result.rejections.length - 20} more`);
          io.err(`${result.rejections.length} row(s) rejected; nothing was stored.`);
          io.exitCode = EXIT.invalid;
          return;
        }
        io.out(formatImport(result, Boolean(flags.dryRun)));
        io.exitCode = EXIT.ok;
      } finally {
        await deps.close();
      }
    });

  program
    .command('sources')
    .description('Each source: last sync, lag, event counts, unmapped values and errors')
    .option('--json', 'print JSON')
    .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
    .action(async (flags: { json?: boolean; database?: string }) => {
      const deps = await createDeps(configFrom(io, flags));
      try {
        const sources = await listSources(deps, activeWebhookProviders(deps.config.secrets));
        io.out(flags.json ? JSON.stringify({ sources }, null, 2) : formatSources(sources, deps.clock().getTime()));
        io.exitCode = EXIT.ok;
      } finally {
        await deps.close();
      }
    });
};
