// Test doubles for the browser APIs that the app uses to reach the logs API.
import { flushPromises, mount } from '@vue/test-utils'
import { vi } from 'vitest'
import type { Component } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { LogItem, Results, RoutesResponse } from '../src/api/types'
import { resetApiStatus } from '../src/composables/useApiStatus'
import { resetLiveStream } from '../src/composables/liveStream'
import { createAppI18n, type AppLocale } from '../src/i18n'
import { routes } from '../src/router'

type Listener = (event: Event) => void

/** EventSource double whose tests open, fail and feed events by hand. */
export class MockEventSource {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSED = 2
  static instances: MockEventSource[] = []

  readonly url: string
  readyState = MockEventSource.CONNECTING
  closed = false
  private readonly listeners = new Map<string, Set<Listener>>()

  constructor(url: string) {
    this.url = url
    MockEventSource.instances.push(this)
  }

  static latest(): MockEventSource {
    const instance = MockEventSource.instances[MockEventSource.instances.length - 1]
    if (!instance) {
      throw new Error('no EventSource was created')
    }
    return instance
  }

  addEventListener(type: string, listener: Listener): void {
    if (!this.listeners.has(type)) {
      this.listeners.set(type, new Set())
    }
    this.listeners.get(type)!.add(listener)
  }

  close(): void {
    this.readyState = MockEventSource.CLOSED
    this.closed = true
  }

  open(): void {
    this.readyState = MockEventSource.OPEN
    this.dispatch(new Event('open'))
  }

  /** Simulates a dropped connection; `closed` tells whether the browser gave up. */
  fail(closed: boolean): void {
    this.readyState = closed ? MockEventSource.CLOSED : MockEventSource.CONNECTING
    this.dispatch(new Event('error'))
  }

  sendResults(results: Results): void {
    this.dispatch(new MessageEvent('results', { data: JSON.stringify(results) }))
  }

  sendLog(item: LogItem): void {
    this.dispatch(new MessageEvent('log', { data: JSON.stringify(item) }))
  }

  sendRaw(type: string, data: string): void {
    this.dispatch(new MessageEvent(type, { data }))
  }

  private dispatch(event: Event): void {
    for (const listener of this.listeners.get(event.type) ?? []) {
      listener(event)
    }
  }
}

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
  })
}

export type ApiHandler = (url: URL) => Response | Promise<Response>

/**
 * Replaces fetch with a router of API paths (such as "/api/logs") to handlers. A path
 * without a handler fails the request as a network error would.
 */
export function mockApi(handlers: Record<string, ApiHandler>) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL) => {
    const url = new URL(String(input), 'http://urna.test')
    const handler = handlers[url.pathname]
    if (!handler) {
      throw new TypeError(`Failed to fetch ${url.pathname}`)
    }
    return handler(url)
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

/** URLs of the requests that the fetch mock received for one path. */
export function requestsTo(fetchMock: ReturnType<typeof mockApi>, pathname: string): URL[] {
  return fetchMock.mock.calls
    .map(([input]) => new URL(String(input), 'http://urna.test'))
    .filter((url) => url.pathname === pathname)
}

/** Installs the EventSource double and clears every shared singleton of the app. */
export function resetBrowserDoubles(): void {
  MockEventSource.instances = []
  vi.stubGlobal('EventSource', MockEventSource)
  resetApiStatus()
  resetLiveStream()
  localStorage.clear()
  document.documentElement.lang = 'es'
}

/** Mounts a component with the app's i18n and a router that starts at `path`. */
export async function mountWithApp(
  component: Component,
  path = '/',
  locale: AppLocale = 'es',
  props: Record<string, unknown> = {},
) {
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push(path)
  await router.isReady()
  const i18n = createAppI18n(locale)
  const wrapper = mount(component, { props, global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router, i18n }
}

export function makeResults(overrides: Partial<Results> = {}): Results {
  return {
    total: 3,
    by_route: { grpc: 2, rest: 1 },
    by_band: { 'Malacates Trébol Shop': 2, 'Bohemia Suburbana': 1 },
    by_album: [
      { band: 'Malacates Trébol Shop', album: 'Sólo éxitos… (dicen)', year: 2005, votes: 2, avg_rank: 7.25 },
      { band: 'Bohemia Suburbana', album: 'Santiago 14° 91°', year: 2020, votes: 1, avg_rank: 5.2 },
    ],
    rate: { grpc: 0.5, rest: 0.25 },
    ...overrides,
  }
}

let logSequence = 0

export function makeLog(overrides: Partial<LogItem> = {}): LogItem {
  logSequence += 1
  return {
    id: `0193a5c2-0000-7000-8000-${String(logSequence).padStart(12, '0')}`,
    name: 'Malacates Trébol Shop',
    album: 'Sólo éxitos… (dicen)',
    year: 2005,
    rank: 7.5,
    route: 'grpc',
    received_at: '2025-01-15T18:30:00.000Z',
    counted_at: '2025-01-15T18:30:00.050Z',
    partition: 2,
    offset: logSequence,
    ...overrides,
  }
}

export function makeRoutes(): RoutesResponse {
  return {
    routes: [
      { route: 'grpc', acknowledged: 120, rate: 2.5, latency_ms: { p50: 1.5, p90: 3.25, p99: 8 } },
      { route: 'rest', acknowledged: 80, rate: 1.75, latency_ms: { p50: 2.5, p90: 6, p99: 14.5 } },
    ],
  }
}
