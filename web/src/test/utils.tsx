import { QueryClient } from '@tanstack/react-query'
import { render } from '@testing-library/react'
import type { ReactElement } from 'react'
import { MemoryRouter } from 'react-router'
import { vi } from 'vitest'
import { Providers } from '../App'

export interface MockRequest {
  method: string
  url: URL
  path: string
  body: unknown
  headers: Headers
}

export interface MockResponse {
  status?: number
  body: unknown
}

/** A route answer: a fixed JSON body, a {status, body}, or a function of the request. */
export type Route = unknown | ((req: MockRequest) => MockResponse | unknown)

export const reply = (status: number, body: unknown): MockResponse & { __reply: true } => ({ status, body, __reply: true })

function matches(pattern: string, path: string): boolean {
  const re = new RegExp(`^${pattern.replace(/\{[^}]+\}/g, '[^/]+')}$`)
  return re.test(path)
}

/**
 * Stub global fetch with routes keyed "METHOD /path/{param}". Unmatched
 * requests answer 404 with a detail. Returns the vi.fn and the request log.
 */
export function mockApi(routes: Record<string, Route>) {
  const calls: MockRequest[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://localhost')
    const method = (init?.method ?? 'GET').toUpperCase()
    const raw = init?.body
    const req: MockRequest = {
      method,
      url,
      path: url.pathname,
      body: typeof raw === 'string' ? JSON.parse(raw) : null,
      headers: new Headers(init?.headers),
    }
    calls.push(req)
    const key = Object.keys(routes).find((k) => {
      const [m, p] = k.split(' ')
      return m === method && matches(p, url.pathname)
    })
    let status = 200
    let body: unknown = { detail: `unmocked ${method} ${url.pathname}` }
    if (!key) status = 404
    else {
      const route = routes[key]
      const out = typeof route === 'function' ? (route as (r: MockRequest) => unknown)(req) : route
      if (out && typeof out === 'object' && '__reply' in out) {
        const r = out as unknown as MockResponse
        status = r.status ?? 200
        body = r.body
      } else body = out
    }
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
  })
  vi.stubGlobal('fetch', fn)
  return { fetch: fn, calls }
}

export function renderPage(ui: ReactElement, { route = '/' }: { route?: string } = {}) {
  const client = new QueryClient({
    defaultOptions: { queries: { retry: false, staleTime: 0 }, mutations: { retry: false } },
  })
  return render(
    <Providers client={client}>
      <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
    </Providers>,
  )
}
