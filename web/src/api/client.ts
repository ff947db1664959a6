/**
 * Typed fetch client of the recloop API (docs/API.md).
 *
 * Same-origin relative URLs (the UI is served by FastAPI at `/`, the API under
 * `/v1`). Non-2xx responses throw {@link ApiError} with the server's error message,
 * code and field. Request and response types come from the server's OpenAPI schema
 * (types.ts). Admin calls send the key stored in localStorage as `X-Admin-Key`.
 */
import endpointsFile from './endpoints.json'
import type {
  ApiErrorBody,
  DecisionsResponse,
  DriftResponse,
  OnlineQuality,
  EventIn,
  EventsResponse,
  Experiment,
  ExperimentCreate,
  ExperimentId,
  ExperimentResults,
  ExperimentsResponse,
  Health,
  ItemsResponse,
  ModelsResponse,
  OfflineResponse,
  PromotionResponse,
  Ready,
  RecommendationParams,
  Recommendations,
  SimilarItems,
  Stats,
  UserProfile,
  UsersResponse,
  Version,
} from './types'

export type EndpointName = keyof typeof endpointsFile.endpoints
export interface Endpoint {
  method: 'GET' | 'POST'
  path: string
}
export const ENDPOINTS = endpointsFile.endpoints as Record<EndpointName, Endpoint>

export const ADMIN_KEY_STORAGE = 'recloop.adminKey'
export const ADMIN_KEY_EVENT = 'recloop:admin-key'

/** The admin key saved in localStorage ('' if none or storage is unavailable). */
export function getAdminKey(): string {
  try {
    return window.localStorage.getItem(ADMIN_KEY_STORAGE) ?? ''
  } catch {
    return ''
  }
}

/** Save (or with '' clear) the admin key and notify listeners in this tab. */
export function setAdminKey(key: string): void {
  try {
    if (key) window.localStorage.setItem(ADMIN_KEY_STORAGE, key)
    else window.localStorage.removeItem(ADMIN_KEY_STORAGE)
  } catch {
    /* storage disabled: the key just is not kept */
  }
  window.dispatchEvent(new Event(ADMIN_KEY_EVENT))
}

/** An HTTP error of the API; `message` is the server's message. status 0 = network failure.
 * `code` and `field` are the server's `error.code` / `error.field` (null when it sent none). */
export class ApiError extends Error {
  readonly status: number
  readonly detail: string
  readonly body: unknown
  readonly code: string | null
  readonly field: string | null

  constructor(status: number, detail: string, body: unknown = null) {
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.detail = detail
    this.body = body
    const info = body && typeof body === 'object' ? (body as Partial<ApiErrorBody>).error : undefined
    this.code = typeof info?.code === 'string' ? info.code : null
    this.field = typeof info?.field === 'string' ? info.field : null
  }

  get isForbidden(): boolean {
    return this.status === 403
  }
}

/** The human-readable message of an error body: the server's `error.message` (its one
 * error shape, `ApiErrorBody`), else a string `detail`, else a text body, else `fallback`. */
export function detailOf(body: unknown, fallback: string): string {
  if (body && typeof body === 'object') {
    const { error, detail } = body as Partial<ApiErrorBody>
    if (error && typeof error.message === 'string' && error.message) return error.message
    if (typeof detail === 'string' && detail) return detail
    if (detail != null) return JSON.stringify(detail)
  }
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 300)
  return fallback
}

/** Fill `{name}` placeholders of an endpoint path (URL-encoded). */
export function buildPath(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params[name]
    if (v === undefined) throw new Error(`missing path parameter ${name} for ${template}`)
    return encodeURIComponent(String(v))
  })
}

type QueryValue = string | number | boolean | null | undefined | string[]

/** A query string from defined, non-empty values (arrays comma-joined); '' if none. */
export function buildQuery(query: Record<string, QueryValue> = {}): string {
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue
    if (Array.isArray(v)) {
      if (v.length) qs.set(k, v.join(','))
    } else if (typeof v === 'number') {
      if (Number.isFinite(v)) qs.set(k, String(v))
    } else {
      qs.set(k, String(v))
    }
  }
  const s = qs.toString()
  return s ? `?${s}` : ''
}

export interface RequestOptions {
  params?: Record<string, string | number>
  query?: Record<string, QueryValue>
  body?: unknown
  admin?: boolean
  signal?: AbortSignal
  /** Status codes whose JSON body is returned instead of thrown (e.g. 422 of POST /v1/events). */
  acceptStatus?: number[]
}

