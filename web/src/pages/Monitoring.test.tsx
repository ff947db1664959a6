import { screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { drift } from '../test/fixtures'
import { mockApi, renderPage, reply } from '../test/utils'
import { Monitoring, historyByKey, thresholdFor } from './Monitoring'

describe('Monitoring', () => {
  it('shows the latest report with alerts highlighted, charts and triggers', async () => {
    mockApi({ 'GET /v1/monitoring/drift': drift })
    renderPage(<Monitoring />)
    expect(await screen.findByTestId('drift-alert')).toHaveTextContent('2 of 3 checks')
    const rows = within(screen.getByTestId('drift-table')).getAllByTestId('drift-row')
    expect(rows[0]).toHaveClass('bg-red-50')
    expect(rows[2]).not.toHaveClass('bg-red-50')
    expect(screen.getAllByTestId('drift-chart')).toHaveLength(2)
    expect(rows[0]).toHaveTextContent('Item popularity (PSI)')
    expect(rows[1]).toHaveTextContent('Item popularity (KS test)')
    expect(within(rows[1]).getByTestId('p-bar')).toHaveAttribute('data-alert', 'true')
    expect(screen.getAllByTestId('drift-chart')[0]).toHaveTextContent('Item popularity (PSI)')
    expect(screen.getByTestId('triggers')).toHaveTextContent('kept v3')
    expect(screen.getByTestId('reference-version')).toHaveTextContent('model v3')
  })

  it('shows the API detail on error and empty states', async () => {
    mockApi({ 'GET /v1/monitoring/drift': reply(503, { detail: 'monitor not started' }) })
    renderPage(<Monitoring />)
    expect(await screen.findByText('503: monitor not started')).toBeInTheDocument()
  })

  it('renders empty states', async () => {
    mockApi({ 'GET /v1/monitoring/drift': { latest: null, history: [], thresholds: {}, triggers: [] } })
    renderPage(<Monitoring />)
    expect(await screen.findByText(/No drift history yet/)).toBeInTheDocument()
    expect(screen.getByText(/No drift report yet/)).toBeInTheDocument()
    expect(screen.getByText(/No retraining triggered yet/)).toBeInTheDocument()
  })
})

describe('Monitoring alerts', () => {
  it('shows one open alert per check, checks turned off, and that no worker acts', async () => {
    mockApi({
      'GET /v1/monitoring/drift': {
        ...drift,
        open_alerts: [{ key: 'categorical.genre:chi2', label: 'Genre mix (chi-squared)', since: 1700000000, last_seen: 1700000600, count: 3, value: 1e-9, closed_at: null }],
        disabled_checks: [{ name: 'categorical.event_type', label: 'Event-type mix', reason: 'the training reference holds one event type only (rate)' }],
        window: { seconds: 900, events: 0, lists: 0, min_events: 200, min_lists: 50, enough: false, message: '0 events and 0 lists in the last 15 min' },
        retrain_worker: { in_server: false, acts_on_drift: false, message: 'no retrain worker runs in this server', outcome: 'x' },
        history: [{ t: 1700000000, alert: true, scores: { 'categorical.genre:chi2': 80 }, values: { 'categorical.genre:chi2': 1e-9 } }],
      },
    })
    renderPage(<Monitoring />)
    expect(await screen.findByTestId('open-alerts')).toHaveTextContent('Genre mix (chi-squared): drifting since')
    expect(screen.getByTestId('open-alerts')).toHaveTextContent('3 checks')
    expect(screen.getByTestId('no-worker')).toHaveTextContent('No retrain worker')
    expect(screen.getByTestId('disabled-check')).toHaveTextContent('Event-type mix not checked')
    expect(screen.getByTestId('drift-window')).toHaveTextContent('last 15 min')
    expect(screen.getByTestId('drift-chart')).toHaveAttribute('data-plotted', 'p_value')
  })
})

describe('drift thresholds', () => {
  it('takes the statistic threshold from the latest report, ± for deltas', () => {
    expect(thresholdFor('numeric.item_popularity', drift.latest, drift.thresholds)).toEqual({ value: 0.25, kind: 'psi', symmetric: false })
    expect(thresholdFor('output.gini', drift.latest, drift.thresholds)).toEqual({ value: 0.1, kind: 'delta', symmetric: true })
  })

  it('accepts name.kind keys, and none for p-value tests', () => {
    expect(thresholdFor('numeric.item_popularity.psi', drift.latest, {})?.value).toBe(0.25)
    expect(thresholdFor('numeric.item_popularity.ks', drift.latest, {})).toBeNull()
  })

  it('falls back to the thresholds map', () => {
    expect(thresholdFor('numeric.new_feature', null, { psi_alert: 0.3 })).toEqual({ value: 0.3, kind: 'psi', symmetric: false })
    expect(thresholdFor('custom', null, { custom: 2 })).toEqual({ value: 2, kind: 'threshold', symmetric: false })
    expect(thresholdFor('custom', null, {})).toBeNull()
  })

  it('groups history per key in time order (unix seconds or ISO)', () => {
    const m = historyByKey([
      { t: '2024-05-02T10:05:00Z', alert: false, scores: { a: 2 } },
      { t: 1714644000, alert: true, scores: { a: 1, b: 3 } },
    ])
    expect(m.get('a')!.map((r) => r.v)).toEqual([1, 2])
    expect(m.get('b')!.map((r) => r.v)).toEqual([3])
  })
})
