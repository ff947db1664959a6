/**
 * The result of an experiment in words: who is compared with whom, which way
 * the lift runs, and what the decision means.
 *
 * The API's `lift` is the relative difference of one treatment against the
 * control (the first variant): lift = rate(treatment) / rate(control) - 1. With
 * more than two variants it is the winning treatment, else the one closest to
 * significance; {@link focusVariant} recovers which from the rates.
 */
import type { ExperimentResults, VariantResult } from '../api/types'
import { isNum } from './format'

export const METRIC_LABELS: Record<string, { label: string; help: string }> = {
  ctr: { label: 'CTR', help: 'share of served lists with at least one click' },
  like_rate: { label: 'Like rate', help: 'share of served lists with at least one like' },
  positive_rate: {
    label: 'Positive rate',
    help: 'share of served lists with a like, click, purchase or rating ≥ 4',
  },
  mean_rating: { label: 'Mean rating', help: 'mean of the ratings given to served items (1–5)' },
}

export function metricLabel(m: string): string {
  return METRIC_LABELS[m]?.label ?? m
}

export type VerdictTone = 'green' | 'red' | 'amber' | 'gray' | 'blue'

export interface Verdict {
  tone: VerdictTone
  /** One sentence: the decision. */
  headline: string
  /** How the lift reads: "B converts 10.3% lower than A (95% CI −18.0% to −2.6%)". */
  lift: string | null
  /** The variant named by `decision` ("winner:B"), if any. */
  winner: VariantResult | null
}

/** The treatment the top-level lift refers to. */
export function focusVariant(r: ExperimentResults): VariantResult | null {
  const [control, ...rest] = r.variants
  if (!control || rest.length === 0) return null
  if (rest.length === 1) return rest[0]
  const w = winnerName(r.decision)
  const named = rest.find((v) => v.name === w)
  if (named) return named
  if (!isNum(r.lift) || !isNum(control.rate) || control.rate === 0) return rest[0]
  const c = control.rate
  return rest.reduce((best, v) =>
    Math.abs((v.rate ?? Infinity) / c - 1 - r.lift!) < Math.abs((best.rate ?? Infinity) / c - 1 - r.lift!) ? v : best,
  )
}

function winnerName(decision: string | null | undefined): string | null {
  return decision?.startsWith('winner:') ? decision.slice('winner:'.length) : null
}

const pct = (x: number, digits = 1) => `${(Math.abs(x) * 100).toFixed(digits)}%`
const signed = (x: number, digits = 1) => `${x > 0 ? '+' : x < 0 ? '−' : ''}${pct(x, digits)}`

function who(v: VariantResult): string {
  return `${v.name} (${v.model})`
}

/** The verdict for `r`; `metric` is the primary metric name (ctr, like_rate, ...). */
export function verdict(r: ExperimentResults, metric: string): Verdict {
  const control = r.variants[0] ?? null
  const focus = focusVariant(r)
  const exposures = r.variants.reduce((s, v) => s + (v.exposures ?? 0), 0)
  const m = metricLabel(metric)
  const winner = r.variants.find((v) => v.name === winnerName(r.decision)) ?? null

  let lift: string | null = null
  if (control && focus && isNum(r.lift)) {
    const dir = r.lift > 0 ? 'higher' : r.lift < 0 ? 'lower' : 'the same'
    const ci =
      r.lift_ci && isNum(r.lift_ci[0]) && isNum(r.lift_ci[1])
        ? ` (95% CI ${signed(r.lift_ci[0])} to ${signed(r.lift_ci[1])})`
        : ''
    lift =
      r.lift === 0
        ? `${who(focus)} has the same ${m} as ${who(control)}${ci}.`
        : `${who(focus)} has ${pct(r.lift)} ${dir} ${m} than ${who(control)}${ci}; lift = ${focus.name} ÷ ${control.name} − 1.`
  }

  if (exposures === 0) {
    return { tone: 'gray', headline: 'No data yet: no list has been served under this experiment.', lift: null, winner: null }
  }
  if (r.srm?.mismatch) {
    return {
      tone: 'red',
      headline: 'Not trustworthy: the traffic split does not match the weights (sample ratio mismatch).',
      lift,
      winner: null,
    }
  }
  if (winner && control) {
    const others = r.variants.filter((v) => v.name !== winner.name)
    const text =
      winner.name === control.name
        ? `${who(winner)} wins: ${others.map((v) => v.name).join(', ')} ${others.length > 1 ? 'are' : 'is'} significantly worse on ${m}.`
        : `${who(winner)} wins: significantly better ${m} than the control ${who(control)}.`
    return { tone: 'green', headline: text, lift, winner }
  }
  if (r.status === 'running') {
    return {
      tone: 'blue',
      headline: `No decision yet: the difference in ${m} is not significant; keep the experiment running.`,
      lift,
      winner: null,
    }
  }
  return { tone: 'gray', headline: `Stopped with no significant difference in ${m}.`, lift, winner: null }
}

export type SrmState = 'no-data' | 'ok' | 'mismatch'

/** Minimum exposures before an SRM "ok" means anything. */
export const SRM_MIN_EXPOSURES = 100

/** "no-data" until the check has a p-value and enough exposures; a mismatch shows at once. */
export function srmState(r: ExperimentResults): SrmState {
  if (r.srm?.mismatch) return 'mismatch'
  const exposures = r.variants.reduce((s, v) => s + (v.exposures ?? 0), 0)
  if (!isNum(r.srm?.p_value) || exposures < SRM_MIN_EXPOSURES) return 'no-data'
  return 'ok'
}
