import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import App from '../src/App.vue'
import ResultsPage from '../src/pages/ResultsPage.vue'
import { RESULTS_RETRY_MS } from '../src/composables/useResults'
import { MockEventSource, jsonResponse, makeResults, mockApi, mountWithApp, requestsTo, resetBrowserDoubles } from './helpers'

beforeEach(resetBrowserDoubles)

afterEach(() => {
  vi.useRealTimers()
})

describe('ResultsPage', () => {
  it('shows the total, routes, bands and albums', async () => {
    mockApi({ '/api/results': () => jsonResponse(makeResults({ total: 1234 })) })

    const { wrapper } = await mountWithApp(ResultsPage)

    expect(wrapper.find('[data-testid="total-votes"]').text()).toBe('1,234')
    expect(wrapper.find('[data-testid="rate-grpc"]').text()).toContain('0.50 votos/s')
    expect(wrapper.find('[data-testid="rate-rest"]').text()).toContain('Votos por ruta: 1')
    expect(wrapper.findAll('[data-testid="band-bar"]')).toHaveLength(2)
    expect(wrapper.find('[data-testid="albums-table"]').text()).toContain('Santiago 14° 91°')
  })

  it('updates from the stream without refetching', async () => {
    const fetchMock = mockApi({ '/api/results': () => jsonResponse(makeResults({ total: 3 })) })
    const { wrapper } = await mountWithApp(ResultsPage)
    const source = MockEventSource.latest()
    source.open()

    source.sendResults(
      makeResults({ total: 4, by_band: { 'Malacates Trébol Shop': 2, 'Bohemia Suburbana': 1, 'Gaby Moreno': 1 } }),
    )
    await flushPromises()

    expect(wrapper.find('[data-testid="total-votes"]').text()).toBe('4')
    expect(wrapper.findAll('[data-testid="band-bar"]')).toHaveLength(3)
    expect(requestsTo(fetchMock, '/api/results')).toHaveLength(1)
  })

  it('refetches the snapshot when the stream reopens', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    let total = 3
    const fetchMock = mockApi({ '/api/results': () => jsonResponse(makeResults({ total })) })
    const { wrapper } = await mountWithApp(ResultsPage)
    MockEventSource.latest().open()

    MockEventSource.latest().fail(true)
    total = 10
    vi.advanceTimersByTime(1000)
    MockEventSource.latest().open()
    await flushPromises()

    expect(requestsTo(fetchMock, '/api/results')).toHaveLength(2)
    expect(wrapper.find('[data-testid="total-votes"]').text()).toBe('10')
  })

  it('shows the server error message of a failed request', async () => {
    mockApi({ '/api/results': () => jsonResponse({ error: 'redis', message: 'Redis no responde' }, 500) })

    const { wrapper } = await mountWithApp(ResultsPage)

    expect(wrapper.find('[role="alert"]').text()).toBe('La API respondió con un error (500): Redis no responde')
  })
})

describe('App with the API down', () => {
  it('shows a Spanish message and recovers on its own', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    let up = false
    mockApi({
      '/api/results': () => (up ? jsonResponse(makeResults({ total: 7 })) : Promise.reject(new TypeError('Failed to fetch'))),
    })

    const { wrapper } = await mountWithApp(App)

    const banner = wrapper.find('[data-testid="api-offline"]')
    expect(banner.exists()).toBe(true)
    expect(banner.text()).toContain('No se puede conectar con la API de urna')
    expect(wrapper.find('[data-testid="total-votes"]').exists()).toBe(false)

    up = true
    vi.advanceTimersByTime(RESULTS_RETRY_MS)
    await flushPromises()

    expect(wrapper.find('[data-testid="api-offline"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="total-votes"]').text()).toBe('7')
    wrapper.unmount()
  })

  it('reports a closed stream with the retry delay', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    mockApi({ '/api/results': () => jsonResponse(makeResults()) })
    const { wrapper } = await mountWithApp(App)

    MockEventSource.latest().fail(true)
    await flushPromises()

    expect(wrapper.find('[data-testid="api-offline"]').text()).toContain('Próximo intento en 1 s.')

    vi.advanceTimersByTime(1000)
    MockEventSource.latest().open()
    await flushPromises()

    expect(wrapper.find('[data-testid="api-offline"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="live-indicator"]').text()).toBe('En vivo')
    wrapper.unmount()
  })
})
