import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { UnmappedCategory } from '../../domain/connector.mapping.js';
import type { GithubMapping } from '../../domain/connector.mapping.js';
import type { MapContext } from '../connector.types.js';

/** DevLake's recorded GitHub data for panjf2000/ants (see test/fixtures/external/devlake-e2e/README.md). */
const DEVLAKE = new URL('../../../test/fixtures/external/devlake-e2e/github/e2e/', import.meta.url);

export const DEVLAKE_REPO = 'panjf2000/ants';

/** The rows of one DevLake CSV (`raw_tables/…` or `snapshot_tables/…`). */
export const devlakeRows = (file: string): Record<string, string>[] =>
  parse(readFileSync(new URL(file, DEVLAKE), 'utf8'), { columns: true, relax_quotes: true }) as Record<
    string,
    string
  >[];

/** The JSON `data` column of a raw table, one API object a row, de-duplicated by the object's `id`. */
export const devlakeRaw = <T = Record<string, unknown>>(table: string): T[] => {
  const seen = new Set<unknown>();
  const out: T[] = [];
  for (const row of devlakeRows(`raw_tables/${table}.csv`)) {
    const data = JSON.parse(row['data']!) as { id?: unknown };
    if (data.id !== undefined && seen.has(data.id)) continue;
    seen.add(data.id);
    out.push(data as T);
  }
  return out;
};

/** A map context that records what was reported unmapped. */
export const recordingContext = (mapping: GithubMapping | undefined) => {
  const unmapped: string[] = [];
  const ctx: MapContext<GithubMapping> = {
    mapping,
    unmapped: (category: UnmappedCategory, value: string) => void unmapped.push(`${category}:${value}`),
  };
  return { ctx, unmapped };
};
