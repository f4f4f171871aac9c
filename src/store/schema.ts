import type { Generated } from 'kysely';
/** Row types of every table, as Kysely sees them. Timestamps are ISO-8601 UTC text. */

export interface EventTable {
  id: string;
  source: string;
  source_event_id: string;
  occurred_at: string;
  received_at: string;
  actor_identity: string | null;
  actor_person_id: string | null;
  item_key: string | null;
  item_snapshot: string | null;
  kind: string;
  field: string | null;
  from_value: string | null;
  to_value: string | null;
  body: string | null;
  target: string | null;
  data: string | null;
  payload: string | null;
  payload_ref: string | null;
  /** Who posted the event through the API: JSON {"user": e-mail, "token": id or null}; null otherwise. */
  reported_by: string | null;
}

export interface ItemTable {
  key: string;
  kind: string;
  title: string;
  team: string | null;
  component: string | null;
  severity: string | null;
  priority: string | null;
  assignee: string | null;
  reporter: string | null;
  customer: string | null;
  state: string;
  resolution: string | null;
  stage: string;
  url: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  reopen_count: number;
  comment_count: number;
  event_count: number;
  pr_open: number;
  merged_at: string | null;
  deployed_at: string | null;
  verified_at: string | null;
  last_order_key: string;
  /** JSON array of the item's labels. */
  labels: string;
}

