import type { Logger } from 'pino';
import type { CharterIndex } from '../domain/charter.identity.js';
import type { Charter } from '../domain/charter.schema.js';
import type { Database } from '../store/database.js';

/** The charter currently in force, with the lookups derived from it. */
export interface LoadedCharter {
  charter: Charter;
  index: CharterIndex;
  /** Where it was read from, for messages. */
  path: string;
  loadedAt: string;
}

/** What every service receives: built once in `deps.ts`, passed down, never global. */
export interface ServiceContext {
  database: Database;
  logger: Logger;
  clock: () => Date;
  newId: () => string;
  /** The charter in force, or undefined when none is loaded yet. */
  charter: () => LoadedCharter | undefined;
}
