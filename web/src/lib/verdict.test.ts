import { describe, expect, it } from 'vitest'
import type { ExperimentResults } from '../api/types'
import { focusVariant, srmState, verdict } from './verdict'

const base: ExperimentResults = {
  id: 'e',
  name: 'ease-vs-popular',
  status: 'running',
  variants: [
    { name: 'A', model: 'champion', exposures: 3000, successes: 330, rate: 0.11, ci: [0.1, 0.12] },
    { name: 'B', model: 'popular', exposures: 3000, successes: 296, rate: 0.0987, ci: [0.088, 0.109] },
  ],
  lift: -0.103,
  lift_ci: [-0.18, -0.026],
  p_value: 0.01,
  sequential: { p_value: 0.004, reject: true },
  srm: { p_value: 0.8, mismatch: false },
  decision: 'winner:A',
}

describe('experiment verdict', () => {
  it('says which way the lift runs beside "winner: A"', () => {
    const v = verdict(base, 'ctr')
    expect(v.tone).toBe('green')
    expect(v.headline).toBe('A (champion) wins: B is significantly worse on CTR.')
    expect(v.lift).toBe(
      'B (popular) has 10.3% lower CTR than A (champion) (95% CI −18.0% to −2.6%); lift = B ÷ A − 1.',
    )
    expect(v.winner?.name).toBe('A')
  })

  it('names a winning treatment as better than the control', () => {
    const v = verdict({ ...base, lift: 0.2, lift_ci: [0.05, 0.35], decision: 'winner:B' }, 'like_rate')
    expect(v.headline).toBe('B (popular) wins: significantly better Like rate than the control A (champion).')
    expect(v.lift).toMatch(/^B \(popular\) has 20\.0% higher Like rate than A \(champion\)/)
  })

  it('keeps running without a decision, and says so after a stop', () => {
    const running = verdict({ ...base, decision: 'running', lift_ci: [-0.2, 0.05] }, 'ctr')
    expect(running.tone).toBe('blue')
    expect(running.headline).toMatch(/^No decision yet: the difference in CTR is not significant/)
    const stopped = verdict({ ...base, status: 'stopped', decision: 'no difference' }, 'ctr')
    expect(stopped.headline).toBe('Stopped with no significant difference in CTR.')
  })

  it('has no verdict without data and distrusts a sample ratio mismatch', () => {
    const empty = { ...base, variants: base.variants.map((v) => ({ ...v, exposures: 0, successes: 0, rate: null })), lift: null }
    expect(verdict(empty, 'ctr').headline).toMatch(/^No data yet/)
    const srm = verdict({ ...base, srm: { p_value: 0.0001, mismatch: true } }, 'ctr')
    expect(srm.tone).toBe('red')
    expect(srm.headline).toMatch(/sample ratio mismatch/)
  })

  it('finds the compared treatment among three variants from the lift', () => {
    const three: ExperimentResults = {
      ...base,
      decision: 'running',
      variants: [
        { name: 'A', model: 'champion', exposures: 10, successes: 1, rate: 0.1, ci: [0, 0.2] },
        { name: 'B', model: '2', exposures: 10, successes: 1, rate: 0.12, ci: [0, 0.2] },
        { name: 'C', model: 'popular', exposures: 10, successes: 1, rate: 0.08, ci: [0, 0.2] },
      ],
      lift: -0.2,
    }
    expect(focusVariant(three)?.name).toBe('C')
  })
})

describe('SRM state', () => {
  it('is "no-data" before any exposure or p-value, then ok / mismatch', () => {
    const none = { ...base, variants: base.variants.map((v) => ({ ...v, exposures: 0 })), srm: { p_value: null, mismatch: false } }
    expect(srmState(none)).toBe('no-data')
    expect(srmState({ ...base, variants: base.variants.map((v) => ({ ...v, exposures: 10 })) })).toBe('no-data')
    expect(srmState(base)).toBe('ok')
    expect(srmState({ ...base, srm: { p_value: 0, mismatch: true } })).toBe('mismatch')
  })
})
