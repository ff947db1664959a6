/**
 * Live series on a real time axis: every bucket of the window is present, so an
 * idle minute shows as zeros (counts) or a gap (latencies), never as a bend
 * between two distant points.
 */
import type { StatsPoint } from '../api/types'
import { isNum } from './format'

/** Width of a `/v1/stats` bucket (src/recloop/monitoring/live.py BUCKET_S). */
export const BUCKET_S = 5
/** Span of the `/v1/stats` series (live.py WINDOW_S). */
export const WINDOW_S = 600

export interface BucketRow {
  /** Bucket start, unix milliseconds (the chart's numeric x). */
  t: number
  /** Events per type in the bucket (0 for every type when the bucket is empty). */
  events: Record<string, number>
  /** Events of every type in the bucket. */
  total: number
  foldins_per_s: number
  /** null = no request in the bucket (drawn as a gap). */
  p50_ms: number | null
  p99_ms: number | null
  active_users: number
}

/**
 * One row per `bucketS` bucket from `now - windowS` to `now` (unix seconds),
 * filled from `series`; buckets the server did not report are empty.
 * Points outside the window are dropped.
 */
export function bucketize(
  series: readonly StatsPoint[],
  types: readonly string[],
  now: number,
  { bucketS = BUCKET_S, windowS = WINDOW_S }: { bucketS?: number; windowS?: number } = {},
): BucketRow[] {
  const last = Math.floor(now / bucketS) * bucketS
  const first = last - windowS + bucketS
  const byStart = new Map<number, StatsPoint>()
  for (const p of series) byStart.set(Math.floor(p.t / bucketS) * bucketS, p)
  const rows: BucketRow[] = []
  for (let t = first; t <= last; t += bucketS) {
    const p = byStart.get(t)
    const events: Record<string, number> = {}
    let total = 0
    for (const ty of types) {
      const n = p?.events?.[ty] ?? 0
      events[ty] = n
      total += n
    }
    rows.push({
      t: t * 1000,
      events,
      total,
      foldins_per_s: (p?.foldins ?? 0) / bucketS,
      p50_ms: p && isNum(p.p50_ms) ? p.p50_ms : null,
      p99_ms: p && isNum(p.p99_ms) ? p.p99_ms : null,
      active_users: p?.active_users ?? 0,
    })
  }
  return rows
}

/** Ticks every `stepS` seconds inside [lo, hi] (ms), on round clock times. */
export function timeTicks(lo: number, hi: number, stepS: number): number[] {
  const step = stepS * 1000
  const out: number[] = []
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) out.push(t)
  return out
}

/** "13:05" (or "13:05:30" when `seconds`) of a unix-ms tick. */
export function clockLabel(ms: number, seconds = false): string {
  return new Date(ms).toLocaleTimeString('en-GB', {
    hour12: false,
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
  })
}
