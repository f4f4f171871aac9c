import type { CharterIndex } from './charter.identity.js';
import type { Charter } from './charter.schema.js';
import type { LoggedEvent } from './event.js';

/**
 * Events posted through `POST /api/v1/events` name their actor themselves,
 * and anyone with a member token can name anyone. Unless the charter trusts
 * the event's source (`trusted_sources`), the boundary monitor therefore holds
 * such an event against the user who reported it — matched to a charter
 * person by e-mail — and never against the actor it names. Connector and
 * Lanes events carry no reporter and are unaffected.
 */
export interface ReportedActing {
  /** The event with the reporting user as its actor (`email:<address>`, resolved by e-mail). */
  event: LoggedEvent;
  /** The reporting user's e-mail. */
  by: string;
}

/** Whether the charter trusts API-posted events of `source` to name their actor. */
export const isTrustedSource = (charter: Charter, source: string): boolean =>
  charter.trusted_sources?.includes(source) ?? false;

/** The event as the reporting user made it; null when it was not reported through the API or its source is trusted. */
export const reportedActing = (charter: Charter, index: CharterIndex, event: LoggedEvent): ReportedActing | null => {
  const reporter = event.reportedBy;
  if (!reporter || isTrustedSource(charter, event.source)) return null;
  const identity = `email:${reporter.user.toLowerCase()}`;
  return {
    by: reporter.user,
    event: { ...event, actorIdentity: identity, actorPersonId: index.personByIdentity.get(identity) ?? null },
  };
};
