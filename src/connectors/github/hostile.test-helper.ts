import fc from 'fast-check';
import { expect } from 'vitest';
import { AppError } from '../../domain/errors.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';

/**
 * Property-test helpers shared by the connector folders: arbitrary hostile
 * versions of real payloads (values swapped for nulls, numbers, HTML, SQL,
 * very long or odd text, impossible dates; keys deleted), and the check every
 * mapper must pass on them: it throws nothing but an `AppError`, and whatever
 * it returns passes `validateEventBatch`.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

const LONG = 'x'.repeat(70_000);

/** Values real systems send where something else was expected, and text that must stay text. */
export const hostileValue: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.constantFrom<Json | undefined>(
    undefined,
    null,
    '',
    ' ',
    0,
    -1,
    1.5,
    1e21,
    8.64e15 + 1,
    253_402_300_800,
    Number.MAX_SAFE_INTEGER,
    true,
    {},
    [],
    [null],
    '<script>alert(1)</script>',
    "'; DROP TABLE events; --",
    'a b/c#d?e',
    'ΣΑΣ 🙂 \u0000\u202e',
    LONG,
    `https://${LONG}`,
    'https://',
    'not a date',
    '9999-12-31T23:59:59Z',
    '+275760-09-13T00:00:00.000Z',
    '0000-01-01T00:00:00Z',
    '2024-02-30T25:61:00+0000',
    '2024-01-01T00:00:00.000+0100',
    '[deleted]',
    'ghost',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer(),
  fc.double(),
);

const pathsOf = (value: Json, path: Path = [], out: Path[] = []): Path[] => {
  out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...path, i], out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...path, k], out);
  }
  return out;
};

const setAt = (root: Json, path: Path, value: Json | undefined): Json => {
  if (path.length === 0) return value === undefined ? null : value;
  let parent: Json = root;
  for (const part of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[part]!;
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    if (value === undefined) parent.splice(last as number, 1);
    else parent[last as number] = value;
  } else if (parent !== null && typeof parent === 'object') {
    if (value === undefined) delete parent[last as string];
    else parent[last as string] = value;
  }
  return root;
};

/**
 * Copies of `base` with one to six values replaced by hostile ones (or
 * removed). The root itself is never replaced, so the payload keeps its shape
 * enough for the mapper to get past its first checks most of the time.
 */
export const mutated = (base: unknown): fc.Arbitrary<unknown> => {
  const paths = pathsOf(base as Json).slice(1);
  if (paths.length === 0) return fc.constant(structuredClone(base));
  return fc
    .array(fc.tuple(fc.nat({ max: paths.length - 1 }), hostileValue), { minLength: 1, maxLength: 6 })
    .map((edits) => {
      let copy = structuredClone(base) as Json;
      for (const [at, value] of edits) {
        try {
          copy = setAt(copy, paths[at]!, value);
        } catch {
          // an earlier edit removed or replaced the parent: skip
        }
      }
      return copy;
    });
};

/**
 * Runs a mapper and checks the contract: only `AppError`s are thrown, and
 * returned events all pass `validateEventBatch` (which the webhook and sync
 * services run on a whole delivery or page at once).
 */
export const expectWellBehaved = (map: () => readonly EventInput[] | null | undefined): void => {
  let events: readonly EventInput[] | null | undefined;
  try {
    events = map();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return;
  }
  if (!events) return;
  const checked = validateEventBatch(events);
  if (checked.ok) return;
  const shown = checked.rejections.slice(0, 3).map((r) => ({
    ...r,
    event: JSON.stringify(events[r.index], (_k, v: unknown) =>
      typeof v === 'string' && v.length > 120 ? `${v.slice(0, 120)}…(${v.length})` : v,
    ).slice(0, 1500),
  }));
  expect(shown).toEqual([]);
};

/**
 * Checks `expectWellBehaved(() => map(value))` for values of `arbitrary`. On a
 * failure it reports the error, the seed and the path to replay it, without
 * printing the (often very large) payload itself.
 */
export const assertWellBehaved = <T>(
  arbitrary: fc.Arbitrary<T>,
  map: (value: T) => readonly EventInput[] | null | undefined,
  numRuns = Number(process.env['LANES_FUZZ_RUNS'] ?? 300),
): void => {
  const result = fc.check(
    fc.property(arbitrary, (value) => expectWellBehaved(() => map(value))),
    { numRuns },
  );
  if (!result.failed) return;
  const error = result.errorInstance as Error | undefined;
  throw new Error(
    `property failed (seed ${result.seed}, path ${result.counterexamplePath ?? '?'}): ${error?.message ?? String(error)}`.slice(
      0,
      4000,
    ),
    { cause: error },
  );
};
