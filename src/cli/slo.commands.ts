import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { createDeps, type AppDeps } from '../deps.js';
import { AppError } from '../domain/errors.js';
import { loadCharterFile } from '../services/charter.service.js';
import {
  applySlos,
  evaluateSloAlerts,
  pushSamples,
  sloStatus,
  type SampleInput,
  type SloStatus,
} from '../services/slo.service.js';
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

/** Opens the database with the charter when it is valid (SLOs map to its teams); without it, labels must name the team. */
const open = async (io: CliIo, flags: CommonFlags): Promise<AppDeps> => {
  const deps = await createDeps(configFrom(io, flags));
  try {
    const { loaded } = await loadCharterFile(deps.config.charterPath, deps.clock());
    if (loaded) deps.setCharter(loaded);
  } catch {
    // No charter: SLOs must then carry a lanes.dev/team label.
  }
  return deps;
};

const pct = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(1)} %`);

export const formatSloStatus = (slos: readonly SloStatus[]): string => {
  if (slos.length === 0) return 'No SLOs yet: lanes slo apply FILE, or slos: in lanes.yaml.';
  return slos
    .map((s) => {
      const head = `${s.name}  ${s.team}${s.component ? `/${s.component}` : ''}  target ${pct(s.target)} over ${s.windowDays}d  budget left ${pct(s.budgetRemaining)}${s.budgetRemaining !== null && s.budgetRemaining <= 0 ? ' (exhausted)' : ''}`;
      const burn = s.burn.map(
        (b) =>
          `  ${b.rule.padEnd(10)} ${b.severity.padEnd(6)} > ${b.factor}×: long ${b.burnLong.toFixed(2)}× short ${b.burnShort.toFixed(2)}×${b.firing ? '  FIRING' : ''}`,
      );
      const firing = s.alertsFiring.map((a) => `  alert ${a.rule} (${a.severity}) since ${a.firedAt}`);
      return [head, ...burn, ...firing].join('\n');
    })
    .join('\n\n');
};

/** One sample per line: {"at": "…", "good": N, "total": N, "id": "…"}. */
export const parseSamplesJsonl = (text: string, file: string): SampleInput[] =>
  text
    .split('\n')
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, n]) => {
      try {
        return JSON.parse(line) as SampleInput;
      } catch {
        throw new AppError('LANES_VALIDATION', `${file}:${n}: not a JSON object`);
      }
    });

const count = (value: string | undefined, flag: string): number => {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n < 0)
    throw new AppError('LANES_VALIDATION', `${flag} must be a number ≥ 0`);
  return n;
};

export const registerSloCommands = (program: Command, io: CliIo): void => {
  const slo = program
    .command('slo')
    .description('SLOs in OpenSLO v1: apply definitions, push samples, show budgets and burn (docs/slo.md)');
  const common = (c: Command): Command =>
    c
      .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
      .option('--charter <file>', 'lanes.yaml (env LANES_CHARTER)');

  common(slo.command('apply <file>').description('Add or update the SLOs of an OpenSLO YAML file')).action(
    async (file: string, flags: CommonFlags) => {
      const path = resolve(io.cwd, file);
      const text = await readFile(path, 'utf8').catch(() => {
        throw new AppError('LANES_NOT_FOUND', `cannot read ${file}`);
      });
      const deps = await open(io, flags);
      try {
        const result = await applySlos(deps, { yaml: text, file, source: 'file' });
        io.out(
          `Applied ${result.applied.length} SLO(s): ${result.applied.join(', ')}. Alerts: ${result.alerts.fired} fired, ${result.alerts.resolved} resolved.`,
        );
        io.exitCode = EXIT.ok;
      } catch (error) {
        if (error instanceof AppError && error.code === 'LANES_VALIDATION') {
          io.err(error.message);
          io.exitCode = EXIT.invalid;
          return;
        }
        throw error;
      } finally {
        await deps.close();
      }
    },
  );

  common(
    slo
      .command('push <name>')
      .description('Add good/total samples: --good N --total N [--at ISO] [--id ID], or --file samples.jsonl')
      .option('--good <n>', 'good events')
      .option('--total <n>', 'all events')
      .option('--at <iso>', 'when (default now)')
      .option('--id <id>', 'sample id: pushing it again counts nothing')
      .option('--file <jsonl>', 'one {"at","good","total","id"?} per line')
      .option('--json', 'print JSON'),
  ).action(
    async (
      name: string,
      flags: CommonFlags & { good?: string; total?: string; at?: string; id?: string; file?: string; json?: boolean },
    ) => {
      const deps = await open(io, flags);
      try {
        const samples = flags.file
          ? parseSamplesJsonl(await readFile(resolve(io.cwd, flags.file), 'utf8'), flags.file)
          : [
              {
                at: flags.at ?? deps.clock().toISOString(),
                good: count(flags.good, '--good'),
                total: count(flags.total, '--total'),
                ...(flags.id ? { id: flags.id } : {}),
              },
            ];
        const result = await pushSamples(deps, name, samples);
        io.out(
          flags.json
            ? JSON.stringify(result, null, 2)
            : `${result.added} sample(s) added, ${result.duplicates} already counted. Alerts: ${result.alerts.fired} fired, ${result.alerts.resolved} resolved.`,
        );
        io.exitCode = EXIT.ok;
      } finally {
        await deps.close();
      }
    },
  );

  common(
    slo
      .command('status')
      .description('Each SLO: budget remaining, burn rate per alert window, firing alerts')
      .option('--team <id>', 'only this team')
      .option('--json', 'print JSON'),
  ).action(async (flags: CommonFlags & { team?: string; json?: boolean }) => {
    const deps = await open(io, flags);
    try {
      // No worker runs beside a CLI command: count the log's new samples and evaluate the alerts first.
      await evaluateSloAlerts(deps);
      const list = await sloStatus(deps, flags.team);
      io.out(flags.json ? JSON.stringify({ slos: list }, null, 2) : formatSloStatus(list));
      io.exitCode = EXIT.ok;
    } finally {
      await deps.close();
    }
  });
};
