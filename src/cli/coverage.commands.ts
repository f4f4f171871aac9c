import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { createDeps } from '../deps.js';
import { COVERAGE_FORMATS, MAX_COVERAGE_CHARS, type CoverageFormat } from '../domain/coverage.parse.js';
import { AppError } from '../domain/errors.js';
import { formatIssues, loadCharterFile } from '../services/charter.service.js';
import { pushCoverage, type PushCoverageResult } from '../services/coverage.service.js';
import { EXIT, type CliIo } from './io.js';

interface PushFlags {
  component: string;
  format?: string;
  commit?: string;
  at?: string;
  json?: boolean;
  database?: string;
  charter?: string;
}

const pct = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(1)} %`);

export const formatPush = (r: PushCoverageResult): string =>
  `${r.component}${r.team ? ` (team ${r.team})` : ''}: lines ${pct(r.linePct)} (${r.lines.covered}/${r.lines.total}), ` +
  `branches ${pct(r.branchPct)} (${r.branches.covered}/${r.branches.total}), ${r.files} file(s), ${r.format}` +
  (r.stored ? '' : ' — already pushed, nothing stored');

export const registerCoverageCommands = (program: Command, io: CliIo): void => {
  const coverage = program.command('coverage').description('Test coverage reports per component');
  coverage
    .command('push')
    .description('Push a coverage report (lcov, Cobertura XML or Istanbul coverage-summary.json) for a component')
    .argument('<file>', 'the report file')
    .requiredOption('--component <name>', 'the component it measures (from lanes.yaml)')
    .option('--format <format>', `${COVERAGE_FORMATS.join(' | ')} (default: detected from the content)`)
    .option('--commit <sha>', 'the commit the report was made for')
    .option('--at <time>', 'when the report was made (ISO-8601; default now)')
    .option('--json', 'print JSON')
    .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
    .option('--charter <file>', 'lanes.yaml (env LANES_CHARTER)')
    .action(async (file: string, flags: PushFlags) => {
      if (flags.format !== undefined && !(COVERAGE_FORMATS as readonly string[]).includes(flags.format)) {
        throw new AppError('LANES_VALIDATION', `--format must be one of ${COVERAGE_FORMATS.join(', ')}`);
      }
      const path = resolve(io.cwd, file);
      const size = (await stat(path)).size;
      if (size > MAX_COVERAGE_CHARS) {
        throw new AppError('LANES_IMPORT_INVALID', `${file} is larger than ${MAX_COVERAGE_CHARS / 1024 / 1024} MB`);
      }
      const text = await readFile(path, 'utf8');
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
        const result = await pushCoverage(deps, {
          component: flags.component,
          text,
          ...(flags.format ? { format: flags.format as CoverageFormat } : {}),
          ...(flags.commit ? { commit: flags.commit } : {}),
          ...(flags.at ? { at: flags.at } : {}),
        });
        io.out(flags.json ? JSON.stringify(result, null, 2) : formatPush(result));
        io.exitCode = EXIT.ok;
      } finally {
        await deps.close();
      }
    });
};
