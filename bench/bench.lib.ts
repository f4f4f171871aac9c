import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/** One measured figure, as every result file stores it. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The floor measured in the same run (same unit), or null when the target is absolute. */
  floor: number | null;
  /** value / floor for throughput (higher is better), floor / value for times; null without a floor. */
  ratio: number | null;
  /** The target, in words, e.g. ">= 100000 events/s and ratio >= 0.5". */
  target: string;
  /** Whether the figure meets its target. */
  pass: boolean;
  machine: string;
  at: string;
}

export const machine = (): string =>
  `${cpus().length}x ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;

export const figure = (f: Omit<Figure, 'machine' | 'at'>): Figure => ({
  ...f,
  machine: machine(),
  at: new Date().toISOString(),
});

const fmt = (n: number | null): string =>
  n === null ? '-' : Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);

export const writeResults = (name: string, figures: Figure[]): void => {
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(figures, null, 2)}\n`);
  const rows = figures.map((f) => [
    f.name,
    `${fmt(f.value)} ${f.unit}`,
    fmt(f.floor),
    fmt(f.ratio),
    f.target,
    f.pass ? 'yes' : 'NO',
  ]);
  const head = ['figure', 'value', 'floor', 'ratio', 'target', 'met'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`\n${name} (${machine()})`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log(`→ bench/results/${name}.json`);
};

export const seconds = (startNs: bigint): number => Number(process.hrtime.bigint() - startNs) / 1e9;
