import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { setAdminKey } from '../api/client'
import { decisions, models } from '../test/fixtures'
import { mockApi, renderPage, reply } from '../test/utils'
import { Models } from './Models'

describe('Models', () => {
  it('highlights the champion and shows the union of metrics side by side', async () => {
    mockApi({ 'GET /v1/models': models, 'GET /v1/models/decisions': decisions })
    renderPage(<Models />)
    const badge = await screen.findByTestId('champion-badge')
    const champRow = badge.closest('tr')!
    expect(champRow).toHaveAttribute('data-version', '3')
    expect(champRow).toHaveClass('bg-amber-50')
    expect(screen.getAllByTestId('champion-badge')).toHaveLength(1)
    const header = within(screen.getByTestId('models-table')).getAllByRole('columnheader').map((h) => h.textContent)
    expect(header).toEqual(expect.arrayContaining(['hr@10', 'ndcg@10', 'recall@20']))
    // 2 versions x 3 metrics, missing ones shown as a dash
    const cells = screen.getAllByTestId('metric-cell')
    expect(cells).toHaveLength(6)
    expect(cells.map((c) => c.textContent)).toContain('—')
    const v4 = screen.getAllByTestId('model-row').find((r) => r.getAttribute('data-version') === '4')!
    expect(within(v4).getByTestId('promote-button')).toBeInTheDocument()
    expect(within(champRow).queryByTestId('promote-button')).toBeNull()
  })

  it('lists retraining decisions with metric changes in percent', async () => {
    mockApi({ 'GET /v1/models': models, 'GET /v1/models/decisions': decisions })
    renderPage(<Models />)
    const table = await screen.findByTestId('decisions-table')
    expect(table).toHaveTextContent('kept')
    expect(table).toHaveTextContent('below the promotion margin')
    expect(table).toHaveTextContent('v3 → v4')
    expect(within(table).getByTestId('metric-change')).toHaveTextContent('(+2.5%)')
  })

  it('shows a 403 on promote clearly', async () => {
    const { calls } = mockApi({
      'GET /v1/models': models,
      'GET /v1/models/decisions': decisions,
      'POST /v1/models/{version}/promote': reply(403, { detail: 'invalid admin key' }),
    })
    setAdminKey('wrong')
    renderPage(<Models />)
    fireEvent.click(await screen.findByTestId('promote-button'))
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Promote v4' }))
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent(/Forbidden \(403\)/)
    expect(alert).toHaveTextContent('invalid admin key')
    expect(calls.find((c) => c.method === 'POST')!.headers.get('X-Admin-Key')).toBe('wrong')
  })

  it('promotes after a confirm and says "swapping to v4…" until /ready serves v4', async () => {
    let champion = '3'
    let serving = '3'
    mockApi({
      'GET /v1/models': () => ({ ...models, champion }),
      'GET /v1/models/decisions': decisions,
      'GET /ready': () => ({ ready: true, model_version: serving }),
      'POST /v1/models/{version}/promote': () => {
        champion = '4'
        return { champion: '4', previous: '3' }
      },
    })
    setAdminKey('k')
    renderPage(<Models />)
    fireEvent.click(await screen.findByTestId('promote-button'))
    const dialog = screen.getByRole('dialog')
    expect(dialog).toHaveTextContent('Promote v4 to champion?')
    fireEvent.click(within(dialog).getByRole('button', { name: 'Promote v4' }))
    expect(await screen.findByText(/Swapping to/)).toHaveTextContent('Swapping to v4… the server still serves v3')
    await waitFor(() => expect(screen.getByTestId('champion-badge').closest('tr')).toHaveAttribute('data-version', '4'))
    serving = '4'
    await waitFor(() => expect(screen.getByTestId('swap-status')).toHaveTextContent('Now serving v4 (was v3).'), { timeout: 3000 })
  })

  it('rolls back only after confirming in a dialog; cancel sends nothing', async () => {
    const { calls } = mockApi({
      'GET /v1/models': models,
      'GET /v1/models/decisions': decisions,
      'GET /ready': { ready: true, model_version: '3' },
      'POST /v1/models/rollback': { champion: '4', previous: '3' },
    })
    setAdminKey('k')
    renderPage(<Models />)
    const button = await screen.findByTestId('rollback-button')
    expect(button).toBeEnabled()
    fireEvent.click(button)
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }))
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    fireEvent.click(button)
    expect(screen.getByRole('dialog')).toHaveTextContent('Roll back the champion?')
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Roll back' }))
    await waitFor(() => expect(calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual(['/v1/models/rollback']))
  })

  it('disables rollback when there is nothing to roll back to', async () => {
    mockApi({ 'GET /v1/models': { champion: '3', versions: [models.versions[1]] }, 'GET /v1/models/decisions': decisions })
    renderPage(<Models />)
    expect(await screen.findByTestId('rollback-button')).toBeDisabled()
    expect(screen.getByTestId('rollback-blocker')).toHaveTextContent('v3 is the only version')
  })

  it('orders metric columns NDCG@10 first and colours deltas by direction', async () => {
    mockApi({
      'GET /v1/models': {
        champion: '3',
        versions: [
          { version: '4', aliases: [], created_at: '2024-05-02T10:00:00Z', metrics: { 'Recall@20': 0.2, 'NDCG@10': 0.3, latency_p99_ms: 8 }, tags: {} },
          { version: '3', aliases: ['champion'], created_at: '2024-05-01T10:00:00Z', metrics: { 'Recall@20': 0.25, 'NDCG@10': 0.28, latency_p99_ms: 10 }, tags: {} },
        ],
      },
      'GET /v1/models/decisions': decisions,
    })
    renderPage(<Models />)
    const table = await screen.findByTestId('models-table')
    const header = within(table).getAllByRole('columnheader').map((h) => h.textContent)
    expect(header.slice(2, 5)).toEqual(['NDCG@10', 'Recall@20', 'latency_p99_ms'])
    const v4 = screen.getAllByTestId('model-row').find((r) => r.getAttribute('data-version') === '4')!
    const deltas = within(v4).getAllByTestId('metric-delta')
    expect(deltas.map((d) => d.textContent)).toEqual(['+7.1%', '-20.0%', '-20.0%'])
    expect(deltas.map((d) => d.className.match(/text-(emerald|red)-700/)?.[1])).toEqual(['emerald', 'red', 'emerald'])
  })

  it('shows the API detail when models fail and an empty state without versions', async () => {
    mockApi({ 'GET /v1/models': reply(502, { detail: 'MLflow unreachable' }), 'GET /v1/models/decisions': { decisions: [] } })
    renderPage(<Models />)
    expect(await screen.findByText('502: MLflow unreachable')).toBeInTheDocument()
    expect(await screen.findByText(/No retraining decisions yet/)).toBeInTheDocument()
  })
})
