/**
 * Series the API does not keep, sampled by the page while it is open: each poll
 * appends one point; points are kept per key in memory and in sessionStorage,
 * so they survive navigating between pages and reloads of the tab.
 */
import { useEffect, useState } from 'react'

export interface Sample {
  /** unix ms */
  t: number
  /** group of the point (model version, variant name, ...) */
  tag: string
  v: number
}

const MAX_POINTS = 720
const memory = new Map<string, Sample[]>()
const storageKey = (key: string) => `recloop.samples.${key}`

/** The stored samples of `key`, oldest first. */
export function readSamples(key: string): Sample[] {
  const hit = memory.get(key)
  if (hit) return hit
  let out: Sample[] = []
  try {
    const raw = window.sessionStorage.getItem(storageKey(key))
    if (raw) out = JSON.parse(raw) as Sample[]
  } catch {
    out = []
  }
  memory.set(key, out)
  return out
}

/** Append points (same `t` and tag replaces) and keep the newest {@link MAX_POINTS}. */
export function addSamples(key: string, points: Sample[]): Sample[] {
  const cur = readSamples(key).filter((s) => !points.some((p) => p.t === s.t && p.tag === s.tag))
  const next = [...cur, ...points].sort((a, b) => a.t - b.t).slice(-MAX_POINTS)
  memory.set(key, next)
  try {
    window.sessionStorage.setItem(storageKey(key), JSON.stringify(next))
  } catch {
    /* storage full or disabled: memory only */
  }
  return next
}

/** Forget every series (tests). */
export function clearSamples(): void {
  memory.clear()
}

/**
 * The samples of `key`, with `points` appended whenever `stamp` changes
 * (pass the query's `dataUpdatedAt`).
 */
export function useSamples(key: string, points: Sample[] | null, stamp: number): Sample[] {
  const [samples, setSamples] = useState(() => readSamples(key))
  useEffect(() => {
    if (points && points.length) setSamples(addSamples(key, points))
    // eslint-disable-next-line react-hooks/exhaustive-deps -- one append per data update
  }, [key, stamp])
  return samples
}

/** Rows for a chart with one column per tag: `{t, [tag]: v}`, oldest first. */
export function pivot(samples: readonly Sample[]): { rows: Record<string, number>[]; tags: string[] } {
  const tags = [...new Set(samples.map((s) => s.tag))]
  const byT = new Map<number, Record<string, number>>()
  for (const s of samples) {
    const row = byT.get(s.t) ?? { t: s.t }
    row[s.tag] = s.v
    byT.set(s.t, row)
  }
  return { rows: [...byT.values()].sort((a, b) => a.t - b.t), tags }
}
