import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { BoundaryReport, MiddlemanReport, TeamBoundaryReport } from '../api/boundaries.contract.js';
import { loadConfig, type Config } from '../config.js';
import { createDeps, type AppDeps } from '../deps.js';
import { AppError } from '../domain/errors.js';
import {
  boundaryReport,
  middlemanReport,
  recomputeBoundaries,
  recomputeBoundariesIfStale,
} from '../services/boundaries.service.js';
import { formatIssues, loadCharterFile } from '../services/charter.service.js';
import { EXIT, type CliIo } from './io.js';

interface Flags {
  database?: string;
  charter?: string;
}

interface ReportFlags extends Flags {
  team?: string;
  since?: string;
  format?: string;
}

const FORMATS = ['table', 'json', 'markdown'] as const;
type Format = (typeof FORMATS)[number];

/** Opens the database with the charter loaded: boundaries are held against it. */
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

const formatOf = (value: string | undefined): Format => {
  const format = (value ?? 'table') as Format;
  if (!FORMATS.includes(format)) {
    throw new AppError('LANES_VALIDATION', `--format "${value}": use ${FORMATS.join(', ')}`);
  }
  return format;
};

const percent = (share: number | null): string => (share === null ? '–' : `${Math.round(share * 100)} %`);

const DIRECTION_WORDS = {
  product_to_engineering: 'product → engineering',
  engineering_to_product: 'engineering → product',
  other: 'other',
} as const;

/** Columns padded to their widest cell; numbers right-aligned. */
const table = (header: string[], rows: string[][]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[\d.,–% ]+$/.test(r[i] ?? '')));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
};

const markdownTable = (header: string[], rows: string[][]): string =>
  [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`),
  ].join('\n');

const DOMAIN_HEADER = ['Domain', 'Decided by', 'Decisions', 'In lane', 'Crossings', 'Share in lane', 'P→E', 'E→P'];
const domainRows = (t: TeamBoundaryReport): string[][] =>
  t.domains.map((d) => [
    `${d.title} (${d.domain})`,
    d.decidedBy ?? '–',
    String(d.decisions),
    String(d.inLane),
    String(d.crossings),
    percent(d.shareInLane),
    String(d.directions.product_to_engineering),
    String(d.directions.engineering_to_product),
  ]);

/** Eight levels of a block sparkline, for the weekly share in lane in a terminal. */
const spark = (values: (number | null)[]): string =>
  values.map((v) => (v === null ? '·' : '▁▂▃▄▅▆▇█'[Math.min(7, Math.floor(v * 8))]!)).join('');

export const renderBoundaryReport = (report: BoundaryReport, format: Format): string => {
  if (format === 'json') return JSON.stringify(report, null, 2);
  const md = format === 'markdown';
  const out: string[] = [];
  out.push(
    md
      ? `# Boundaries since ${report.since}`
      : `Boundaries since ${report.since} (decisions held against the charter; counts by team, domain and role only)`,
  );
  if (!report.current) {
    out.push(
      `${md ? '> ' : ''}The charter changed since these figures were computed; run \`lanes boundaries recompute\`.`,
    );
  }
  for (const t of report.teams) {
    out.push('');
    const headline = `${t.team.name}: ${percent(t.totals.shareInLane)} of ${t.totals.inLane + t.totals.crossings} decisions made in lane; ${t.totals.crossings} crossings (${t.totals.directions.product_to_engineering} product → engineering, ${t.totals.directions.engineering_to_product} engineering → product), ${t.totals.bots} by bots, ${t.totals.charterGaps} by people missing from the charter.`;
    out.push(md ? `## ${t.team.name}\n\n${headline}` : headline);
    if (t.domains.length === 0) {
      out.push('No decisions in this period.');
      continue;
    }
    out.push('', md ? markdownTable(DOMAIN_HEADER, domainRows(t)) : table(DOMAIN_HEADER, domainRows(t)));
    out.push(
      '',
      `Weekly share in lane (${t.weeks[0]?.week ?? ''} → ${t.weeks.at(-1)?.week ?? ''}): ${spark(t.weeks.map((w) => w.shareInLane))}`,
    );
    if (t.concentration.length > 0) {
      out.push(
        `Crossings concentrate in: ${t.concentration
          .slice(0, 3)
          .map((c) => `${c.title} (${percent(c.share)})`)
          .join(', ')}.`,
      );
    }
    if (t.examples.length > 0) {
      out.push('', md ? '### Recent examples' : 'Recent examples:');
      for (const e of t.examples.slice(0, 5)) {
        out.push(`- ${e.occurredAt.slice(0, 10)} ${DIRECTION_WORDS[e.direction]}: ${e.sentence}`);
      }
    }
  }
  return out.join('\n');
};

