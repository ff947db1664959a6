import { describe, expect, it } from 'vitest'
import { checkTitle, kindOfKey } from './driftNames'

describe('drift check titles', () => {
  it('names history keys in words', () => {
    expect(checkTitle('categorical.genre:chi2')).toBe('Genre mix (χ² test)')
    expect(checkTitle('categorical.genre')).toBe('Genre mix (PSI)')
    expect(checkTitle('numeric.rating:ks')).toBe('Ratings (KS test)')
    expect(checkTitle('output.cold_start_share')).toBe('Cold-start share of lists (change vs reference)')
    expect(checkTitle('online.positive_rate')).toBe('Online positive rate (relative drop)')
  })

  it('takes the kind of a report score and humanizes unknown names', () => {
    expect(checkTitle('numeric.item_popularity', 'ks')).toBe('Item popularity (KS test)')
    expect(checkTitle('numeric.session_length', 'psi')).toBe('Session length (PSI)')
  })

  it('infers the kind of keys without a suffix', () => {
    expect(kindOfKey('output.gini')).toBe('delta')
    expect(kindOfKey('numeric.rating')).toBe('psi')
    expect(kindOfKey('numeric.rating:ks')).toBe('ks')
  })
})
