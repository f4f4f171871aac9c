import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { MAX_CHARTER_BYTES, parseCharter } from '../domain/charter.parse.js';
import { STARTER_CHARTER } from '../domain/charter.template.js';
import type { CharterIssue } from '../domain/charter.validate.js';
import { AppError } from '../domain/errors.js';
import type { LoadedCharter } from './context.js';

/** What loading a charter file gives: the charter when it can be used, and every issue found. */
export interface CharterFileResult {
  loaded?: LoadedCharter;
  issues: CharterIssue[];
}

const errorCode = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;

/** The text of a charter file, refused before it is read when it is larger than `MAX_CHARTER_BYTES`. */
const readCharterText = async (path: string, displayName: string): Promise<string> => {
  try {
    const { size } = await stat(path);
    if (size > MAX_CHARTER_BYTES)
      throw new AppError(
        'LANES_CHARTER_INVALID',
        `${displayName} is ${size.toLocaleString('en-US')} bytes; a charter may be at most 1 MiB (${MAX_CHARTER_BYTES.toLocaleString('en-US')} bytes), so Lanes did not read it`,
        { path, bytes: size, limit: MAX_CHARTER_BYTES },
      );
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new AppError(
        'LANES_CHARTER_NOT_FOUND',
        `no charter at ${displayName}; create one with \`lanes init\`, or point LANES_CHARTER at an existing lanes.yaml`,
        { path },
      );
    if (code === 'EISDIR')
      throw new AppError(
        'LANES_CHARTER_NOT_FOUND',
        `${displayName} is a directory; give the path of a lanes.yaml file`,
        {
          path,
        },
      );
    throw error;
  }
};

/**
 * Reads and validates a `lanes.yaml`. Issues name the file as `displayName`
 * (the path as the user typed it, by default `path`).
 *
 * `loaded` is set when the only issues are LANES_CHARTER_DELEGATION_EXPIRED:
 * delegations lapse with the calendar, not with an edit, and a running server
 * must not refuse to start (or reload) because a date went by. An expired
 * delegation is simply not in force; `lanes check` still reports it so that
 * someone removes it. Any other issue leaves `loaded` unset.
 *
 * @throws AppError LANES_CHARTER_NOT_FOUND when there is no file at `path`.
 * @throws AppError LANES_CHARTER_INVALID when the file is larger than `MAX_CHARTER_BYTES` (1 MiB); it is not read.
 */
export const loadCharterFile = async (
  path: string,
  now: Date,
  displayName: string = path,
): Promise<CharterFileResult> => {
  const text = await readCharterText(path, displayName);
  // The policy above lives in parseCharter: it returns a charter only when every issue is non-blocking.
  const { charter, issues } = parseCharter(text, displayName, now);
  if (!charter) return { issues };
  return {
    loaded: { charter, index: buildCharterIndex(charter), path, loadedAt: now.toISOString() },
    issues,
  };
};

/**
 * Writes the starter charter to `path` (creating its folder).
 * @throws AppError LANES_CHARTER_EXISTS when a file is already there; it is never overwritten.
 */
export const initCharter = async (path: string): Promise<{ path: string; bytes: number }> => {
  await mkdir(dirname(path), { recursive: true });
  try {
    // 'wx' fails if the file exists, atomically: no check-then-write race.
    await writeFile(path, STARTER_CHARTER, { encoding: 'utf8', flag: 'wx' });
  } catch (error) {
    if (errorCode(error) === 'EEXIST')
      throw new AppError('LANES_CHARTER_EXISTS', `${path} already exists; Lanes never overwrites a charter`, { path });
    throw error;
  }
  return { path, bytes: Buffer.byteLength(STARTER_CHARTER) };
};

/**
 * Issues in compiler style, one block per issue:
 * `lanes.yaml:12:7 error LANES_CHARTER_UNKNOWN_PERSON: team "payments" lists member "bobb", who is not in people.`
 * followed by an indented `→ what to do` line.
 */
export const formatIssues = (issues: readonly CharterIssue[]): string =>
  issues.map((i) => `${i.file}:${i.line}:${i.col} ${i.severity} ${i.code}: ${i.message}\n  → ${i.hint}`).join('\n');
