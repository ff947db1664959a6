import { describe, expect, it } from 'vitest'
import { deltaTone, lowerIsBetter, orderMetrics } from './metrics'

describe('metric order', () => {
  it('puts NDCG@10 first, then a fixed order, unknown metrics last by name', () => {
    expect(orderMetrics(['Coverage@10', 'HR@10', 'zeta', 'NDCG@10', 'alpha', 'Recall@20', 'Recall@10'])).toEqual([
      'NDCG@10',
      'Recall@10',
      'Recall@20',
      'HR@10',
      'Coverage@10',
      'alpha',
      'zeta',
    ])
  })

  it('matches known names case-insensitively', () => {
    expect(orderMetrics(['recall@20', 'ndcg@10'])).toEqual(['ndcg@10', 'recall@20'])
  })
})

describe('delta colours', () => {
  it('knows which metrics are better when lower', () => {
    expect(lowerIsBetter('latency_p99_ms')).toBe(true)
    expect(lowerIsBetter('p99_ms')).toBe(true)
    expect(lowerIsBetter('wall_s')).toBe(true)
    expect(lowerIsBetter('NDCG@10')).toBe(false)
    expect(lowerIsBetter('Recall@20')).toBe(false)
    expect(lowerIsBetter('Coverage@10')).toBe(false)
  })

  it('colours a latency drop green and a quality drop red', () => {
    expect(deltaTone('latency_p99_ms', -12)).toBe('good')
    expect(deltaTone('latency_p99_ms', 5)).toBe('bad')
    expect(deltaTone('NDCG@10', 2.5)).toBe('good')
    expect(deltaTone('NDCG@10', -1)).toBe('bad')
    expect(deltaTone('NDCG@10', 0)).toBe('neutral')
    expect(deltaTone('NDCG@10', null)).toBe('neutral')
  })
})
