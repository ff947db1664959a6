/** Display helpers. Every formatter renders missing values as an em dash. */

export const DASH = '—'

export function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x)
}

export function fmtInt(x: unknown): string {
  return isNum(x) ? Math.round(x).toLocaleString('en-US') : DASH
}

export function fmtNum(x: unknown, digits = 3): string {
  if (!isNum(x)) return DASH
  if (x !== 0 && Math.abs(x) < 10 ** -digits) return x.toExponential(1)
  return x.toFixed(digits)
}

export function fmtMs(x: unknown): string {
  if (!isNum(x)) return DASH
  return x < 10 ? `${x.toFixed(1)} ms` : `${Math.round(x).toLocaleString('en-US')} ms`
}

/** A fraction as a percentage: 0.123 -> "12.3%". */
export function fmtPct(x: unknown, digits = 1): string {
  return isNum(x) ? `${(x * 100).toFixed(digits)}%` : DASH
}

/** A signed percentage of an already-percent value: 3.2 -> "+3.2%". */
export function fmtSignedPct(x: unknown, digits = 1): string {
  if (!isNum(x)) return DASH
  const s = x.toFixed(digits)
  return `${x > 0 ? '+' : ''}${s}%`
}

export function fmtP(x: unknown): string {
  if (!isNum(x)) return DASH
  if (x < 0.001) return '< 0.001'
  return x.toFixed(3)
}

export function fmtInterval(ci: readonly [number, number] | null | undefined, f = fmtPct): string {
  if (!ci || ci.length !== 2) return DASH
  return `[${f(ci[0])}, ${f(ci[1])}]`
}

/** A Date from unix seconds, unix milliseconds, or an ISO string; null if invalid. */
export function toDate(t: unknown): Date | null {
  if (isNum(t)) return new Date(t < 1e12 ? t * 1000 : t)
  if (typeof t === 'string' && t) {
    const asNum = Number(t)
    if (Number.isFinite(asNum) && /^\d+(\.\d+)?$/.test(t.trim())) return toDate(asNum)
    const d = new Date(t)
    return Number.isNaN(d.getTime()) ? null : d
  }
  return null
}

export function fmtTime(t: unknown): string {
  const d = toDate(t)
  return d ? d.toLocaleTimeString('en-GB', { hour12: false }) : DASH
}

export function fmtDateTime(t: unknown): string {
  const d = toDate(t)
  if (!d) return typeof t === 'string' && t ? t : DASH
  return d.toLocaleString('en-GB', { hour12: false, dateStyle: 'medium', timeStyle: 'short' })
}

/** Relative change in percent, (b - a) / |a| * 100; null when a is 0 or missing. */
export function relChangePct(a: unknown, b: unknown): number | null {
  if (!isNum(a) || !isNum(b) || a === 0) return null
  return ((b - a) / Math.abs(a)) * 100
}

export function versionLabel(v: unknown): string {
  return v === null || v === undefined || v === '' ? DASH : `v${String(v)}`
}

/** A metric value: 4 decimals for small values, fewer for large ones. */
export function fmtMetric(x: unknown): string {
  if (!isNum(x)) return DASH
  const a = Math.abs(x)
  if (a >= 1000) return x.toLocaleString('en-US', { maximumFractionDigits: 0 })
  if (a >= 100) return x.toFixed(1)
  return fmtNum(x, 4)
}

/** Union of metric names over several metric maps, sorted case-insensitively. */
export function metricNames(...maps: (Record<string, unknown> | null | undefined)[]): string[] {
  const names = new Set<string>()
  for (const m of maps) for (const k of Object.keys(m ?? {})) names.add(k)
  return [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))
}

/** "p = 0.042" or "p < 0.001" ("p = —" when missing). */
export function pText(x: unknown): string {
  const s = fmtP(x)
  return s.startsWith('<') ? `p ${s}` : `p = ${s}`
}

/** A compact axis tick: two significant digits, no exponent for ordinary values. */
export function fmtTick(x: unknown): string {
  if (!isNum(x)) return ''
  if (x === 0) return '0'
  const a = Math.abs(x)
  if (a >= 1000) return x.toLocaleString('en-US', { maximumFractionDigits: 0 })
  if (a < 1e-4) return x.toExponential(0)
  return String(Number(x.toPrecision(2)))
}
