/**
 * Change markers between two ranked lists (e.g. recommendations before and
 * after a feedback event).
 */

export type ItemKey = string | number

/** What happened to one item of the next list. Ranks are 1-based. */
export type Change =
  | { kind: 'new'; to: number }
  | { kind: 'up'; from: number; to: number; by: number }
  | { kind: 'down'; from: number; to: number; by: number }
  | { kind: 'same'; from: number; to: number }

export interface Moved<T> {
  item: T
  from: number
  to: number
  by: number
}

export interface Removed<T> {
  /** The item as it was in the previous list. */
  item: T
  /** Its 1-based rank in the previous list. */
  rank: number
}

export interface ListDiff<T> {
  /** Key -> change, for every (first occurrence of a) key of the next list. */
  changes: Map<ItemKey, Change>
  /** Items of next not in prev, in next order. */
  added: T[]
  /** Items that moved to a better (smaller) rank, in next order. */
  up: Moved<T>[]
  /** Items that moved to a worse (larger) rank, in next order. */
  down: Moved<T>[]
  /** Items at the same rank. */
  same: T[]
  /** Items of prev not in next, in prev order. */
  removed: Removed<T>[]
  /** Whether anything differs (membership or order). */
  changed: boolean
}

function firstRanks<T>(list: readonly T[], key: (x: T) => ItemKey): Map<ItemKey, number> {
  const ranks = new Map<ItemKey, number>()
  list.forEach((x, i) => {
    const k = key(x)
    if (!ranks.has(k)) ranks.set(k, i + 1)
  })
  return ranks
}

const byItemId = (x: unknown): ItemKey => (x as { item_id: ItemKey }).item_id

/**
 * Compare `next` with `prev`: every item of `next` is new, moved up by n,
 * moved down by n, or unchanged; items of `prev` missing from `next` are
 * removed. Items are identified by `key` (default `item_id`); a key repeated
 * within a list counts at its first position only.
 */
export function diffLists<T>(
  prev: readonly T[],
  next: readonly T[],
  key: (x: T) => ItemKey = byItemId,
): ListDiff<T> {
  const prevRank = firstRanks(prev, key)
  const nextRank = firstRanks(next, key)
  const out: ListDiff<T> = {
    changes: new Map(),
    added: [],
    up: [],
    down: [],
    same: [],
    removed: [],
    changed: false,
  }
  next.forEach((item, i) => {
    const k = key(item)
    const to = i + 1
    if (nextRank.get(k) !== to) return // a repeat
    const from = prevRank.get(k)
    if (from === undefined) {
      out.changes.set(k, { kind: 'new', to })
      out.added.push(item)
    } else if (to < from) {
      out.changes.set(k, { kind: 'up', from, to, by: from - to })
      out.up.push({ item, from, to, by: from - to })
    } else if (to > from) {
      out.changes.set(k, { kind: 'down', from, to, by: to - from })
      out.down.push({ item, from, to, by: to - from })
    } else {
      out.changes.set(k, { kind: 'same', from, to })
      out.same.push(item)
    }
  })
  prev.forEach((item, i) => {
    const k = key(item)
    if (prevRank.get(k) === i + 1 && !nextRank.has(k)) out.removed.push({ item, rank: i + 1 })
  })
  out.changed = out.added.length + out.up.length + out.down.length + out.removed.length > 0
  return out
}

/** A short label of a change: "new", "▲2", "▼1" or "" when unchanged. */
export function changeLabel(c: Change | undefined): string {
  if (!c) return ''
  if (c.kind === 'new') return 'new'
  if (c.kind === 'up') return `▲${c.by}`
  if (c.kind === 'down') return `▼${c.by}`
  return ''
}
