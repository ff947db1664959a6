import { screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { offline, stats } from '../test/fixtures'
import { mockApi, renderPage, reply } from '../test/utils'
import { Dashboard, offlineModels, seriesRows } from './Dashboard'

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
    expect(screen.getByText(/No P2 report yet/)).toBeInTheDocument()
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
    expect(await screen.findByText(/No offline evaluation reports yet/)).toBeInTheDocument()
  })
})

describe('dashboard data shaping', () => {
  it('turns series into per-type rows and fold-ins per second', () => {
    const { rows, types } = seriesRows(stats)
    expect(types).toEqual(['view', 'like', 'rate'])
    expect(rows[0]).toMatchObject({ view: 10, like: 2, rate: 0, foldins_per_s: 1 })
    expect(rows[1]).toMatchObject({ view: 12, like: 1, rate: 1, foldins_per_s: 2 })
  })

  it('orders the champion first', () => {
    expect(offlineModels(offline.p1!).map(([n]) => n)).toEqual(['champion', 'popular'])
  })
})
