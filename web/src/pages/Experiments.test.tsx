import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { setAdminKey } from '../api/client'
import { experiments, models, resultsSrm } from '../test/fixtures'
import { mockApi, renderPage, reply } from '../test/utils'
import { Experiments, fmtLift, modelOptions, validateExperiment, variantVersion } from './Experiments'

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

  it('says "not enough data" for SRM before any exposure', async () => {
    const empty = {
      ...resultsSrm,
      variants: resultsSrm.variants.map((v) => ({ ...v, exposures: 0, successes: 0, rate: null, ci: [null, null] })),
      lift: null,
      srm: { p_value: null, mismatch: false },
    }
    mockApi({ ...base, 'GET /v1/experiments/{id}/results': empty })
    renderPage(<Experiments />)
    expect(await screen.findByTestId('srm-status')).toHaveTextContent('not enough data')
    expect(screen.getByTestId('verdict')).toHaveTextContent(/^No data yet/)
  })

  it('reads the result in words with an uplift bar, and promotes a winning version after a confirm', async () => {
    const exp = { ...experiments.experiments[0], variants: [{ name: 'A', model: 'champion', weight: 1 }, { name: 'B', model: '4', weight: 1 }] }
    const results = {
      ...resultsSrm,
      variants: [resultsSrm.variants[0], { ...resultsSrm.variants[1], model: '4', rate: 0.13 }],
      lift: 0.15,
      lift_ci: [0.05, 0.25],
      srm: { p_value: 0.4, mismatch: false },
      decision: 'winner:B',
    }
    const { calls } = mockApi({
      ...base,
      'GET /v1/experiments': { experiments: [exp] },
      'GET /v1/experiments/{id}/results': results,
      'POST /v1/models/{version}/promote': { champion: '4', previous: '3' },
    })
    setAdminKey('k')
    renderPage(<Experiments />)
    const v = await screen.findByTestId('verdict')
    expect(v).toHaveTextContent('B (4) wins: significantly better CTR than the control A (champion).')
    expect(screen.getByTestId('lift-sentence')).toHaveTextContent('B (4) has 15.0% higher CTR than A (champion) (95% CI +5.0% to +25.0%); lift = B ÷ A − 1.')
    expect(screen.getByTestId('uplift-bar')).toHaveAttribute('data-tone', 'good')
    fireEvent.click(await screen.findByTestId('promote-winner'))
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Promote v4' }))
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/v1/models/4/promote')).toBe(true))
  })

  it('creates a bandit with guardrails and auto-promote from dropdowns', async () => {
    const { calls } = mockApi({ ...base, 'POST /v1/experiments': { ...experiments.experiments[0], id: 'exp-3', name: 'bandit' } })
    setAdminKey('k')
    renderPage(<Experiments />)
    fireEvent.change(await screen.findByTestId('experiment-name'), { target: { value: 'bandit' } })
    fireEvent.click(screen.getByTestId('mode-bandit'))
    fireEvent.change(screen.getByTestId('experiment-metric'), { target: { value: 'like_rate' } })
    fireEvent.click(screen.getByTestId('guardrail-mean_rating'))
    await waitFor(() => expect(within(screen.getByTestId('variant-model-1')).getAllByRole('option').length).toBeGreaterThan(3))
    fireEvent.change(screen.getByTestId('variant-model-1'), { target: { value: '4' } })
    fireEvent.click(screen.getByTestId('auto-promote'))
    fireEvent.click(screen.getByRole('button', { name: 'Create experiment' }))
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true))
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({
      name: 'bandit',
      primary_metric: 'like_rate',
      mode: 'bandit',
      guardrails: ['mean_rating'],
      auto_promote: true,
      variants: [
        { name: 'A', model: 'champion', weight: 1 },
        { name: 'B', model: '4', weight: 1 },
      ],
    })
  })

  it('creates an interleaving experiment', async () => {
    const { calls } = mockApi({ ...base, 'POST /v1/experiments': { ...experiments.experiments[0], id: 'exp-4', name: 'il' } })
    setAdminKey('k')
    renderPage(<Experiments />)
    fireEvent.change(await screen.findByTestId('experiment-name'), { target: { value: 'il' } })
    fireEvent.click(screen.getByTestId('mode-interleaving'))
    fireEvent.click(screen.getByRole('button', { name: 'Create experiment' }))
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true))
    const body = calls.find((c) => c.method === 'POST')!.body as Record<string, unknown>
    expect(body.mode).toBe('interleaving')
    expect((body.variants as unknown[]).length).toBe(2)
  })

  it('refuses interleaving with more than 2 variants or another metric', () => {
    const v = [
      { name: 'A', model: 'champion', weight: 1 },
      { name: 'B', model: 'popular', weight: 1 },
    ]
    expect(validateExperiment({ name: 'x', primary_metric: 'ctr', mode: 'interleaving', variants: v })).toEqual([])
    expect(validateExperiment({ name: 'x', primary_metric: 'like_rate', mode: 'interleaving', variants: v })).toHaveLength(1)
  })

  it('offers the registry versions, aliases and popular as models', () => {
    expect(modelOptions(models).map((o) => o.value)).toEqual(['champion', 'challenger', 'popular', '4', '3'])
    expect(modelOptions(models)[0].label).toBe('champion (now v3)')
    expect(variantVersion('challenger', models)).toBe('4')
    expect(variantVersion('popular', models)).toBeNull()
    expect(variantVersion('7', models)).toBe('7')
  })
})
