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
    fireEvent.click(screen.getByRole('button', { name: /Confirm promoting version 4/ }))
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent(/Forbidden \(403\)/)
    expect(alert).toHaveTextContent('invalid admin key')
    expect(calls.find((c) => c.method === 'POST')!.headers.get('X-Admin-Key')).toBe('wrong')
  })

  it('promotes and reports the new champion', async () => {
    let champion = '3'
    mockApi({
      'GET /v1/models': () => ({ ...models, champion }),
      'GET /v1/models/decisions': decisions,
      'POST /v1/models/{version}/promote': () => {
        champion = '4'
        return { champion: '4', previous: '3' }
      },
    })
    setAdminKey('k')
    renderPage(<Models />)
    fireEvent.click(await screen.findByTestId('promote-button'))
    fireEvent.click(screen.getByRole('button', { name: /Confirm promoting version 4/ }))
    expect(await screen.findByText(/Champion is now/)).toHaveTextContent('Champion is now v4 (was v3)')
    await waitFor(() => expect(screen.getByTestId('champion-badge').closest('tr')).toHaveAttribute('data-version', '4'))
  })

  it('shows the API detail when models fail and an empty state without versions', async () => {
    mockApi({ 'GET /v1/models': reply(502, { detail: 'MLflow unreachable' }), 'GET /v1/models/decisions': { decisions: [] } })
    renderPage(<Models />)
    expect(await screen.findByText('502: MLflow unreachable')).toBeInTheDocument()
    expect(await screen.findByText(/No retraining decisions yet/)).toBeInTheDocument()
  })
})
