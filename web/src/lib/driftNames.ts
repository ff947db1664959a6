/**
 * Human-readable titles of drift check ids (src/recloop/monitoring/drift.py):
 * `categorical.genre:chi2` -> "Genre mix (χ² test)".
 */

const SUBJECTS: Record<string, string> = {
  'numeric.rating': 'Ratings',
  'numeric.item_popularity': 'Item popularity',
  'categorical.event_type': 'Event-type mix',
  'categorical.genre': 'Genre mix',
  'output.scores': 'Ranking scores',
  'output.cold_start_share': 'Cold-start share of lists',
  'output.gini': 'Concentration of recommended items (Gini)',
  'online.positive_rate': 'Online positive rate',
}

const KINDS: Record<string, string> = {
  psi: 'PSI',
  ks: 'KS test',
  chi2: 'χ² test',
  delta: 'change vs reference',
  relative_drop: 'relative drop',
}

/** The kind a history key without a ":kind" suffix has (PSI unless a delta/drop check). */
export function kindOfKey(key: string): string {
  const i = key.lastIndexOf(':')
  if (i > 0) return key.slice(i + 1)
  if (key === 'output.cold_start_share' || key === 'output.gini') return 'delta'
  if (key === 'online.positive_rate') return 'relative_drop'
  return 'psi'
}

function humanize(name: string): string {
  const last = name.split('.').pop() ?? name
  const s = last.replace(/_/g, ' ')
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** "Genre mix (χ² test)" for `categorical.genre:chi2`, or for name + kind of a report score. */
export function checkTitle(key: string, kind?: string): string {
  const i = key.lastIndexOf(':')
  const name = i > 0 ? key.slice(0, i) : key
  const k = kind ?? kindOfKey(key)
  const subject = SUBJECTS[name] ?? humanize(name)
  if (subject.includes('(')) return k === 'delta' ? subject : `${subject} — ${KINDS[k] ?? k}`
  return `${subject} (${KINDS[k] ?? k})`
}

/** The threshold of a ks/chi2 check applies to its p-value (alert below), others to the statistic. */
export function isPValueKind(kind: string): boolean {
  return kind === 'ks' || kind === 'chi2'
}
