import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import RoutesPage from '../src/pages/RoutesPage.vue'
import { ROUTES_POLL_MS } from '../src/composables/useRoutes'
import { jsonResponse, makeRoutes, mockApi, mountWithApp, requestsTo, resetBrowserDoubles } from './helpers'

beforeEach(resetBrowserDoubles)

afterEach(() => {
  vi.useRealTimers()
})

describe('RoutesPage', () => {
  it('shows both routes side by side', async () => {
    mockApi({ '/api/routes': () => jsonResponse(makeRoutes()) })

    const { wrapper } = await mountWithApp(RoutesPage, '/rutas')

    const grpc = wrapper.find('[data-testid="route-card-grpc"]')
    const rest = wrapper.find('[data-testid="route-card-rest"]')
    expect(grpc.find('h2').text()).toBe('gRPC')
    expect(grpc.find('[data-testid="route-acknowledged"]').text()).toBe('120')
    expect(grpc.find('[data-testid="latency-p50"]').text()).toBe('1.5 ms')
    expect(grpc.find('[data-testid="latency-p99"]').text()).toBe('8.0 ms')
    expect(rest.find('h2').text()).toBe('REST')
    expect(rest.find('[data-testid="latency-p90"]').text()).toBe('6.0 ms')
  })

  it('marks the route with the lower p99 as faster', async () => {
    mockApi({ '/api/routes': () => jsonResponse(makeRoutes()) })

    const { wrapper } = await mountWithApp(RoutesPage, '/rutas')

    expect(wrapper.find('[data-testid="route-card-grpc"] [data-testid="route-faster"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="route-card-rest"] [data-testid="route-faster"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="route-verdict"]').text()).toBe(
      'La ruta gRPC es más rápida: p99 de 8.0 ms contra 14.5 ms.',
    )
  })

  it('names no faster route before both have votes', async () => {
    const routes = makeRoutes()
    routes.routes[1].acknowledged = 0
    mockApi({ '/api/routes': () => jsonResponse(routes) })

    const { wrapper } = await mountWithApp(RoutesPage, '/rutas')

    expect(wrapper.find('[data-testid="route-faster"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="route-verdict"]').text()).toBe('Sin datos todavía')
  })

  it('polls while mounted and stops after', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const routes = makeRoutes()
    const fetchMock = mockApi({ '/api/routes': () => jsonResponse(routes) })
    const { wrapper } = await mountWithApp(RoutesPage, '/rutas')

    routes.routes[0].acknowledged = 121
    vi.advanceTimersByTime(ROUTES_POLL_MS)
    await flushPromises()
    expect(wrapper.find('[data-testid="route-card-grpc"] [data-testid="route-acknowledged"]').text()).toBe('121')

    wrapper.unmount()
    vi.advanceTimersByTime(ROUTES_POLL_MS * 3)
    await flushPromises()
    expect(requestsTo(fetchMock, '/api/routes')).toHaveLength(2)
  })
})
