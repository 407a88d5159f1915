import { describe, expect, it } from 'vitest'
import { emptyLogFilters } from '../src/api/types'
import { logMatchesFilters } from '../src/composables/useLogs'
import { makeLog } from './helpers'

describe('logMatchesFilters', () => {
  const vote = makeLog({
    name: 'Malacates Trébol Shop',
    album: 'Sólo éxitos… (dicen)',
    route: 'rest',
    received_at: '2025-01-15T18:30:00.000Z',
  })

  it('accepts any vote without filters', () => {
    expect(logMatchesFilters(vote, emptyLogFilters())).toBe(true)
  })

  it('compares band, album and route exactly', () => {
    expect(logMatchesFilters(vote, { ...emptyLogFilters(), band: 'Malacates Trébol Shop' })).toBe(true)
    expect(logMatchesFilters(vote, { ...emptyLogFilters(), band: 'Malacates Trebol Shop' })).toBe(false)
    expect(logMatchesFilters(vote, { ...emptyLogFilters(), album: 'Sólo éxitos… (dicen)' })).toBe(true)
    expect(logMatchesFilters(vote, { ...emptyLogFilters(), album: 'Paquetecuetes' })).toBe(false)
    expect(logMatchesFilters(vote, { ...emptyLogFilters(), route: 'rest' })).toBe(true)
    expect(logMatchesFilters(vote, { ...emptyLogFilters(), route: 'grpc' })).toBe(false)
  })

  it('keeps the time range bounds inclusive', () => {
    const at = '2025-01-15T18:30:00.000Z'
    expect(logMatchesFilters(vote, { ...emptyLogFilters(), from: at, to: at })).toBe(true)
    expect(logMatchesFilters(vote, { ...emptyLogFilters(), from: '2025-01-15T18:30:00.001Z' })).toBe(false)
    expect(logMatchesFilters(vote, { ...emptyLogFilters(), to: '2025-01-15T18:29:59.999Z' })).toBe(false)
  })
})