export const renderMiddlemanReport = (report: MiddlemanReport, format: Format): string => {
  if (format === 'json') return JSON.stringify(report, null, 2);
  const md = format === 'markdown';
  const header = ['Team', 'Product manager', 'Status pings', 'Relays', 'Portal lookups', 'Per week'];
  const rows: string[][] = [];
  for (const t of report.teams) {
    const weeks = Math.max(1, t.weeks.length);
    for (const pm of t.productManagers) {
      const load = pm.totals.pings + pm.totals.relays;
      rows.push([
        t.team.name,
        pm.name,
        String(pm.totals.pings),
        String(pm.totals.relays),
        String(pm.totals.portalLookups),
        (load / weeks).toFixed(1),
      ]);
    }
  }
  const title = `Middleman load since ${report.since}: status pings and PM status relays`;
  return [md ? `# ${title}` : title, '', md ? markdownTable(header, rows) : table(header, rows)].join('\n');
};

export const registerReportCommands = (program: Command, io: CliIo): void => {
  const report = program.command('report').description('Reports from the event log');
  const common = (command: Command): Command =>
    command
      .option('--team <id>', 'one team (default: every team)')
      .option('--since <when>', 'how far back: 90d (default) or a date such as 2026-01-31')
      .option('--format <format>', 'table (default), json or markdown')
      .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
      .option('--charter <file>', 'lanes.yaml (env LANES_CHARTER)');

  common(report.command('boundaries'))
    .description('Decisions held against the charter: share in lane per domain, trend, directions, examples')
    .action(async (flags: ReportFlags) => {
      const format = formatOf(flags.format);
      const deps = await open(io, flags);
      try {
        const recomputed = await recomputeBoundariesIfStale(deps);
        if (recomputed) io.err(`Recomputed ${recomputed.decisions} decisions under the current charter.`);
        io.out(renderBoundaryReport(await boundaryReport(deps, flags), format));
        io.exitCode = EXIT.ok;
      } finally {
        await deps.close();
      }
    });

  common(report.command('middleman'))
    .description('Middleman load: status pings and PM status relays per team and product manager')
    .action(async (flags: ReportFlags) => {
      const format = formatOf(flags.format);
      const deps = await open(io, flags);
      try {
        await recomputeBoundariesIfStale(deps);
        io.out(renderMiddlemanReport(await middlemanReport(deps, flags), format));
        io.exitCode = EXIT.ok;
      } finally {
        await deps.close();
      }
    });

  program
    .command('boundaries')
    .description('Boundary monitor maintenance')
    .command('recompute')
    .description('Judge the whole event log again against the charter (after changing lanes.yaml)')
    .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
    .option('--charter <file>', 'lanes.yaml (env LANES_CHARTER)')
    .action(async (flags: Flags) => {
      const deps = await open(io, flags);
      try {
        const r = await recomputeBoundaries(deps);
        io.out(
          `Held ${r.events} events against the charter in ${(r.ms / 1000).toFixed(1)} s (${r.eventsRead} could bear on a decision): ${r.decisions} decisions, ${r.crossings} crossings, ${r.middleman} middleman signals.`,
        );
        io.exitCode = EXIT.ok;
      } finally {
        await deps.close();
      }
    });
};
