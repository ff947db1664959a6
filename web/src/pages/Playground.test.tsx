import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { Route, Routes } from 'react-router'
import { profile, rec, recs, users } from '../test/fixtures'
import { mockApi, renderPage, reply } from '../test/utils'
import { Playground } from './Playground'

const first = recs([rec(50, 'Star Wars'), rec(172, 'Empire Strikes Back, The'), rec(181, 'Return of the Jedi'), rec(7, 'Twelve Monkeys')], 'req-1')
// after liking Star Wars: it is excluded, Jedi jumps to #1, Empire drops, a new item enters, Twelve Monkeys drops out
const second = recs([rec(181, 'Return of the Jedi'), rec(172, 'Empire Strikes Back, The'), rec(121, 'Independence Day')], 'req-2', { latency_ms: 4.5 })

function routes(lists = [first, second]) {
  let n = 0
  return {
    'GET /v1/users': users,
    'GET /v1/users/{user_id}': profile,
    'GET /v1/items': { items: [{ item_id: 1, title: 'Toy Story', year: 1995, genres: ['Animation'] }] },
    'GET /v1/users/{user_id}/recommendations': () => lists[Math.min(n++, lists.length - 1)],
    'POST /v1/events': { accepted: 1, duplicates: 0, rejected: [], results: [{ event_id: 'x', status: 'applied' }] },
  }
}

function renderPlayground(route = '/?user=1') {
  return renderPage(
    <Routes>
      <Route path="/" element={<Playground />} />
    </Routes>,
    { route },
  )
}

