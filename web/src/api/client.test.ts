import { describe, expect, it, vi } from 'vitest'
import { mockApi, reply } from '../test/utils'
import { ADMIN_KEY_STORAGE, ApiError, ENDPOINTS, api, buildQuery, detailOf, newEventId, newUserId, setAdminKey } from './client'

describe('request helpers', () => {
  it('builds query strings from defined values, comma-joining arrays', () => {
    expect(buildQuery({ k: 10, genres: ['Action', 'Comedy'], exclude_genres: [], year_min: null, q: undefined, exclude_seen: true })).toBe(
      '?k=10&genres=Action%2CComedy&exclude_seen=true',
    )
    expect(buildQuery({})).toBe('')
  })

  it("extracts the server's error message, a string detail and text", () => {
    const body = {
      error: { code: 'validation_error', message: 'query.k: Input should be <= 100', field: 'query.k' },
      detail: 'query.k: Input should be <= 100',
    }
    expect(detailOf(body, 'x')).toBe('query.k: Input should be <= 100')
    const err = new ApiError(422, detailOf(body, 'x'), body)
    expect([err.code, err.field]).toEqual(['validation_error', 'query.k'])
    expect(detailOf({ detail: 'k must be <= 100' }, 'x')).toBe('k must be <= 100')
    expect(detailOf('Internal Server Error', 'x')).toBe('Internal Server Error')
    expect(detailOf(null, 'fallback')).toBe('fallback')
  })

  it('makes v4 UUIDs and web- user ids', () => {
    expect(newEventId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(newUserId()).toMatch(/^web-[0-9a-f]{8}$/)
  })

  it('falls back to getRandomValues without crypto.randomUUID (insecure context)', () => {
    const desc = Object.getOwnPropertyDescriptor(globalThis.crypto, 'randomUUID')
    Object.defineProperty(globalThis.crypto, 'randomUUID', { value: undefined, configurable: true })
    try {
      expect(newEventId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    } finally {
      if (desc) Object.defineProperty(globalThis.crypto, 'randomUUID', desc)
      else delete (globalThis.crypto as { randomUUID?: unknown }).randomUUID
    }
  })
})

describe('api client', () => {
  it('calls relative URLs with the documented query parameters', async () => {
    const { calls } = mockApi({ 'GET /v1/users/{user_id}/recommendations': { items: [] } })
    await api.recommendations('web 1', { k: 5, genres: ['Action'], year_min: 1990, exclude_seen: true })
    expect(calls[0].url.pathname).toBe('/v1/users/web%201/recommendations')
    expect(Object.fromEntries(calls[0].url.searchParams)).toEqual({ k: '5', genres: 'Action', year_min: '1990', exclude_seen: 'true' })
  })

  it('throws ApiError with the API detail', async () => {
    mockApi({ 'GET /v1/stats': reply(503, { detail: 'no model loaded: train one with recloop train' }) })
    const err = await api.stats().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(503)
    expect((err as ApiError).message).toBe('no model loaded: train one with recloop train')
  })

  it('reports network failures as status 0', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')))
    const err = (await api.models().catch((e: unknown) => e)) as ApiError
    expect(err.status).toBe(0)
    expect(err.message).toMatch(/Cannot reach the API.*Failed to fetch/)
  })

  it('sends the stored admin key as X-Admin-Key on admin calls only', async () => {
    setAdminKey('s3cret')
    expect(window.localStorage.getItem(ADMIN_KEY_STORAGE)).toBe('s3cret')
    const { calls } = mockApi({ 'POST /v1/models/{version}/promote': { champion: '4', previous: '3' }, 'GET /v1/models': { champion: '3', versions: [] } })
    await api.promote('4')
    await api.models()
    expect(calls[0].path).toBe('/v1/models/4/promote')
    expect(calls[0].headers.get('X-Admin-Key')).toBe('s3cret')
    expect(calls[1].headers.get('X-Admin-Key')).toBeNull()
  })

  it('explains a 403 without a key', async () => {
    mockApi({ 'POST /v1/models/rollback': reply(403, {}) })
    const err = (await api.rollback().catch((e: unknown) => e)) as ApiError
    expect(err.status).toBe(403)
    expect(err.message).toMatch(/no admin key set/)
  })

  it('posts one event as the body and surfaces per-event rejections of a 422', async () => {
    const { calls } = mockApi({
      'POST /v1/events': reply(422, {
        accepted: 0,
        duplicates: 0,
        rejected: [{ index: 0, event_id: 'e-1', error: 'value is required (1-5) for rate' }],
        results: [{ event_id: 'e-1', status: 'rejected' }],
      }),
    })
    const ev = { event_id: 'e-1', user_id: '1', item_id: 50, type: 'rate' as const, value: null, timestamp: 1, request_id: null }
    const err = (await api.postEvents(ev).catch((e: unknown) => e)) as ApiError
    expect(calls[0].body).toEqual(ev)
    expect(err.status).toBe(422)
    expect(err.message).toBe('value is required (1-5) for rate')
  })

  it('wraps a batch as {events: [...]}', async () => {
    const ok = { accepted: 2, duplicates: 0, rejected: [], results: [] }
    const { calls } = mockApi({ 'POST /v1/events': ok })
    const ev = { event_id: 'e', user_id: '1', item_id: 1, type: 'view' as const, value: null, timestamp: null, request_id: null }
    await expect(api.postEvents([ev, { ...ev, event_id: 'f' }])).resolves.toEqual(ok)
    expect(calls[0].body).toEqual({ events: [ev, { ...ev, event_id: 'f' }] })
  })

  it('only calls endpoints listed in endpoints.json (used by check-openapi)', async () => {
    const seen = new Set<string>()
    const { calls } = mockApi(
      Object.fromEntries(Object.values(ENDPOINTS).map((e) => [`${e.method} ${e.path}`, { ok: true }])),
    )
    setAdminKey('k')
    await Promise.allSettled([
      api.health(), api.ready(), api.recommendations('1'), api.user('1'), api.users(), api.items('toy'),
      api.similar(1), api.stats(), api.offline(), api.models(), api.promote('3'), api.rollback(),
      api.decisions(), api.experiments(), api.createExperiment({ name: 'x', variants: [], primary_metric: 'ctr' }),
      api.stopExperiment('e1'), api.experimentResults('e1'), api.drift(), api.driftCheck(), api.online(),
      api.postEvents({ event_id: 'e', user_id: '1', item_id: 1, type: 'view', value: null, timestamp: null, request_id: null }),
    ])
    const patterns = Object.values(ENDPOINTS).map((e) => ({
      method: e.method,
      re: new RegExp(`^${e.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      key: `${e.method} ${e.path}`,
    }))
    for (const c of calls) {
      const hit = patterns.find((p) => p.method === c.method && p.re.test(c.path))
      expect(hit, `${c.method} ${c.path} is not in endpoints.json`).toBeDefined()
      seen.add(hit!.key)
    }
    expect(seen.size).toBe(Object.keys(ENDPOINTS).length)
  })
})