/** Call one endpoint of {@link ENDPOINTS} and parse its JSON. */
export async function request<T>(name: EndpointName, opts: RequestOptions = {}): Promise<T> {
  const ep = ENDPOINTS[name]
  const url = buildPath(ep.path, opts.params) + buildQuery(opts.query)
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
  if (opts.admin) {
    const key = getAdminKey()
    if (key) headers['X-Admin-Key'] = key
  }
  let res: Response
  try {
    res = await fetch(url, {
      method: ep.method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    })
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    const why = err instanceof Error ? err.message : String(err)
    throw new ApiError(0, `Cannot reach the API (${ep.method} ${url}): ${why}`)
  }
  const text = await res.text()
  let body: unknown = null
  if (text) {
    try {
      body = JSON.parse(text)
    } catch {
      body = text
    }
  }
  if (!res.ok && !(opts.acceptStatus ?? []).includes(res.status)) {
    let fallback = `${res.status} ${res.statusText || 'error'} from ${ep.method} ${ep.path}`
    if (res.status === 403 && opts.admin && !getAdminKey()) {
      fallback += ' (no admin key set: open Settings and enter it)'
    }
    throw new ApiError(res.status, detailOf(body, fallback), body)
  }
  if (typeof body === 'string' || body === null) {
    throw new ApiError(res.status, `Expected JSON from ${ep.method} ${url}, got: ${String(body).slice(0, 120)}`)
  }
  return body as T
}

/** A v4 UUID; crypto.randomUUID only exists in secure contexts (https or localhost). */
export function newEventId(): string {
  const c = globalThis.crypto
  if (c && typeof c.randomUUID === 'function') return c.randomUUID()
  const b = new Uint8Array(16)
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b)
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** A fresh id for an anonymous playground user, like `web-3f9a1c2e`. */
export function newUserId(): string {
  return `web-${newEventId().replace(/-/g, '').slice(0, 8)}`
}

/**
 * POST /v1/events. Resolves when at least one event was applied or was a
 * duplicate; throws ApiError when the API rejects them all (422) with the
 * per-event errors (or FastAPI's validation `detail`) as the message.
 */
export async function postEvents(events: EventIn | EventIn[]): Promise<EventsResponse> {
  const res = await request<EventsResponse | ApiErrorBody>('postEvents', {
    body: Array.isArray(events) ? { events } : events,
    acceptStatus: [422],
  })
  if ('detail' in res) throw new ApiError(422, detailOf(res, 'events rejected'), res)
  const rejected = res.rejected ?? []
  const total = Array.isArray(events) ? events.length : 1
  if (rejected.length >= total && total > 0) {
    const msg = rejected.map((r) => r.error).join('; ') || 'every event was rejected'
    throw new ApiError(422, msg, res)
  }
  return res
}

export const api = {
  health: (signal?: AbortSignal) => request<Health>('health', { signal }),
  ready: (signal?: AbortSignal) => request<Ready>('ready', { signal, acceptStatus: [503] }),

  postEvents: (events: EventIn | EventIn[]) => postEvents(events),

  recommendations: (userId: string, p: RecommendationParams = {}, signal?: AbortSignal) =>
    request<Recommendations>('recommendations', {
      params: { user_id: userId },
      query: {
        k: p.k ?? 10,
        genres: p.genres,
        exclude_genres: p.exclude_genres,
        year_min: p.year_min,
        year_max: p.year_max,
        exclude_seen: p.exclude_seen,
      },
      signal,
    }),
  user: (userId: string, signal?: AbortSignal) =>
    request<UserProfile>('user', { params: { user_id: userId }, signal }),
  users: (limit = 50, signal?: AbortSignal) =>
    request<UsersResponse>('users', { query: { limit }, signal }),
  items: (query: string, limit = 20, signal?: AbortSignal) =>
    request<ItemsResponse>('items', { query: { query, limit }, signal }),
  similar: (itemId: number, k = 10, signal?: AbortSignal) =>
    request<SimilarItems>('similar', { params: { item_id: itemId }, query: { k }, signal }),

  stats: (signal?: AbortSignal) => request<Stats>('stats', { signal }),
  offline: (signal?: AbortSignal) => request<OfflineResponse>('offline', { signal }),

  models: (signal?: AbortSignal) => request<ModelsResponse>('models', { signal }),
  promote: (version: Version) =>
    request<PromotionResponse>('promote', { params: { version }, admin: true }),
  rollback: () => request<PromotionResponse>('rollback', { admin: true }),
  decisions: (signal?: AbortSignal) => request<DecisionsResponse>('decisions', { signal }),

  experiments: (signal?: AbortSignal) => request<ExperimentsResponse>('experiments', { signal }),
  createExperiment: (body: ExperimentCreate) =>
    request<Experiment>('createExperiment', { body, admin: true }),
  stopExperiment: (id: ExperimentId) =>
    request<Experiment>('stopExperiment', { params: { id }, admin: true }),
  experimentResults: (id: ExperimentId, signal?: AbortSignal) =>
    request<ExperimentResults>('experimentResults', { params: { id }, signal }),

  drift: (signal?: AbortSignal) => request<DriftResponse>('drift', { signal }),
  driftCheck: () => request<DriftResponse>('driftCheck', { admin: true }),
  online: (signal?: AbortSignal) => request<OnlineQuality>('online', { signal }),
}

export type Api = typeof api
