/**
 * Types of every request and response body in docs/API.md (recloop HTTP API v1).
 *
 * The doc is the contract. Where it leaves a field's type open, the type here
 * is the widest one the UI copes with (e.g. a time may be unix seconds or an
 * ISO string; a model version may be sent as a number by some backends).
 */

/** Error body of every 4xx/5xx response. FastAPI request validation (422) sends a list. */
export interface ApiErrorBody {
  detail: string | ValidationIssue[]
}

/** One entry of FastAPI's 422 validation `detail` list. */
export interface ValidationIssue {
  loc?: (string | number)[]
  msg: string
  type?: string
}

/** GET /health */
export interface Health {
  status: string
}

/** GET /ready (503 until a model is loaded) */
export interface Ready {
  ready: boolean
  model_version: string | null
}

export const EVENT_TYPES = ['view', 'click', 'like', 'dislike', 'rate', 'purchase'] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** One event of POST /v1/events. `value` is required (1-5) for `rate`. */
export interface EventIn {
  event_id: string
  user_id: string
  item_id: number
  type: EventType
  value: number | null
  timestamp: number | null
  request_id: string | null
}

/** Body of POST /v1/events: one event or a batch. */
export type EventsRequest = EventIn | { events: EventIn[] }

export interface RejectedEvent {
  index: number
  event_id: string | null
  error: string
}

export type EventStatus = 'applied' | 'duplicate' | 'rejected'

export interface EventResult {
  event_id: string | null
  status: EventStatus
}

/** Response of POST /v1/events (200, or 422 when every event is invalid). */
export interface EventsResponse {
  accepted: number
  duplicates: number
  rejected: RejectedEvent[]
  results: EventResult[]
}

/** A catalog item. */
export interface Item {
  item_id: number
  title: string
  year: number | null
  genres: string[]
}

export const REC_SOURCES = ['ease', 'itemknn', 'sequence', 'als', 'popular', 'trending'] as const
export type RecSource = (typeof REC_SOURCES)[number]

/** A recommended item: Item + score, source and a human-readable reason. */
export interface RecItem extends Item {
  score: number
  source: RecSource | (string & {})
  reason: string | null
}

/** GET /v1/users/{user_id}/recommendations */
export interface Recommendations {
  user_id: string
  items: RecItem[]
  model_version: string | null
  request_id: string
  variant: string | null
  latency_ms: number
}

/** Query parameters of GET /v1/users/{user_id}/recommendations. */
export interface RecommendationParams {
  k?: number
  genres?: string[]
  exclude_genres?: string[]
  year_min?: number | null
  year_max?: number | null
  exclude_seen?: boolean
}

export interface Demographics {
  age: number | string | null
  gender: string | null
  occupation: string | null
}

export interface HistoryEntry {
  item_id: number
  title: string
  type: EventType
  value: number | null
  timestamp: number
}

/** GET /v1/users/{user_id} (history latest first, at most 200). */
export interface UserProfile {
  user_id: string
  known: boolean
  demographics: Demographics | null
  counts_by_type: Partial<Record<EventType, number>>
  history: HistoryEntry[]
}

export interface UserSummary {
  user_id: string
  events: number
}

/** GET /v1/users?limit=50 (MovieLens users, most active first). */
export interface UsersResponse {
  users: UserSummary[]
}

/** GET /v1/items?query=&limit= (empty query lists popular items). */
export interface ItemsResponse {
  items: Item[]
}

/** GET /v1/items/{item_id}/similar?k= */
export interface SimilarItems {
  item_id: number
  items: RecItem[]
}

/** One 5 s bucket of GET /v1/stats `series` (the last 10 minutes). */
export interface StatsPoint {
  /** Bucket start, unix seconds. */
  t: number
  events: Partial<Record<EventType, number>> & Record<string, number>
  foldins: number
  p50_ms: number | null
  p99_ms: number | null
  active_users: number
}

/** GET /v1/stats */
export interface Stats {
  events_total: number
  events_by_type: Partial<Record<EventType, number>> & Record<string, number>
  active_users: number
  foldins_total: number
  requests_total: number
  latency_ms: { p50: number | null; p99: number | null }
  model_version: string | null
  online: { positive_rate: number | null; recommended_events: number }
  series: StatsPoint[]
}

/** One model's result in an offline report. */
export interface OfflineModelResult {
  metrics: Record<string, number>
  params: Record<string, unknown>
  wall_s: number
}

/** An offline evaluation report (protocol P1 or P2). */
export interface OfflineReport {
  protocol: string
  data: Record<string, unknown>
  /** Model name -> result; the served model is under `champion`, the rest are baselines. */
  models: Record<string, OfflineModelResult>
}

/** GET /v1/offline */
export interface OfflineResponse {
  model_version: string | null
  p1: OfflineReport | null
  p2: OfflineReport | null
}

/** Model versions are strings in the doc; accept numbers too. */
export type Version = string | number

export interface ModelVersion {
  version: Version
  aliases: string[]
  created_at: string
  metrics: Record<string, number>
  tags: Record<string, string>
}

