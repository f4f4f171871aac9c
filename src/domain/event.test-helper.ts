import type { LoggedEvent } from './event.js';

/** A logged `field_changed` event with empty fields; tests override what they are about. */
export const loggedEvent = (over: Partial<LoggedEvent> = {}): LoggedEvent => ({
  id: 'e1',
  source: 'jira',
  sourceEventId: 'e1',
  occurredAt: '2026-05-01T10:00:00.000Z',
  receivedAt: '2026-05-01T10:00:01.000Z',
  actorIdentity: null,
  actorPersonId: null,
  itemKey: null,
  item: null,
  kind: 'field_changed',
  field: null,
  from: null,
  to: null,
  text: null,
  target: null,
  data: null,
  payload: undefined,
  payloadRef: null,
  ...over,
});
