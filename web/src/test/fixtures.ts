/** Contract-shaped responses (docs/API.md) for component tests. */
import type {
  DecisionsResponse,
  DriftResponse,
  ExperimentResults,
  ExperimentsResponse,
  ModelsResponse,
  OfflineResponse,
  RecItem,
  Recommendations,
  Stats,
  UserProfile,
  UsersResponse,
} from '../api/types'

export function rec(item_id: number, title: string, extra: Partial<RecItem> = {}): RecItem {
  return {
    item_id,
    title,
    year: 1995,
    genres: ['Action', 'Sci-Fi'],
    score: 1.5 - item_id / 1000,
    source: 'ease',
    reason: `because you liked Heat (1995)`,
    ...extra,
  }
}

export function recs(items: RecItem[], request_id = 'req-1', extra: Partial<Recommendations> = {}): Recommendations {
  return { user_id: '1', items, model_version: '3', request_id, variant: null, latency_ms: 3.2, ...extra }
}

export const users: UsersResponse = {
  users: [
    { user_id: '1', events: 272 },
    { user_id: '405', events: 737 },
  ],
}

export const profile: UserProfile = {
  user_id: '1',
  known: true,
  demographics: { age: 24, gender: 'M', occupation: 'technician' },
  counts_by_type: { rate: 272 },
  history: [{ item_id: 50, title: 'Star Wars', type: 'rate', value: 5, timestamp: 881250949 }],
}

/** The start of the current 5 s bucket (unix s): live series are plotted against the clock. */
export const NOW_S = Math.floor(Date.now() / 5000) * 5

export const stats: Stats = {
  events_total: 12345,
  events_by_type: { view: 10000, like: 2000, rate: 345 },
  active_users: 42,
  foldins_total: 2345,
  requests_total: 999,
  latency_ms: { p50: 3.25, p99: 18.7 },
  model_version: '3',
  online: { positive_rate: 0.314, recommended_events: 120 },
  series: [
    { t: NOW_S - 60, events: { view: 10, like: 2 }, foldins: 5, p50_ms: 3, p99_ms: 17, active_users: 4 },
    { t: NOW_S - 55, events: { view: 12, like: 1, rate: 1 }, foldins: 10, p50_ms: 3.5, p99_ms: 19, active_users: 5 },
  ],
}

export const offline: OfflineResponse = {
  model_version: '3',
  p1: {
    protocol: 'p1',
    data: { source: 'ml-100k' },
    models: {
      popular: { metrics: { 'NDCG@10': 0.2, 'Recall@20': 0.15, 'HR@10': 0.55, 'Coverage@10': 0.03 }, params: {}, wall_s: 0.2 },
      champion: { metrics: { 'NDCG@10': 0.36, 'Recall@20': 0.28, 'HR@10': 0.73, 'Coverage@10': 0.22 }, params: {}, wall_s: 12 },
    },
  },
  p2: null,
}

export const models: ModelsResponse = {
  champion: '3',
  versions: [
    { version: '4', aliases: ['challenger'], created_at: '2024-05-02T10:00:00Z', metrics: { 'ndcg@10': 0.371, 'hr@10': 0.74 }, tags: {} },
    { version: '3', aliases: ['champion'], created_at: '2024-05-01T10:00:00Z', metrics: { 'ndcg@10': 0.365, 'recall@20': 0.279 }, tags: {} },
  ],
}

export const decisions: DecisionsResponse = {
  decisions: [
    {
      created_at: '2024-05-02T10:05:00Z',
      decision: 'kept',
      reason: 'below the promotion margin',
      champion: { version: '3', metrics: { 'ndcg@10': 0.4 } },
      challenger: { version: '4', metrics: { 'ndcg@10': 0.41 } },
    },
  ],
}

export const experiments: ExperimentsResponse = {
  experiments: [
    {
      id: 'exp-1',
      name: 'ease-vs-popular',
      status: 'running',
      created_at: '2024-05-01T10:00:00Z',
      primary_metric: 'ctr',
      variants: [
        { name: 'A', model: 'champion', weight: 0.5 },
        { name: 'B', model: 'popular', weight: 0.5 },
      ],
    },
  ],
}

export const resultsSrm: ExperimentResults = {
  id: 'exp-1',
  name: 'ease-vs-popular',
  status: 'running',
  variants: [
    { name: 'A', model: 'champion', exposures: 5400, successes: 610, rate: 0.113, ci: [0.104, 0.121] },
    { name: 'B', model: 'popular', exposures: 4300, successes: 470, rate: 0.109, ci: [0.1, 0.118] },
  ],
  lift: -0.032,
  lift_ci: [-0.14, 0.08],
  p_value: 0.57,
  sequential: { p_value: 0.9, reject: false },
  srm: { p_value: 0.00001, mismatch: true },
  decision: 'running',
}

export const drift: DriftResponse = {
  latest: {
    created_at: '2024-05-02T10:00:00Z',
    alert: true,
    scores: [
      { name: 'numeric.item_popularity', kind: 'psi', statistic: 0.31, p_value: null, threshold: 0.25, alert: true },
      { name: 'numeric.item_popularity', kind: 'ks', statistic: 0.16, p_value: 0.0004, threshold: 0.01, alert: true },
      { name: 'output.gini', kind: 'delta', statistic: 0.02, p_value: null, threshold: 0.1, alert: false },
    ],
  },
  history: [
    { t: 1700000000, alert: false, scores: { 'numeric.item_popularity': 0.1, 'output.gini': 0.01 } },
    { t: 1700000300, alert: true, scores: { 'numeric.item_popularity': 0.31, 'output.gini': 0.02 } },
  ],
  thresholds: { psi_warn: 0.1, psi_alert: 0.25 },
  triggers: [{ t: 1700000300, reason: 'drift alert on numeric.item_popularity', outcome: 'kept v3' }],
  reference_model_version: '3',
}
