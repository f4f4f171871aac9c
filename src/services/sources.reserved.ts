import { WEBHOOK_PROVIDERS } from '../connectors/registry.js';

/** The source of the events Lanes derives itself (a deployment that carried a fix, SLO alerts). */
export const LANES_SOURCE = 'lanes';

/**
 * Sources only Lanes writes: every connector in the registry (through its
 * verified webhooks and syncs) and Lanes' own derived events. `POST
 * /api/v1/events` refuses them whatever the token, and no token scope can name
 * them, so nobody can write in a connector's name or pre-empt a genuine
 * delivery's event id.
 */
export const RESERVED_SOURCES: ReadonlySet<string> = new Set([...Object.keys(WEBHOOK_PROVIDERS), LANES_SOURCE]);

export const isReservedSource = (source: string): boolean => RESERVED_SOURCES.has(source);
