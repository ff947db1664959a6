import { describe, expect, it } from 'vitest'
import { bucketize, timeTicks } from './timeseries'

const point = (t: number, view: number, p99: number | null = 10) => ({
  t,
  events: { view },
  foldins: 0,
  p50_ms: p99,
  p99_ms: p99,
  active_users: 1,
})

describe('time-axis bucketing', () => {
  it('keeps the gap between two bursts as empty buckets on a numeric axis', () => {
    const rows = bucketize([point(1000, 3), point(1020, 4)], ['view'], 1024, { bucketS: 5, windowS: 30 })
    expect(rows.map((r) => r.t / 1000)).toEqual([995, 1000, 1005, 1010, 1015, 1020])
    expect(rows.map((r) => r.total)).toEqual([0, 3, 0, 0, 0, 4])
    expect(rows.map((r) => r.p99_ms)).toEqual([null, 10, null, null, null, 10])
  })

  it('aligns off-grid timestamps to their bucket and drops points outside the window', () => {
    const rows = bucketize([point(903, 9), point(1002, 1)], ['view'], 1004, { bucketS: 5, windowS: 10 })
    expect(rows.map((r) => [r.t / 1000, r.total])).toEqual([
      [995, 0],
      [1000, 1],
    ])
  })

  it('places ticks on round clock times', () => {
    expect(timeTicks(61_000, 250_000, 60)).toEqual([120_000, 180_000, 240_000])
  })
})
