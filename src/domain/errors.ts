/**
 * The closed list of stable error codes. Services throw `AppError` with one of
 * these; the HTTP server maps them to statuses and the CLI to exit codes.
 * Never rename a code: clients and scripts match on it.
 */
export const ERROR_CODES = {
  // input and contract
  LANES_VALIDATION: 'The input does not match the expected shape.',
  LANES_NOT_FOUND: 'The requested thing does not exist.',
  LANES_BODY_TOO_LARGE: 'The request body is larger than the configured limit.',
  LANES_BODY_MALFORMED: 'The request body is not valid JSON.',
  LANES_UNSUPPORTED_MEDIA_TYPE: 'The request body must be application/json.',
  LANES_CURSOR_INVALID: 'The pagination cursor is not one this server issued.',
  // events
  LANES_EVENT_INVALID: 'An event in the batch is missing a field or has a wrong value.',
  LANES_EVENT_UNKNOWN_KIND: 'An event in the batch has a change kind Lanes does not know.',
  LANES_BATCH_TOO_LARGE: 'The batch holds more events than one request may carry.',
  // charter
  LANES_CHARTER_INVALID: 'lanes.yaml is not valid.',
  LANES_CHARTER_NOT_FOUND: 'No lanes.yaml was found at the given path.',
  LANES_CHARTER_EXISTS: 'A lanes.yaml already exists at that path.',
  // access (issue 3)
  LANES_UNAUTHENTICATED: 'Sign in or send an API token.',
  LANES_FORBIDDEN: 'Your role does not allow this.',
  LANES_CSRF: 'The CSRF token is missing or does not match the session.',
  LANES_RATE_LIMITED: 'Too many attempts; wait and try again.',
  LANES_CONFLICT: 'The request conflicts with what is stored.',
  // connectors (issue 4)
  LANES_WEBHOOK_SIGNATURE: 'The webhook signature is missing or does not match the configured secret.',
  LANES_WEBHOOK_STALE: 'The webhook timestamp is outside the accepted window; it may be a replay.',
  // quality (issue 7)
  LANES_SLO_INVALID: 'An SLO document is not valid OpenSLO v1 in the subset Lanes reads.',
  LANES_CONNECTOR_NOT_CONFIGURED: 'This connector is not configured: set its secret or token first.',
  LANES_UPSTREAM_FAILED: 'The external service kept failing or answered with something Lanes cannot read.',
  LANES_IMPORT_INVALID: 'The import file or its map does not match the expected shape.',
  // configuration and infrastructure
  LANES_CONFIG_INVALID: 'The environment configuration is not valid.',
  LANES_DATABASE_UNREACHABLE: 'The database could not be reached.',
  LANES_INTERNAL: 'Something went wrong inside Lanes.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error a user can act on: a stable code, a sentence, and structured details. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly details: unknown = undefined,
  ) {
    super(message);
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
