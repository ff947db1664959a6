/**
 * Types of every request and response body of the recloop HTTP API v1.
 *
 * Derived from `schema.d.ts`, which openapi-typescript generates from
 * `openapi.json`, the server's own OpenAPI schema (`python scripts/openapi.py`
 * writes it; `npm run gen:api` regenerates the types; `npm run typecheck` and
 * tests/api/test_openapi_contract.py fail when either is stale). So the UI
 * type-checks against what the server really sends.
 *
 * Where the server describes a body as a free-form object (the offline
 * reports, the stats series, the drift snapshot, retrain decisions,
 * demographics) the shape the UI reads is declared here, on top of the
 * generated type.
 */
import type { components, paths } from './schema'

type Schemas = components['schemas']

/** Body of every 4xx/5xx answer: `{error: {code, message, field}, detail}`. */
export type ApiErrorBody = Schemas['ErrorBody']
export type ErrorInfo = Schemas['ErrorInfo']

/** GET /health */
export type Health = Schemas['Health']

/** GET /ready (503 with `ready: false` until a model is loaded) */
export type Ready = Schemas['Ready']

/** Body of POST /v1/events: one event or a batch. */
export type EventsRequest = NonNullable<
  paths['/v1/events']['post']['requestBody']
>['content']['application/json']

/** One event of POST /v1/events. `value` is required (1-5) for `rate`. */
export type EventIn = Exclude<EventsRequest, { events: unknown }>
export type EventType = EventIn['type']
export const EVENT_TYPES = ['view', 'click', 'like', 'dislike', 'rate', 'purchase'] as const satisfies readonly EventType[]

export type RejectedEvent = Schemas['Rejected']
export type EventResult = Schemas['EventResult']

/** Response of POST /v1/events (200, or 422 when every event is invalid). */
export type EventsResponse = Schemas['IngestResponse']

/** A catalog item. */
export type Item = Schemas['Item']

export const REC_SOURCES = ['ease', 'itemknn', 'sequence', 'als', 'popular', 'trending'] as const
export type RecSource = (typeof REC_SOURCES)[number]

/** A recommended item: Item + score, source and a human-readable reason. */
export type RecItem = Schemas['RecItemOut']

/** GET /v1/users/{user_id}/recommendations */
export type Recommendations = Schemas['Recommendations']

type RecommendationQuery = NonNullable<
  paths['/v1/users/{user_id}/recommendations']['get']['parameters']['query']
>

/** Query parameters of GET /v1/users/{user_id}/recommendations; genres as lists (sent comma-joined). */
export type RecommendationParams = Omit<RecommendationQuery, 'genres' | 'exclude_genres'> & {
  genres?: string[]
  exclude_genres?: string[]
}

/** MovieLens demographics of a user (`demographics` of GET /v1/users/{id}: a free-form object). */
export interface Demographics {
  age: number
  gender: string
  occupation: string
}

export type HistoryEntry = Schemas['HistoryEntry']

/** GET /v1/users/{user_id} (history latest first, at most 200). */
export type UserProfile = Omit<Schemas['UserDetail'], 'demographics'> & {
  demographics: Demographics | null
}

export type UserSummary = Schemas['UserSummary']

/** GET /v1/users?limit=50 (MovieLens users, most active first). */
export type UsersResponse = Schemas['UserList']

/** GET /v1/items?query=&limit= (empty query lists popular items). */
export type ItemsResponse = Schemas['ItemList']

/** GET /v1/items/{item_id}/similar?k= */
export type SimilarItems = Schemas['SimilarItems']

/** One 5 s bucket of GET /v1/stats `series` (the last 10 minutes; free-form objects in the schema). */
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
export type Stats = Omit<Schemas['Stats'], 'series'> & { series: StatsPoint[] }

/** One model's result in an offline report. */
export interface OfflineModelResult {
  metrics: Record<string, number>
  params: Record<string, unknown>
  wall_s: number
}

/** An offline evaluation report (protocol P1 or P2; a free-form object in the schema). */
export interface OfflineReport {
  protocol: string
  data: Record<string, unknown>
  /** Model name -> result; the served model is under `champion`, the rest are baselines. */
  models: Record<string, OfflineModelResult>
}

/** GET /v1/offline */
export type OfflineResponse = Omit<Schemas['Offline'], 'p1' | 'p2'> & {
  p1: OfflineReport | null
  p2: OfflineReport | null
}

export type ModelVersion = Schemas['ModelVersionOut']

/** A registry version as the API sends it ("3"). */
export type Version = ModelVersion['version']

/** GET /v1/models (newest first). */
export type ModelsResponse = Schemas['ModelList']

/** POST /v1/models/{version}/promote and POST /v1/models/rollback (admin). */
export type PromotionResponse = Schemas['Promotion']

export interface DecisionModel {
  version: Version | number
  metrics: Record<string, number>
}

/** One retrain report (a free-form object in the schema). */
export interface RetrainDecision {
  created_at: string
  decision: 'promoted' | 'kept' | (string & {})
  reason: string
  champion: DecisionModel | null
  challenger: DecisionModel | null
}

/** GET /v1/models/decisions */
export type DecisionsResponse = Omit<Schemas['Decisions'], 'decisions'> & { decisions: RetrainDecision[] }

/** A variant: "champion", a model version such as "3", or "popular", and its traffic weight
 * (the server fills in the default weight 1, so a listed variant always has one). */
export type ExperimentVariant = Required<Schemas['Variant']>

export type ExperimentId = Schemas['ExperimentOut']['id']

/** An experiment as listed (its variants are free-form objects in the schema). */
export type Experiment = Omit<Schemas['ExperimentOut'], 'variants'> & { variants: ExperimentVariant[] }

/** GET /v1/experiments */
export interface ExperimentsResponse {
  experiments: Experiment[]
}

/** Body of POST /v1/experiments (admin): the server's `ExperimentSpec` (omitted fields take its defaults). */
export type ExperimentCreate = Schemas['ExperimentSpec']

/** A metric an experiment can decide on or guard. */
export type ExperimentMetric = NonNullable<ExperimentCreate['primary_metric']>

export type VariantResult = Schemas['VariantResult']

/** GET /v1/experiments/{id}/results */
export type ExperimentResults = Schemas['Results']

/* GET /v1/monitoring/drift has no response model on the server: its shape is declared here. */

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
  /** Threshold name -> value (e.g. psi_alert, ks_p). */
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
