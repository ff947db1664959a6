/**
 * Metric order and direction: which offline metric leads a table, and whether
 * a change is good (green) or bad (red) for it.
 */

/** The primary offline metric, then the rest in a fixed, meaningful order. */
export const METRIC_ORDER = [
  'NDCG@10',
  'Recall@10',
  'Recall@20',
  'HR@10',
  'MAP@10',
  'Precision@10',
  'Coverage@10',
] as const

export const PRIMARY_METRIC = METRIC_ORDER[0]

/** `names` with the known metrics in {@link METRIC_ORDER} first, then any others alphabetically. */
export function orderMetrics(names: Iterable<string>): string[] {
  const rank = (n: string) => {
    const i = METRIC_ORDER.findIndex((m) => m.toLowerCase() === n.toLowerCase())
    return i < 0 ? METRIC_ORDER.length : i
  }
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.toLowerCase().localeCompare(b.toLowerCase()))
}

/** Lower is better for latencies, times, errors and losses; higher for everything else. */
export function lowerIsBetter(name: string): boolean {
  return /latency|(^|[_.\s@-])(p\d\d|ms|s|wall|time|seconds|loss|error|rmse|mae)($|[_.\s@-])|_ms$|_s$|duration/i.test(name)
}

export type DeltaTone = 'good' | 'bad' | 'neutral'

/** Whether a change of `delta` (any unit, sign = direction) in metric `name` is an improvement. */
export function deltaTone(name: string, delta: number | null | undefined): DeltaTone {
  if (delta == null || !Number.isFinite(delta) || delta === 0) return 'neutral'
  const better = lowerIsBetter(name) ? delta < 0 : delta > 0
  return better ? 'good' : 'bad'
}

export const DELTA_CLASS: Record<DeltaTone, string> = {
  good: 'text-emerald-700',
  bad: 'text-red-700',
  neutral: 'text-slate-600',
}
