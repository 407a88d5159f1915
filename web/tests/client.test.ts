import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError, buildLogsQuery, fetchResults, getJson } from '../src/api/client'
import { emptyLogFilters } from '../src/api/types'
import { useApiStatus } from '../src/composables/useApiStatus'
import { jsonResponse, makeResults, mockApi, requestsTo, resetBrowserDoubles } from './helpers'

beforeEach(resetBrowserDoubles)

describe('buildLogsQuery', () => {
  it('leaves out empty filters and cursor', () => {
    const query = buildLogsQuery(emptyLogFilters(), 20, null)
    expect(query.toString()).toBe('limit=20')
  })

  it('encodes accented filters and the cursor', () => {
    const filters = { ...emptyLogFilters(), band: ' Malacates Trébol Shop ', album: 'Santiago 14° 91°', route: 'rest' }
    const query = buildLogsQuery(filters, 50, 'abc=')

    expect(query.get('band')).toBe('Malacates Trébol Shop')
    expect(query.get('album')).toBe('Santiago 14° 91°')
    expect(query.get('route')).toBe('rest')
    expect(query.get('cursor')).toBe('abc=')
    expect(query.get('limit')).toBe('50')
    expect(query.toString()).toContain('band=Malacates+Tr%C3%A9bol+Shop')
  })
})

describe('getJson', () => {
  it('requests the relative /api path', async () => {
    const fetchMock = mockApi({ '/api/results': () => jsonResponse(makeResults()) })

    const results = await fetchResults()

    expect(results.total).toBe(3)
    expect(String(fetchMock.mock.calls[0][0])).toBe('/api/results')
    expect(requestsTo(fetchMock, '/api/results')).toHaveLength(1)
  })

  it('raises the API error code, message and field', async () => {
    mockApi({
      '/api/logs': () => jsonResponse({ error: 'invalid_parameter', message: 'limit must be 1..500', field: 'limit' }, 400),
    })

    const error = await getJson('/logs').catch((cause: unknown) => cause)

    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(400)
    expect((error as ApiError).code).toBe('invalid_parameter')
    expect((error as ApiError).field).toBe('limit')
    expect((error as ApiError).message).toBe('limit must be 1..500')
    expect((error as ApiError).isUnreachable).toBe(false)
    expect(useApiStatus().offline.value).toBe(false)
  })

  it('marks the API unreachable on a network failure', async () => {
    mockApi({})

    const error = await getJson('/results').catch((cause: unknown) => cause)

    expect((error as ApiError).status).toBe(0)
    expect((error as ApiError).isUnreachable).toBe(true)
    expect(useApiStatus().offline.value).toBe(true)
  })

  it('treats a gateway HTML error as unreachable', async () => {
    mockApi({ '/api/results': () => new Response('<h1>502 Bad Gateway</h1>', { status: 502, statusText: 'Bad Gateway' }) })

    const error = await getJson('/results').catch((cause: unknown) => cause)

    expect((error as ApiError).status).toBe(502)
    expect((error as ApiError).message).toBe('502 Bad Gateway')
    expect(useApiStatus().offline.value).toBe(true)
  })

  it('clears the unreachable status after a success', async () => {
    let up = false
    mockApi({
      '/api/results': () => (up ? jsonResponse(makeResults()) : new Response('', { status: 503 })),
    })

    await getJson('/results').catch(() => undefined)
    expect(useApiStatus().offline.value).toBe(true)

    up = true
    await getJson('/results')
    expect(useApiStatus().offline.value).toBe(false)
  })
})
