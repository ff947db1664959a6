import { fireEvent, screen, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { setAdminKey } from '../api/client'
import { experiments, models, resultsSrm } from '../test/fixtures'
import { mockApi, renderPage, reply } from '../test/utils'
import { Experiments, fmtLift, validateExperiment } from './Experiments'

const base = {
  'GET /v1/experiments': experiments,
  'GET /v1/experiments/{id}/results': resultsSrm,
  'GET /v1/models': models,
}

describe('Experiments', () => {
  it('shows results and a sample-ratio-mismatch warning', async () => {
    mockApi(base)
    renderPage(<Experiments />)
    const warning = await screen.findByTestId('srm-warning')
    expect(warning).toHaveAttribute('role', 'alert')
    expect(warning).toHaveTextContent(/Sample ratio mismatch \(p < 0\.001\)/)
    expect(screen.getByTestId('srm-status')).toHaveTextContent('mismatch')
    const table = screen.getByTestId('results-table')
    expect(table).toHaveTextContent('5,400')
    expect(table).toHaveTextContent('11.30%')
    expect(table).toHaveTextContent('[10.40%, 12.10%]')
    expect(screen.getByTestId('lift')).toHaveTextContent('-3.2%')
    expect(screen.getByTestId('sequential-status')).toHaveTextContent('continue')
    expect(screen.getByTestId('decision')).toHaveTextContent('running')
  })

  it('shows no SRM warning when the split is fine', async () => {
    mockApi({ ...base, 'GET /v1/experiments/{id}/results': { ...resultsSrm, srm: { p_value: 0.6, mismatch: false } } })
    renderPage(<Experiments />)
    expect(await screen.findByTestId('srm-status')).toHaveTextContent('ok')
    expect(screen.queryByTestId('srm-warning')).toBeNull()
  })

  it('creates an experiment with two variants', async () => {
    const { calls } = mockApi({ ...base, 'POST /v1/experiments': { ...experiments.experiments[0], id: 'exp-2', name: 'als-test' } })
    setAdminKey('k')
    renderPage(<Experiments />)
    fireEvent.change(await screen.findByTestId('experiment-name'), { target: { value: 'als-test' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create experiment' }))
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true))
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.path).toBe('/v1/experiments')
    expect(post.headers.get('X-Admin-Key')).toBe('k')
    expect(post.body).toEqual({
      name: 'als-test',
      primary_metric: 'ctr',
      variants: [
        { name: 'A', model: 'champion', weight: 0.5 },
        { name: 'B', model: 'popular', weight: 0.5 },
      ],
    })
    expect(await screen.findByText(/Started experiment “als-test”/)).toBeInTheDocument()
  })

  it('stops an experiment and shows a 403 detail', async () => {
    mockApi({ ...base, 'POST /v1/experiments/{id}/stop': reply(403, { detail: 'X-Admin-Key required' }) })
    renderPage(<Experiments />)
    fireEvent.click(await screen.findByTestId('stop-button'))
    fireEvent.click(screen.getByRole('button', { name: 'Confirm stop' }))
    expect(await screen.findByText(/X-Admin-Key required/)).toBeInTheDocument()
  })

  it('shows the API detail when the list fails, and an empty state', async () => {
    mockApi({ ...base, 'GET /v1/experiments': reply(500, { detail: 'experiment store locked' }) })
    renderPage(<Experiments />)
    expect(await screen.findByText('500: experiment store locked')).toBeInTheDocument()
  })

  it('validates the form and formats lifts', () => {
    expect(validateExperiment({ name: '', primary_metric: 'ctr', variants: [{ name: 'A', model: 'x', weight: 0 }, { name: 'A', model: '', weight: 1 }] })).toEqual([
      'Give the experiment a name.',
      'Variant names must differ.',
      'Every variant needs a model.',
      'Weights must be positive numbers.',
    ])
    expect(fmtLift(0.052)).toBe('+5.2%')
    expect(fmtLift(null)).toBe('—')
  })
})