/** GET /v1/models (newest first). */
export interface ModelsResponse {
  champion: Version | null
  versions: ModelVersion[]
}

/** POST /v1/models/{version}/promote and POST /v1/models/rollback (admin). */
export interface PromotionResponse {
  champion: Version
  previous: Version | null
}

export interface DecisionModel {
  version: Version
  metrics: Record<string, number>
}

export interface RetrainDecision {
  created_at: string
  decision: 'promoted' | 'kept' | (string & {})
  reason: string
  champion: DecisionModel | null
  challenger: DecisionModel | null
}

/** GET /v1/models/decisions */
export interface DecisionsResponse {
  decisions: RetrainDecision[]
}

export interface ExperimentVariant {
  name: string
  /** "champion", a model version such as "3", or "popular". */
  model: string
  weight: number
}

export type ExperimentId = string | number

export interface Experiment {
  id: ExperimentId
  name: string
  status: 'running' | 'stopped' | (string & {})
  created_at: string
  primary_metric: string
  variants: ExperimentVariant[]
}

/** GET /v1/experiments */
export interface ExperimentsResponse {
  experiments: Experiment[]
}

/** Body of POST /v1/experiments (admin). */
export interface ExperimentCreate {
  name: string
  variants: ExperimentVariant[]
  primary_metric: string
}

export type Interval = [number, number]

export interface VariantResult {
  name: string
  model: string
  exposures: number
  successes: number
  rate: number | null
  ci: Interval | null
}

/** GET /v1/experiments/{id}/results */
export interface ExperimentResults {
  id: ExperimentId
  name: string
  status: string
  variants: VariantResult[]
  lift: number | null
  lift_ci: Interval | null
  p_value: number | null
  sequential: { p_value: number | null; reject: boolean }
  srm: { p_value: number | null; mismatch: boolean }
  /** "running" | "winner:B" | "no difference" */
  decision: string
}

export interface DriftScore {
  name: string
  /** psi | ks | chi2 | delta | relative_drop */
  kind: string
  statistic: number
  p_value: number | null
  threshold: number
  alert: boolean
  /** Backend extra: PSI above the warn level. */
  warn?: boolean
}

export interface DriftReport {
  created_at: string
  alert: boolean
  scores: DriftScore[]
}

/** A time in the drift history: unix seconds or an ISO 8601 string. */
export type TimeValue = number | string

export interface DriftHistoryPoint {
  t: TimeValue
  alert: boolean
  /** Score name -> statistic. */
  scores: Record<string, number>
}

export interface RetrainTrigger {
  t: TimeValue
  reason: string
  outcome: string
}

/** GET /v1/monitoring/drift */
export interface DriftResponse {
  latest: DriftReport | null
  history: DriftHistoryPoint[]
  /** Threshold name -> value (e.g. psi_alert, ks_p); shape not fixed by the doc. */
  thresholds: Record<string, unknown>
  triggers: RetrainTrigger[]
  /** The model version whose offline lists the output-drift reference was built from. */
  reference_model_version: string
}

/* ---- Drift alerts, windows and online quality (interfaces below merge into the ones above). ---- */

export interface DriftScore {
  /** History key: name, or name:kind for a KS/chi-squared test. */
  key?: string
  /** Human label, e.g. "Genre mix (chi-squared)". */
  label?: string
  /** What the rule compares with `threshold`: the p-value of a test, else the statistic. */
  plotted?: 'p_value' | 'statistic'
  value?: number
  /** Which side of the threshold alerts. */
  direction?: 'below' | 'above' | 'abs_above'
}

export interface DriftHistoryPoint {
  /** Key -> the value the rule compares (p-value for tests). */
  values?: Record<string, number>
}

/** One open (or closed) alert per check. */
export interface DriftAlert {
  key: string
  label: string
  /** Unix seconds. */
  since: number
  last_seen: number
  count: number
  value: number
  closed_at: number | null
}

export interface DisabledCheck {
  name: string
  label: string
  reason: string
}

export interface DriftWindow {
  seconds: number
  events: number
  lists: number
  min_events: number
  min_lists: number
  enough: boolean
  message: string
}

export interface RetrainWorkerInfo {
  in_server: boolean
  acts_on_drift: boolean
  message: string
  outcome: string
}

export interface RetrainTrigger {
  checks?: string[]
}

export interface DriftResponse {
  disabled_checks?: DisabledCheck[]
  open_alerts?: DriftAlert[]
  closed_alerts?: DriftAlert[]
  window?: DriftWindow
  last_check_at?: number | null
  retrain_worker?: RetrainWorkerInfo
}

/** One model version's counts (per bucket in `series`, over the window in `versions`). */
export interface OnlineVersion {
  version: string
  lists: number
  /** Lists with at least one click or like. */
  clicked: number
  attributed: number
  positives: number
  ctr: number | null
  positive_rate: number | null
}

export interface OnlinePoint extends OnlineVersion {
  /** Bucket start, unix seconds. */
  t: number
}

/** GET /v1/monitoring/online */
export interface OnlineQuality {
  bucket_s: number
  window_s: number
  now: number
  serving_version: string
  versions: OnlineVersion[]
  series: OnlinePoint[]
}
