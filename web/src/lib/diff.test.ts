import { describe, expect, it } from 'vitest'
import { changeLabel, diffLists } from './diff'

const L = (...ids: number[]) => ids.map((item_id) => ({ item_id, title: `t${item_id}` }))
const ids = (xs: { item_id: number }[]) => xs.map((x) => x.item_id)

describe('diffLists', () => {
  it('reports nothing for identical lists', () => {
    const d = diffLists(L(1, 2, 3), L(1, 2, 3))
    expect(d.changed).toBe(false)
    expect(ids(d.same)).toEqual([1, 2, 3])
    expect(d.added).toEqual([])
    expect(d.up).toEqual([])
    expect(d.down).toEqual([])
    expect(d.removed).toEqual([])
    expect(d.changes.get(2)).toEqual({ kind: 'same', from: 2, to: 2 })
  })

  it('handles two empty lists', () => {
    const d = diffLists([], [])
    expect(d.changed).toBe(false)
    expect(d.changes.size).toBe(0)
  })

  it('marks everything new when the previous list is empty', () => {
    const d = diffLists([], L(5, 6))
    expect(ids(d.added)).toEqual([5, 6])
    expect(d.changes.get(5)).toEqual({ kind: 'new', to: 1 })
    expect(d.changes.get(6)).toEqual({ kind: 'new', to: 2 })
    expect(d.changed).toBe(true)
  })

  it('marks everything removed when the next list is empty', () => {
    const d = diffLists(L(5, 6), [])
    expect(d.removed.map((r) => [r.item.item_id, r.rank])).toEqual([
      [5, 1],
      [6, 2],
    ])
    expect(d.changes.size).toBe(0)
    expect(d.changed).toBe(true)
  })

  it('detects a swap as one up and one down by 1', () => {
    const d = diffLists(L(1, 2), L(2, 1))
    expect(d.changes.get(2)).toEqual({ kind: 'up', from: 2, to: 1, by: 1 })
    expect(d.changes.get(1)).toEqual({ kind: 'down', from: 1, to: 2, by: 1 })
    expect(d.removed).toEqual([])
  })

  it('counts moves in ranks, so removing the head moves everyone up', () => {
    // like on #1 with exclude_seen: the liked item drops out, the rest move up, one new at the end
    const d = diffLists(L(10, 20, 30, 40), L(20, 30, 40, 50))
    expect(d.removed.map((r) => [r.item.item_id, r.rank])).toEqual([[10, 1]])
    expect(d.up.map((m) => [m.item.item_id, m.from, m.to, m.by])).toEqual([
      [20, 2, 1, 1],
      [30, 3, 2, 1],
      [40, 4, 3, 1],
    ])
    expect(ids(d.added)).toEqual([50])
    expect(d.changes.get(50)).toEqual({ kind: 'new', to: 4 })
  })

  it('reports a jump of several places and the items it pushes down', () => {
    const d = diffLists(L(1, 2, 3, 4, 5), L(5, 1, 2, 3, 4))
    expect(d.changes.get(5)).toEqual({ kind: 'up', from: 5, to: 1, by: 4 })
    for (const id of [1, 2, 3, 4]) expect(d.changes.get(id)).toMatchObject({ kind: 'down', by: 1 })
    expect(d.down.map((m) => m.item.item_id)).toEqual([1, 2, 3, 4])
  })

  it('an insertion pushes later items down and the last one out', () => {
    const d = diffLists(L(1, 2, 3), L(1, 9, 2))
    expect(d.changes.get(1)).toEqual({ kind: 'same', from: 1, to: 1 })
    expect(d.changes.get(9)).toEqual({ kind: 'new', to: 2 })
    expect(d.changes.get(2)).toEqual({ kind: 'down', from: 2, to: 3, by: 1 })
    expect(d.removed.map((r) => r.item.item_id)).toEqual([3])
  })

  it('lists removed items in their previous order with previous ranks', () => {
    const d = diffLists(L(1, 2, 3, 4, 5), L(2, 4, 6))
    expect(d.removed.map((r) => [r.item.item_id, r.rank])).toEqual([
      [1, 1],
      [3, 3],
      [5, 5],
    ])
  })

  it('keeps item objects: next ones for changes, previous ones for removed', () => {
    const prev = [{ item_id: 1, title: 'old' }, { item_id: 2, title: 'gone' }]
    const next = [{ item_id: 1, title: 'new' }]
    const d = diffLists(prev, next)
    expect(d.same[0].title).toBe('new')
    expect(d.removed[0].item.title).toBe('gone')
  })

  it('is the same when only scores change (identity is by key)', () => {
    const d = diffLists(
      [{ item_id: 1, score: 2 }, { item_id: 2, score: 1 }],
      [{ item_id: 1, score: 0.5 }, { item_id: 2, score: 0.4 }],
    )
    expect(d.changed).toBe(false)
  })

  it('counts a repeated key at its first position only', () => {
    const d = diffLists(L(1, 2, 1), L(2, 1, 2))
    expect(d.changes.get(2)).toEqual({ kind: 'up', from: 2, to: 1, by: 1 })
    expect(d.changes.get(1)).toEqual({ kind: 'down', from: 1, to: 2, by: 1 })
    expect(d.changes.size).toBe(2)
    expect(d.up.length + d.down.length + d.added.length + d.same.length).toBe(2)
    expect(d.removed).toEqual([])
  })

  it('accepts a custom key and string keys', () => {
    const d = diffLists([{ id: 'a' }, { id: 'b' }], [{ id: 'b' }, { id: 'c' }], (x) => x.id)
    expect(d.changes.get('b')).toEqual({ kind: 'up', from: 2, to: 1, by: 1 })
    expect(d.changes.get('c')).toEqual({ kind: 'new', to: 2 })
    expect(d.removed.map((r) => r.item.id)).toEqual(['a'])
  })

  it('distinguishes number and string keys', () => {
    const d = diffLists([{ item_id: 1 }], [{ item_id: '1' as unknown as number }])
    expect(d.added.length).toBe(1)
    expect(d.removed.length).toBe(1)
  })

  it('partitions every next item into exactly one group', () => {
    const prev = L(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    const next = L(3, 1, 11, 2, 5, 4, 12, 6, 8, 7)
    const d = diffLists(prev, next)
    const total = d.added.length + d.up.length + d.down.length + d.same.length
    expect(total).toBe(next.length)
    expect(d.changes.size).toBe(next.length)
    expect(ids(d.added)).toEqual([11, 12])
    expect(d.removed.map((r) => r.item.item_id)).toEqual([9, 10])
    // every moved item's ranks agree with both lists
    for (const m of [...d.up, ...d.down]) {
      expect(prev[m.from - 1].item_id).toBe(m.item.item_id)
      expect(next[m.to - 1].item_id).toBe(m.item.item_id)
      expect(m.by).toBe(Math.abs(m.from - m.to))
    }
  })

  it('does not mutate its inputs', () => {
    const prev = Object.freeze(L(1, 2))
    const next = Object.freeze(L(2, 3))
    expect(() => diffLists(prev, next)).not.toThrow()
    expect(ids([...prev])).toEqual([1, 2])
  })
})

describe('changeLabel', () => {
  it('renders the markers', () => {
    expect(changeLabel({ kind: 'new', to: 1 })).toBe('new')
    expect(changeLabel({ kind: 'up', from: 4, to: 1, by: 3 })).toBe('▲3')
    expect(changeLabel({ kind: 'down', from: 1, to: 3, by: 2 })).toBe('▼2')
    expect(changeLabel({ kind: 'same', from: 1, to: 1 })).toBe('')
    expect(changeLabel(undefined)).toBe('')
  })
})