describe('Playground', () => {
  it('renders the recommendation list with title, year, genres, score, source and reason', async () => {
    mockApi(routes())
    renderPlayground()
    const list = await screen.findByTestId('rec-list')
    const items = within(list).getAllByTestId('rec-item')
    expect(items).toHaveLength(4)
    expect(items[0]).toHaveAttribute('data-item-id', '50')
    expect(items[0]).toHaveTextContent('Star Wars')
    expect(items[0]).toHaveTextContent('(1995)')
    expect(items[0]).toHaveTextContent('Sci-Fi')
    expect(items[0]).toHaveTextContent('because you liked Heat (1995)')
    expect(items[0]).toHaveTextContent('ease')
    expect(items[0]).toHaveTextContent('1.450')
    expect(screen.getByTestId('server-latency')).toHaveTextContent('3.2 ms')
  })

  it('requests top-10 for the user with exclude_seen', async () => {
    const { calls } = mockApi(routes())
    renderPlayground()
    await screen.findByTestId('rec-list')
    const call = calls.find((c) => c.path === '/v1/users/1/recommendations')!
    expect(call.url.searchParams.get('k')).toBe('10')
    expect(call.url.searchParams.get('exclude_seen')).toBe('true')
  })

  it('posts a like with a fresh event id and the list request_id, then shows change markers', async () => {
    const { calls } = mockApi(routes())
    renderPlayground()
    const list = await screen.findByTestId('rec-list')
    const firstItem = within(list).getAllByTestId('rec-item')[0]
    fireEvent.click(within(firstItem).getByTestId('like-button'))

    await waitFor(() => expect(screen.getByTestId('rec-list')).toHaveAttribute('data-request-id', 'req-2'))
    const post = calls.find((c) => c.method === 'POST' && c.path === '/v1/events')!
    expect(post.headers.get('Content-Type')).toBe('application/json')
    const body = post.body as Record<string, unknown>
    expect(body).toMatchObject({ user_id: '1', item_id: 50, type: 'like', value: null, request_id: 'req-1' })
    expect(body.event_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(typeof body.timestamp).toBe('number')

    const rows = screen.getAllByTestId('rec-item')
    expect(rows.map((r) => r.getAttribute('data-item-id'))).toEqual(['181', '172', '121'])
    expect(within(rows[0]).getByTestId('change-up')).toHaveTextContent('▲2')
    expect(within(rows[1]).queryByTestId('change-up')).toBeNull()
    expect(within(rows[1]).queryByTestId('change-down')).toBeNull()
    expect(within(rows[2]).getByTestId('change-new')).toHaveTextContent('new')
    const removed = screen.getByTestId('removed-list')
    expect(removed).toHaveTextContent('Star Wars')
    expect(removed).toHaveTextContent('was #1')
    expect(removed).toHaveTextContent('Twelve Monkeys')
    expect(screen.getByTestId('update-ms')).toHaveTextContent(/^\d+ ms$/)
    expect(screen.getByText(/server 4\.5 ms/)).toBeInTheDocument()
  })

  it('posts a rating with its value', async () => {
    const { calls } = mockApi(routes())
    renderPlayground()
    const list = await screen.findByTestId('rec-list')
    fireEvent.click(within(within(list).getAllByTestId('rec-item')[1]).getByRole('button', { name: /Rate Empire Strikes Back, The 4 of 5/ }))
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true))
    expect(calls.find((c) => c.method === 'POST')!.body).toMatchObject({ item_id: 172, type: 'rate', value: 4, request_id: 'req-1' })
  })

  it('marks a moved-down item', async () => {
    mockApi(routes([first, recs([rec(172, 'Empire'), rec(181, 'Jedi'), rec(50, 'Star Wars'), rec(7, 'Twelve Monkeys')], 'req-3')]))
    renderPlayground()
    const list = await screen.findByTestId('rec-list')
    fireEvent.click(within(within(list).getAllByTestId('rec-item')[0]).getByTestId('view-button'))
    await waitFor(() => expect(screen.getByTestId('rec-list')).toHaveAttribute('data-request-id', 'req-3'))
    const star = screen.getAllByTestId('rec-item').find((r) => r.getAttribute('data-item-id') === '50')!
    expect(within(star).getByTestId('change-down')).toHaveTextContent('▼2')
    expect(screen.queryByTestId('removed-list')).toBeNull()
  })

  it('shows the API detail when feedback is rejected', async () => {
    mockApi({
      ...routes(),
      'POST /v1/events': reply(422, {
        accepted: 0,
        duplicates: 0,
        rejected: [{ index: 0, event_id: 'x', error: 'unknown item_id 50' }],
        results: [],
      }),
    })
    renderPlayground()
    const list = await screen.findByTestId('rec-list')
    fireEvent.click(within(within(list).getAllByTestId('rec-item')[0]).getByTestId('like-button'))
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('422: unknown item_id 50')
  })

  it('shows the API detail when recommendations fail', async () => {
    mockApi({ ...routes(), 'GET /v1/users/{user_id}/recommendations': reply(503, { detail: 'no model loaded yet' }) })
    renderPlayground()
    expect(await screen.findByTestId('error-state')).toHaveTextContent('503: no model loaded yet')
  })

  it('shows an empty state when filters leave nothing', async () => {
    mockApi({ ...routes(), 'GET /v1/users/{user_id}/recommendations': recs([], 'r') })
    renderPlayground()
    expect(await screen.findByText(/No recommendations for user 1/)).toBeInTheDocument()
  })

  it('picks the first MovieLens user when none is given and switches to a new user', async () => {
    const { calls } = mockApi(routes([first]))
    renderPlayground('/')
    await screen.findByTestId('rec-list')
    expect(calls.some((c) => c.path === '/v1/users/1/recommendations')).toBe(true)
    fireEvent.click(screen.getByTestId('new-user-button'))
    await waitFor(() => expect(calls.some((c) => /^\/v1\/users\/web-[0-9a-f]{8}\/recommendations$/.test(c.path))).toBe(true))
  })

  it('sends genre and year filters', async () => {
    const { calls } = mockApi(routes([first]))
    renderPlayground()
    await screen.findByTestId('rec-list')
    fireEvent.change(screen.getByTestId('year-min'), { target: { value: '1990' } })
    fireEvent.click(screen.getAllByRole('checkbox', { name: 'Comedy' })[0])
    fireEvent.click(screen.getAllByRole('checkbox', { name: 'Horror' })[1])
    await waitFor(() => {
      const last = calls.filter((c) => c.path.endsWith('/recommendations')).at(-1)!
      expect(last.url.searchParams.get('year_min')).toBe('1990')
      expect(last.url.searchParams.get('genres')).toBe('Comedy')
      expect(last.url.searchParams.get('exclude_genres')).toBe('Horror')
    })
  })

  it('shows a banner when the user is in an experiment variant', async () => {
    mockApi({
      ...routes([recs([rec(50, 'Star Wars')], 'req-1', { variant: 'B' })]),
      'GET /v1/experiments': {
        experiments: [
          {
            id: 'e1',
            name: 'ease-vs-popular',
            status: 'running',
            created_at: '2024-05-01T10:00:00Z',
            primary_metric: 'ctr',
            variants: [
              { name: 'A', model: 'champion', weight: 1 },
              { name: 'B', model: 'popular', weight: 1 },
            ],
          },
        ],
      },
    })
    renderPlayground()
    const banner = await screen.findByTestId('experiment-banner')
    await waitFor(() => expect(banner).toHaveTextContent('“ease-vs-popular”'))
    expect(banner).toHaveTextContent('User 1 is in variant B')
    expect(banner).toHaveTextContent('serves popular (most popular unseen items, no model) to about 50% of users')
  })

  it('shows no banner outside experiments', async () => {
    mockApi(routes())
    renderPlayground()
    await screen.findByTestId('rec-list')
    expect(screen.queryByTestId('experiment-banner')).toBeNull()
  })
})
