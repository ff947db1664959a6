import { screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { NOW_S, offline, stats } from '../test/fixtures'
import { mockApi, renderPage, reply } from '../test/utils'
import { Dashboard, P2_COMMAND, offlineModels, onlineRows, seriesRows } from './Dashboard'

describe('Dashboard', () => {
  it('renders counters from /v1/stats', async () => {
    mockApi({ 'GET /v1/stats': stats, 'GET /v1/offline': offline })
    renderPage(<Dashboard />)
    expect(await screen.findByTestId('events-total')).toHaveTextContent('12,345')
    expect(screen.getByTestId('active-users')).toHaveTextContent('42')
    expect(screen.getByTestId('foldins-total')).toHaveTextContent('2,345')
    expect(screen.getByTestId('latency-p50')).toHaveTextContent('3.3 ms')
    expect(screen.getByTestId('latency-p99')).toHaveTextContent('19 ms')
    expect(screen.getByTestId('positive-rate')).toHaveTextContent('31.4%')
    const chart = screen.getByTestId('events-chart')
    await waitFor(() => expect(chart.querySelector('svg path')).not.toBeNull())
  })

  it('shows champion offline metrics beside the baselines, champion first', async () => {
    mockApi({ 'GET /v1/stats': stats, 'GET /v1/offline': offline })
    renderPage(<Dashboard />)
    const table = await screen.findByTestId('offline-p1')
    const rows = within(table).getAllByRole('row')
    expect(rows[0]).toHaveTextContent(/NDCG@10.*Recall@20.*HR@10.*Coverage@10/)
    expect(rows[1]).toHaveTextContent(/champion.*0\.3600.*0\.2800.*0\.7300.*0\.2200/)
    expect(rows[2]).toHaveTextContent(/popular.*0\.2000/)
    const p2 = screen.getByText(/No P2 report yet/)
    expect(p2).toHaveTextContent(P2_COMMAND)
    expect(P2_COMMAND).toMatch(/^recloop evaluate --protocol p2 /)
  })

  it('shows the API detail when stats fail', async () => {
    mockApi({ 'GET /v1/stats': reply(500, { detail: 'stats store unavailable' }), 'GET /v1/offline': offline })
    renderPage(<Dashboard />)
    expect(await screen.findByText('500: stats store unavailable')).toBeInTheDocument()
  })

  it('shows empty states without series or reports', async () => {
    mockApi({ 'GET /v1/stats': { ...stats, series: [] }, 'GET /v1/offline': { model_version: null, p1: null, p2: null } })
    renderPage(<Dashboard />)
    expect(await screen.findAllByText(/No data in the last 10 minutes/)).toHaveLength(3)
    expect(await screen.findByText(/No P1 report yet/)).toHaveTextContent('recloop train')
    expect(screen.getByText(/No P2 report yet/)).toHaveTextContent('recloop evaluate --protocol p2')
  })
})

describe('dashboard data shaping', () => {
  it('puts series on the clock: every 5 s bucket of the 10 minutes, empty ones as zero / null', () => {
    const { rows, types } = seriesRows(stats, NOW_S + 2)
    expect(types).toEqual(['view', 'like', 'rate'])
    expect(rows).toHaveLength(120)
    expect(rows[rows.length - 1].t).toBe(NOW_S * 1000)
    const at = (s: number) => rows.find((r) => r.t === s * 1000)!
    expect(at(NOW_S - 60)).toMatchObject({ ev_view: 10, ev_like: 2, ev_rate: 0, foldins_per_s: 1, p99_ms: 17 })
    expect(at(NOW_S - 55)).toMatchObject({ ev_view: 12, ev_like: 1, ev_rate: 1, foldins_per_s: 2 })
    // the idle bucket between the data and now is a zero count and a latency gap, not dropped
    expect(at(NOW_S - 50)).toMatchObject({ ev_view: 0, total: 0, foldins_per_s: 0, p50_ms: null, p99_ms: null })
  })

  it('drops buckets older than the window', () => {
    const old = { ...stats, series: [{ ...stats.series[0], t: NOW_S - 3600 }] }
    const { rows } = seriesRows(old, NOW_S)
    expect(rows.every((r) => r.total === 0)).toBe(true)
  })

  it('states the window of every KPI', async () => {
    mockApi({ 'GET /v1/stats': stats, 'GET /v1/offline': offline })
    renderPage(<Dashboard />)
    const rate = await screen.findByTestId('positive-rate')
    const card = rate.parentElement!
    expect(card).toHaveTextContent('Positive on recs')
    expect(card).toHaveTextContent(/last ≤ 1,000 events on recommended items.*not CTR/)
    expect(screen.getByTestId('latency-p99').parentElement).toHaveTextContent(/last 5,000 requests · target < 20 ms/)
    expect(screen.getByTestId('events-total').parentElement).toHaveTextContent('since server start')
  })

  it('orders the champion first', () => {
    expect(offlineModels(offline.p1!).map(([n]) => n)).toEqual(['champion', 'popular'])
  })
})

describe('online CTR rows', () => {
  it('keeps every minute of the window on the time axis, null where a version served nothing', () => {
    const p = { lists: 2, clicked: 1, attributed: 1, positives: 1, ctr: 0.5, positive_rate: 1 }
    const data = { bucket_s: 60, window_s: 240, now: 1250, serving_version: '2', versions: [],
      series: [{ t: 1020, version: '1', ...p }, { t: 1200, version: '2', ...p, ctr: 0.25 }] }
    const { rows, tags } = onlineRows(data, 'ctr')
    expect(tags).toEqual(['v1', 'v2'])
    expect(rows.map((r) => r.t)).toEqual([1020_000, 1080_000, 1140_000, 1200_000])
    expect(rows.map((r) => r.v1)).toEqual([0.5, null, null, null])
    expect(rows.map((r) => r.v2)).toEqual([null, null, null, 0.25])
    const pos = onlineRows(data, 'positive_rate')
    expect(pos.tags).toEqual(['v1', 'v2'])
    expect(pos.rows.map((r) => r.v1)).toEqual([1, null, null, null])
  })
})