export interface SourceStateTable {
  source: string;
  event_count: number;
  duplicate_count: number;
  last_occurred_at: string | null;
  last_received_at: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface AppUserTable {
  id: string;
  email: string;
  name: string;
  role: string;
  password_hash: string;
  created_at: string;
}

export interface SessionTable {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  /** The ID token of a session opened through the identity provider (its logout needs it); null for passwords. */
  oidc_id_token: string | null;
}

export interface ApiTokenTable {
  id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  /** Space-separated scopes (`src/domain/token.scopes.ts`). */
  scopes: string;
}

export interface AuditEntryTable {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: string | null;
}

export interface WebhookDeliveryTable {
  /** `provider:delivery_id`. */
  id: string;
  provider: string;
  delivery_id: string;
  event_type: string;
  received_at: string;
  /** The raw body as received (its signature was verified over it), encoded as `body_encoding` says. */
  body: string;
  /** `identity` (the JSON text) or `deflate-raw+base64`. */
  body_encoding: Generated<string>;
  /** pending | mapped | unknown | failed */
  status: string;
  event_count: Generated<number>;
  error: string | null;
  processed_at: string | null;
  /** While pending: until when `claimed_by` maps it (migration 0021); others take it after that. */
  claimed_until: string | null;
  /** The intake that claimed it. */
  claimed_by: string | null;
}

export interface SyncCheckpointTable {
  source: string;
  scope: string;
  stream: string;
  cursor: string | null;
  since: string | null;
  run_started_at: string;
  updated_at: string;
  completed_at: string | null;
  /** Start of the last run that completed: the next run's default `since`. */
  last_success_started_at: string | null;
  units: Generated<number>;
  event_count: Generated<number>;
  last_error: string | null;
}

export interface HttpEtagTable {
  url: string;
  etag: string;
  updated_at: string;
}

export interface UnmappedValueTable {
  source: string;
  category: string;
  value: string;
  seen_count: number;
  first_seen_at: string;
  last_seen_at: string;
}

/** One decision held against the charter (boundary monitor). */
export interface BoundaryDecisionTable {
  event_id: string;
  item_key: string | null;
  occurred_at: string;
  /** Monday of the ISO week (UTC), YYYY-MM-DD. */
  week: string;
  team: string;
  domain: string;
  rule: string;
  /** The actor's role; `bot` for bots, `unknown` for people the charter does not name. */
  actor_role: string;
  standing: string;
  via: string | null;
  direction: string;
  crossing: number;
  sentence: string;
  /** JSON of the owners per charter (`BoundaryOwners`). */
  owners: string;
}

/** Weekly counts of decisions; never per person. */
export interface BoundaryWeekTable {
  team: string;
  week: string;
  domain: string;
  actor_role: string;
  standing: string;
  direction: string;
  decisions: number;
}

/** A status ping or relay (or, later, a portal lookup), for the middleman load. */
export interface MiddlemanSignalTable {
  event_id: string;
  item_key: string | null;
  occurred_at: string;
  week: string;
  team: string;
  /** The product manager who carries the load; empty when the team names none. */
  person_id: string;
  /** ping | relay | portal_lookup */
  kind: string;
}

export interface MiddlemanWeekTable {
  team: string;
  week: string;
  person_id: string;
  kind: string;
  signals: number;
}

/** One crossing considered for a boundary nudge, and what became of it. */
export interface BoundaryNudgeTable {
  id: string;
  team: string;
  item_key: string | null;
  domain: string;
  /** The `boundary_decision` (event id) nudged about; each is considered once. */
  decision_event_id: string;
  /** github | jira | slack, or source | slack when no target could be found. */
  channel: string;
  /** The item's URL (or `github:owner/repo#1`, `jira:KEY-1`) or `slack:<channel>`. */
  target: string | null;
  /** dry-run | send */
  mode: string;
  /** sending | sent | dry_run | failed | skipped */
  status: string;
  /** Why it was skipped (not_enabled, domain_filtered, already_nudged, daily_cap, ...). */
  reason: string | null;
  /** The text sent, or that would have been sent. */
  body: string | null;
  created_at: string;
  sent_at: string | null;
  error: string | null;
}

/** A stage change of an item with the event that caused it (what notifications fan out from). */
export interface ItemStageChangeTable {
  /** Deterministic: the same change found again (a replay) keeps its id. */
  id: string;
  item_key: string;
  from_stage: string | null;
  to_stage: string;
  occurred_at: string;
  evidence_event_id: string;
  /** JSON `{ summary, source, url }`. */
  evidence: string;
  recorded_at: string;
  fanned_out_at: string | null;
}

/** What stakeholders may find: one row per item, `visible` 0 for hidden or security-sensitive items. */
export interface PortalItemTable {
  key: string;
  kind: string;
  title: string;
  team: string | null;
  component: string | null;
  customer: string | null;
  reporter: string | null;
  stage: string;
  url: string | null;
  visible: number;
  updated_at: string;
  /** Key, title, component and customer folded for full-text search (the PostgreSQL tsvector derives from it). */
  search_text: Generated<string>;
}

/** A link between two items, stored both ways. */
export interface ItemLinkTable {
  item_key: string;
  other_key: string;
  relation: string;
}

/** The merge commits that carry an item's fix. */
export interface ItemFixCommitTable {
  item_key: string;
  sha: string;
  merged_at: string;
}

/** Commits a successful production deployment carried (its head, and any commits the event lists). */
export interface DeploymentCommitTable {
  sha: string;
  event_id: string;
  source: string;
  source_event_id: string;
  environment: string;
  deployment_id: string | null;
  deployed_at: string;
}

export interface ShareLinkTable {
  id: string;
  token_hash: string;
  item_key: string;
  created_by: string;
  created_at: string;
  revoked_at: string | null;
}

/** A follow: a user hears about stage changes of an item, component, team or saved search on one channel. */
export interface SubscriptionTable {
  id: string;
  user_id: string;
  /** item | component | team | search */
  target_kind: string;
  /** The item key, component, team id, or the saved search's name. */
  target: string;
  /** JSON filters of a saved search; null for the other kinds. */
  search: string | null;
  /** email | slack | webhook | feed */
  channel: string;
  address: string | null;
  /** The webhook signing secret. */
  secret: string | null;
  /** immediate | daily | weekly */
  cadence: string;
  /** SHA-256 (base64url) of the feed's secret token. */
  feed_token_hash: string | null;
  created_at: string;
  unsubscribed_at: string | null;
  /** null: no consent needed (own address, other channels); else pending | confirmed | declined | expired. */
  consent: string | null;
}

/** A confirmation e-mail to an address other than the subscriber's own: the request, its outbox state and its answer. */
export interface SubscriptionConsentTable {
  id: string;
  subscription_id: string;
  /** Lower case. */
  address: string;
  requested_by_name: string;
  requested_by_email: string;
  /** SHA-256 (base64url) of the link's token; set when the e-mail is sent. */
  token_hash: string | null;
  created_at: string;
  /** The confirm link works until then (reset to a week after sending). */
  expires_at: string;
  sent_at: string | null;
  /** Sends tried (counted when claimed). */
  attempts: Generated<number>;
  /** The end of the claim while `claimed_by` holds the row, else the time of the next try. */
  claimed_until: string | null;
  claimed_by: string | null;
  last_error: string | null;
  /** confirmed | declined | expired; null while unanswered. */
  answer: string | null;
  answered_at: string | null;
}

/** One notification of one stage change to one subscription (unique pair), with its attempts. */
export interface NotificationDeliveryTable {
  id: string;
  subscription_id: string;
  stage_change_id: string;
  /** pending | sending | sent | failed | dead | skipped */
  status: string;
  attempts: Generated<number>;
  next_attempt_at: string | null;
  /** The digest slot it waits for; null when sent on its own. */
  digest_at: string | null;
  claimed_until: string | null;
  claimed_by: string | null;
  last_error: string | null;
  sent_at: string | null;
  created_at: string;
}

/** One quality signal for one scope and week (`component` is '' for a team-level figure). */
export interface QualitySignalWeekTable {
  signal: string;
  team: string;
  component: string;
  week: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  /** JSON object, or null. */
  details: string | null;
  /** JSON object of the few detail fields a chart shows (see `SUMMARY_DETAILS`), or null. */
  summary: string | null;
}

/** One pull request, merged from all its events (times as ISO text; the earliest of each). */
export interface QualityPrTable {
  /** `owner/name#number`, or `<item key>#number` for a PR event without a repository. */
  pr_key: string;
  repo: string | null;
  number: string;
  item_key: string | null;
  opened_at: string | null;
  first_commit_at: string | null;
  first_review_at: string | null;
  merged_at: string | null;
  merge_sha: string | null;
  /** 1 once an approving review arrived. */
  approved: number;
  /** 1 once a review asked for changes, commented, or carried comments. */
  discussed: number;
  /** Changed lines (additions + deletions), the largest reported. */
  size: number | null;
}

/** One successful production deployment event. */
export interface QualityDeploymentTable {
  event_id: string;
  repo: string | null;
  service: string | null;
  /** The source's deployment id, else the event id. */
  deployment_id: string;
  environment: string;
  at: string;
  /** JSON array of lower-case commit shas. */
  shas: string;
  /** JSON array of PR references as given. */
  prs: string;
}

/** A finding of the quality catalog, one per rule and scope (`component` '' for team level). */
export interface QualityFindingTable {
  id: string;
  rule: string;
  team: string;
  component: string;
  severity: string;
  pattern: string;
  guardrail: string;
  /** JSON { figures, trend, links }. */
  evidence: string;
  /** JSON [{ category, weight, reason }]. */
  causes: string;
  first_seen: string;
  last_seen: string;
  data_week: string;
  active: number;
}

/** The escalation of a finding (same id) to the team's engineering-leadership contact. */
export interface EscalationTable {
  id: string;
  /** open | acknowledged | action_planned | resolved | dismissed */
  state: string;
  addressed_to: string | null;
  plan_url: string | null;
  reason: string | null;
  /** JSON array of transitions. */
  history: string;
  updated_at: string;
  reopened_count: Generated<number>;
}

/** A notification of an escalation to the leadership contact, recorded for delivery. */
export interface EscalationNotificationTable {
  id: string;
  escalation_id: string;
  person_id: string | null;
  address: string | null;
  reason: string;
  subject: string;
  body: string;
  created_at: string;
  /** When the SMTP server took the e-mail; null while unsent. */
  sent_at: string | null;
  /** ISO: the end of the claim while `claimed_by` holds the row, else the retry time of a failed send. */
  claimed_until: string | null;
  /** The mailer round holding the row; null when nobody does. */
  claimed_by: string | null;
  /** Sends tried (counted when claimed). */
  attempts: Generated<number>;
  last_error: string | null;
}

/** An SLO in force (docs/slo.md); `spec` is the OpenSLO document as JSON. */
export interface SloTable {
  name: string;
  team: string;
  component: string | null;
  service: string;
  target: number;
  window_days: number;
  spec: string;
  /** file | charter */
  source: string;
  /** received_at of the last sli_sample event counted (events at it are read again, deduplicated by id). */
  events_checkpoint: string | null;
  updated_at: string;
}

/** Good/total of one SLO summed per minute (`bucket` ISO minute); samples add up. */
export interface SloSampleTable {
  slo: string;
  bucket: string;
  good: number;
  total: number;
}

/** Sample ids already counted for an SLO (pushed ids, `event:<id>` for sli_sample events). */
export interface SloSampleSeenTable {
  slo: string;
  sample_id: string;
}

/** One burn-rate alert episode of one SLO and rule. */
export interface SloAlertTable {
  slo: string;
  rule: string;
  severity: string;
  fired_at: string;
  resolved_at: string | null;
  burn_long: number;
  burn_short: number;
}

/** A sign-in through the identity provider, started and not yet finished (claimed once). */
export interface OidcFlowTable {
  state_hash: string;
  browser_hash: string;
  nonce: string;
  code_verifier: string;
  return_to: string;
  created_at: string;
  expires_at: string;
}

/** A fixed rate-limit window per key, shared by every instance on the database. */
export interface RateLimitWindowTable {
  key: string;
  window_start: string;
  count: number;
}

export interface DB {
  oidc_flow: OidcFlowTable;
  rate_limit_window: RateLimitWindowTable;
  slo: SloTable;
  slo_sample: SloSampleTable;
  slo_sample_seen: SloSampleSeenTable;
  slo_alert: SloAlertTable;
  quality_finding: QualityFindingTable;
  escalation: EscalationTable;
  escalation_notification: EscalationNotificationTable;
  quality_signal_week: QualitySignalWeekTable;
  quality_pr: QualityPrTable;
  quality_deployment: QualityDeploymentTable;
  subscription: SubscriptionTable;
  subscription_consent: SubscriptionConsentTable;
  notification_delivery: NotificationDeliveryTable;
  item_stage_change: ItemStageChangeTable;
  portal_item: PortalItemTable;
  share_link: ShareLinkTable;
  item_fix_commit: ItemFixCommitTable;
  item_link: ItemLinkTable;
  deployment_commit: DeploymentCommitTable;
  boundary_decision: BoundaryDecisionTable;
  boundary_nudge: BoundaryNudgeTable;
  boundary_week: BoundaryWeekTable;
  middleman_signal: MiddlemanSignalTable;
  middleman_week: MiddlemanWeekTable;
  webhook_delivery: WebhookDeliveryTable;
  sync_checkpoint: SyncCheckpointTable;
  http_etag: HttpEtagTable;
  unmapped_value: UnmappedValueTable;
  app_user: AppUserTable;
  session: SessionTable;
  api_token: ApiTokenTable;
  audit_entry: AuditEntryTable;
  event: EventTable;
  item: ItemTable;
  source_state: SourceStateTable;
  meta: MetaTable;
}
