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
  LANES_BODY_TOO_DEEP: 'The JSON body nests arrays and objects deeper than this server accepts.',
  LANES_BUSY:
    'The server is reading as many unverified request bodies as it allows; retry after the Retry-After delay.',
  // events
  LANES_EVENT_INVALID: 'An event in the batch is missing a field or has a wrong value.',
  LANES_EVENT_UNKNOWN_KIND: 'An event in the batch has a change kind Lanes does not know.',
  LANES_BATCH_TOO_LARGE: 'The batch holds more events than one request may carry.',
  LANES_SOURCE_RESERVED:
    'The event source belongs to a connector or to Lanes itself: only its verified webhooks and syncs write it.',
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
  // sign-in with the identity provider (issue 13)
  LANES_PASSWORD_LOGIN_DISABLED: 'Password sign-in is turned off here: sign in with the identity provider.',
  LANES_OIDC_NOT_CONFIGURED: 'Sign-in with an identity provider is not set up on this server.',
  LANES_OIDC_STATE: 'The sign-in attempt is unknown, was already used, or has expired; start again.',
  LANES_OIDC_FAILED: "The identity provider's answer failed Lanes' checks (issuer, signature, nonce, expiry).",
  LANES_OIDC_EMAIL_UNVERIFIED: 'The identity provider did not vouch for an e-mail address Lanes may use.',
  LANES_OIDC_NO_ACCOUNT: 'There is no Lanes account for this person, and sign-up at first sign-in is off.',
  LANES_OIDC_NO_ROLE: 'This person is in none of the groups that may use Lanes.',
  // connectors (issue 4)
  LANES_WEBHOOK_SIGNATURE: 'The webhook signature is missing or does not match the configured secret.',
  LANES_WEBHOOK_STALE: 'The webhook timestamp is outside the accepted window; it may be a replay.',
  LANES_WEBHOOK_NOT_STORED: 'The webhook delivery could not be stored; nothing was kept, redeliver it later.',
  // outgoing requests (issue 13)
  LANES_URL_FORBIDDEN:
    'Lanes may not call this URL: its host is inside the network (loopback, private, link-local or reserved). An admin can allow it with LANES_OUTBOUND_ALLOW.',
  // quality (issue 7)
  LANES_SLO_INVALID: 'An SLO document is not valid OpenSLO v1 in the subset Lanes reads.',
  LANES_CONNECTOR_NOT_CONFIGURED: 'This connector is not configured: set its secret or token first.',
  LANES_UPSTREAM_FAILED: 'The external service kept failing or answered with something Lanes cannot read.',
  LANES_IMPORT_INVALID: 'The import file or its map does not match the expected shape.',
  LANES_COMMENT_INVALID: 'A line of the comments file is not a comment Lanes can classify.',
  // backups (issue 14)
  LANES_FILE_EXISTS: 'A file already exists at that path; pass --force to replace it.',
  LANES_DATABASE_IN_USE: 'Another process has the database open (a running lanes serve?); stop it first.',
  LANES_BACKUP_INVALID:
    "The file is not a Lanes database that passes SQLite's integrity check, or it is newer than this Lanes.",
  LANES_ENGINE_UNSUPPORTED: 'This command works on SQLite only; on PostgreSQL use its own tools (docs/operations.md).',
  // configuration and infrastructure
  LANES_CONFIG_INVALID: 'The environment configuration is not valid.',
  LANES_DATABASE_UNREACHABLE: 'The database could not be reached.',
  // the database away or out of room (issue 14): 503/507 with Retry-After, and Lanes resumes by itself
  LANES_DATABASE_BUSY:
    'The database stayed locked by other writers past the wait limit; retry after the Retry-After delay.',
  LANES_STORAGE_FULL: 'The disk holding the database is full; nothing was stored. Lanes resumes when space is freed.',
  LANES_STORAGE_READ_ONLY:
    'The database refuses writes (a read-only file or volume, or a PostgreSQL standby); nothing was stored.',
  LANES_STORAGE_FAILED: 'The disk holding the database reported an I/O error; nothing was stored.',
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
