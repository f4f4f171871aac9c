import { getPriority, setPriority } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { AppError } from '../domain/errors.js';
import { backupSqlite, restoreSqlite, type CheckKind, type SqliteFileReport } from '../store/backup.js';
import { isPostgresUrl } from '../store/database.js';
import { displayUrl } from './demo.command.js';
import { EXIT, type CliIo } from './io.js';

interface Flags {
  database?: string;
  force?: boolean;
  quick?: boolean;
}

/** `nice 10`: below the server, above batch jobs. */
const BACKUP_NICENESS = 10;

const count = (n: number): string => n.toLocaleString('en-US');
const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const megabytes = (bytes: number): string => `${(bytes / 1_000_000).toFixed(1)} MB`;

/** The database the command works on: `--database`, else the configuration (`LANES_DATABASE_URL`, the data dir). */
const databaseOf = (io: CliIo, flags: Flags): string =>
  loadConfig(io.env, io.cwd, flags.database ? { databaseUrl: flags.database } : {}).databaseUrl;

const checkOf = (flags: Flags): CheckKind => (flags.quick ? 'quick_check' : 'integrity_check');

/** PostgreSQL has its own consistent dump: say how, with this database's URL, rather than pretend. */
const explainPostgres = (io: CliIo, url: string, command: 'backup' | 'restore'): never => {
  const shown = displayUrl(url);
  io.err(
    [
      `This Lanes runs on PostgreSQL (${shown}); lanes ${command} copies SQLite files only.`,
      `Use PostgreSQL's tools, with the database URL in LANES_DATABASE_URL:`,
      `  back up, while Lanes runs (pg_dump reads one consistent snapshot):`,
      `    pg_dump --format=custom --file=lanes-$(date +%F).dump "$LANES_DATABASE_URL"`,
      `  restore with every lanes serve stopped, into a new empty database, then point LANES_DATABASE_URL at it:`,
      `    createdb --maintenance-db="$LANES_DATABASE_URL" lanes_restored`,
      `    pg_restore --no-owner --exit-on-error --dbname=<URL of lanes_restored> lanes-YYYY-MM-DD.dump`,
      `The next lanes serve runs any newer migrations and maps the webhook deliveries that were pending.`,
      `Steps, and what happens to pending work: docs/operations.md.`,
    ].join('\n'),
  );
  throw new AppError(
    'LANES_ENGINE_UNSUPPORTED',
    `lanes ${command} works on SQLite; on PostgreSQL use pg_dump/pg_restore`,
  );
};

/**
 * The copy and its check are CPU work in this process, beside a server that
 * is acknowledging deliveries on the same machine: the server goes first.
 */
const lowerPriority = (): void => {
  try {
    setPriority(Math.max(getPriority(), BACKUP_NICENESS));
  } catch {
    // Not allowed here (some containers): the backup runs at the priority it has.
  }
};

const migrationsLine = (report: SqliteFileReport): string =>
  report.missingMigrations.length === 0
    ? `${report.migrations.length} migrations (current)`
    : `${report.migrations.length} migrations; ${report.missingMigrations.length} newer ones run at the next start (${report.missingMigrations.join(', ')})`;

/**
 * `lanes backup FILE` and `lanes restore FILE` for the SQLite database
 * (docs/operations.md). The backup is safe while `lanes serve` runs and
 * writes; the restore refuses while any process has the database open.
 */
export const registerBackupCommands = (program: Command, io: CliIo): void => {
  program
    .command('backup')
    .argument('<file>', 'where to write the copy')
    .description('Copy the SQLite database while Lanes runs: consistent, checked, then renamed into place')
    .option('--force', 'replace FILE if it exists')
    .option('--quick', "check the copy with SQLite's quick_check instead of the full integrity_check")
    .option('--database <url>', 'SQLite file to copy (env LANES_DATABASE_URL)')
    .action((file: string, flags: Flags) => {
      const url = databaseOf(io, flags);
      if (isPostgresUrl(url)) explainPostgres(io, url, 'backup');
      lowerPriority();
      const started = Date.now();
      const result = backupSqlite(resolve(io.cwd, url), resolve(io.cwd, file), {
        force: flags.force === true,
        check: checkOf(flags),
      });
      const { report } = result;
      io.out(
        `Backed up ${result.source} to ${result.target}: ${megabytes(report.bytes)} in ${seconds(Date.now() - started)} (copy ${seconds(result.copyMs)}, ${report.check} ${seconds(report.checkMs)}: ok)`,
      );
      io.out(
        `  ${count(report.events)} events, ${count(report.pendingDeliveries)} webhook deliveries not yet mapped, ${migrationsLine(report)}`,
      );
      io.exitCode = EXIT.ok;
    });

  program
    .command('restore')
    .argument('<file>', 'a backup made by lanes backup (or any copy of a Lanes SQLite database)')
    .description('Put a backup in place of the SQLite database; the database there is kept aside. Stop Lanes first')
    .option('--quick', "check the backup with SQLite's quick_check instead of the full integrity_check")
    .option('--database <url>', 'SQLite file to replace (env LANES_DATABASE_URL)')
    .action((file: string, flags: Flags) => {
      const url = databaseOf(io, flags);
      if (isPostgresUrl(url)) explainPostgres(io, url, 'restore');
      const started = Date.now();
      const result = restoreSqlite(resolve(io.cwd, file), resolve(io.cwd, url), {
        check: checkOf(flags),
        now: new Date(),
      });
      const { report } = result;
      if (result.warning) io.err(`warning: ${result.warning}`);
      io.out(
        `Restored ${report.path} to ${result.target}: ${megabytes(report.bytes)} in ${seconds(Date.now() - started)} (${report.check} ${seconds(report.checkMs)}: ok, copy ${seconds(result.copyMs)})`,
      );
      if (result.previous) io.out(`  The database that was there is kept as ${result.previous}`);
      io.out(
        `  ${count(report.events)} events, ${migrationsLine(report)}; the next lanes serve maps the ${count(report.pendingDeliveries)} webhook deliveries not yet mapped`,
      );
      io.out(
        '  What arrived after the backup was taken is not in it: run lanes sync for each connector (docs/operations.md)',
      );
      io.exitCode = EXIT.ok;
    });
};
