import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import type { LogItem } from '../src/api/types'
import LogsPage from '../src/pages/LogsPage.vue'
import {
  MockEventSource,
  jsonResponse,
  makeLog,
  makeResults,
  mockApi,
  mountWithApp,
  requestsTo,
  resetBrowserDoubles,
} from './helpers'

beforeEach(resetBrowserDoubles)

interface LogsServer {
  pages: Map<string, { items: LogItem[]; next_cursor: string | null }>
}

// Serves /api/logs from pages keyed by cursor ("" for the first page) and /api/results.
function serveLogs(server: LogsServer) {
  return mockApi({
    '/api/results': () => jsonResponse(makeResults()),
    '/api/logs': (url) => {
      const page = server.pages.get(url.searchParams.get('cursor') ?? '')
      return page ? jsonResponse(page) : jsonResponse({ error: 'invalid_cursor', message: 'unknown cursor', field: 'cursor' }, 400)
    },
  })
}

function rowIds(wrapper: Awaited<ReturnType<typeof mountWithApp>>['wrapper']): string[] {
  return wrapper.findAll('[data-testid="log-row"]').map((row) => row.attributes('data-id')!)
}

describe('LogsPage', () => {
  it('lists time, band, album, route and id', async () => {
    const vote = makeLog({ id: 'vote-1', name: 'Bohemia Suburbana', album: 'Santiago 14° 91°', route: 'rest' })
    serveLogs({ pages: new Map([['', { items: [vote], next_cursor: null }]]) })

    const { wrapper } = await mountWithApp(LogsPage, '/registros')

    const cells = wrapper.findAll('[data-testid="log-row"] td').map((cell) => cell.text())
    expect(cells[0]).toMatch(/\d/)
    expect(cells.slice(1)).toEqual(['Bohemia Suburbana', 'Santiago 14° 91° (2005)', 'REST', 'vote-1'])
    expect(wrapper.find('time').attributes('datetime')).toBe(vote.received_at)
  })

  it('sends the filters from the address', async () => {
    const fetchMock = serveLogs({ pages: new Map([['', { items: [], next_cursor: null }]]) })

    const { wrapper } = await mountWithApp(LogsPage, '/registros?band=Malacates%20Tr%C3%A9bol%20Shop&route=grpc&limit=50')

    const request = requestsTo(fetchMock, '/api/logs')[0]
    expect(request.searchParams.get('band')).toBe('Malacates Trébol Shop')
    expect(request.searchParams.get('route')).toBe('grpc')
    expect(request.searchParams.get('limit')).toBe('50')
    expect((wrapper.find('[data-testid="filter-band"]').element as HTMLInputElement).value).toBe('Malacates Trébol Shop')
    expect(wrapper.find('[data-testid="logs-empty"]').text()).toBe('No hay votos que coincidan con los filtros.')
  })

  it('applies a band filter from the form', async () => {
    const fetchMock = serveLogs({ pages: new Map([['', { items: [makeLog()], next_cursor: null }]]) })
    const { wrapper, router } = await mountWithApp(LogsPage, '/registros')

    await wrapper.find('[data-testid="filter-band"]').setValue('  Malacates Trébol Shop ')
    await wrapper.find('[data-testid="filter-route"]').setValue('rest')
    await wrapper.find('form').trigger('submit')
    await flushPromises()

    const requests = requestsTo(fetchMock, '/api/logs')
    const last = requests[requests.length - 1]
    expect(requests).toHaveLength(2)
    expect(last.searchParams.get('band')).toBe('Malacates Trébol Shop')
    expect(last.searchParams.get('route')).toBe('rest')
    expect(router.currentRoute.value.query).toEqual({ band: 'Malacates Trébol Shop', route: 'rest' })
  })

  it('sends the time range as ISO 8601 instants', async () => {
    const fetchMock = serveLogs({ pages: new Map([['', { items: [], next_cursor: null }]]) })
    const { wrapper } = await mountWithApp(LogsPage, '/registros')

    await wrapper.find('[data-testid="filter-from"]').setValue('2025-01-15T12:00:00')
    await wrapper.find('form').trigger('submit')
    await flushPromises()

    const requests = requestsTo(fetchMock, '/api/logs')
    const from = requests[requests.length - 1].searchParams.get('from')!
    expect(from).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(new Date(from).getTime()).toBe(new Date('2025-01-15T12:00:00').getTime())
  })

  it('inserts new matching votes from the stream', async () => {
    const older = makeLog({ id: 'old', received_at: '2025-01-15T18:00:00.000Z' })
    serveLogs({ pages: new Map([['', { items: [older], next_cursor: null }]]) })
    const { wrapper } = await mountWithApp(LogsPage, '/registros?route=grpc')
    const source = MockEventSource.latest()
    source.open()

    source.sendLog(makeLog({ id: 'new-grpc', route: 'grpc', received_at: '2025-01-15T18:05:00.000Z' }))
    source.sendLog(makeLog({ id: 'new-rest', route: 'rest', received_at: '2025-01-15T18:06:00.000Z' }))
    source.sendLog(makeLog({ id: 'new-grpc', route: 'grpc', received_at: '2025-01-15T18:05:00.000Z' }))
    await flushPromises()

    expect(rowIds(wrapper)).toEqual(['new-grpc', 'old'])
  })

  it('keeps the first page at its size', async () => {
    const items = Array.from({ length: 20 }, (_, index) =>
      makeLog({ id: `old-${index}`, received_at: new Date(Date.UTC(2025, 0, 15, 18, 0, 20 - index)).toISOString() }),
    )
    serveLogs({ pages: new Map([['', { items, next_cursor: 'c1' }]]) })
    const { wrapper } = await mountWithApp(LogsPage, '/registros')

    MockEventSource.latest().sendLog(makeLog({ id: 'newest', received_at: '2025-01-15T19:00:00.000Z' }))
    await flushPromises()

    const ids = rowIds(wrapper)
    expect(ids).toHaveLength(20)
    expect(ids[0]).toBe('newest')
    expect(ids).not.toContain('old-19')
  })

  it('pages back with the cursor and returns', async () => {
    const first = [makeLog({ id: 'p1' })]
    const second = [makeLog({ id: 'p2' })]
    const third = [makeLog({ id: 'p3' })]
    const fetchMock = serveLogs({
      pages: new Map([
        ['', { items: first, next_cursor: 'c1' }],
        ['c1', { items: second, next_cursor: 'c2' }],
        ['c2', { items: third, next_cursor: null }],
      ]),
    })
    const { wrapper } = await mountWithApp(LogsPage, '/registros')
    MockEventSource.latest().open()
    expect((wrapper.find('[data-testid="logs-newer"]').element as HTMLButtonElement).disabled).toBe(true)

    await wrapper.find('[data-testid="logs-older"]').trigger('click')
    await flushPromises()
    expect(rowIds(wrapper)).toEqual(['p2'])
    expect(wrapper.find('[data-testid="logs-live-state"]').text()).toBe('En pausa mientras ve el historial')

    await wrapper.find('[data-testid="logs-older"]').trigger('click')
    await flushPromises()
    expect(rowIds(wrapper)).toEqual(['p3'])
    expect((wrapper.find('[data-testid="logs-older"]').element as HTMLButtonElement).disabled).toBe(true)

    await wrapper.find('[data-testid="logs-newer"]').trigger('click')
    await flushPromises()
    expect(rowIds(wrapper)).toEqual(['p2'])

    await wrapper.find('[data-testid="logs-newest"]').trigger('click')
    await flushPromises()
    expect(rowIds(wrapper)).toEqual(['p1'])
    expect(wrapper.find('[data-testid="logs-live-state"]').text()).toBe('Se actualiza en vivo')

    const cursors = requestsTo(fetchMock, '/api/logs').map((url) => url.searchParams.get('cursor'))
    expect(cursors).toEqual([null, 'c1', 'c2', 'c1', null])
  })

  it('counts new votes instead of inserting them on an older page', async () => {
    serveLogs({
      pages: new Map([
        ['', { items: [makeLog({ id: 'p1' })], next_cursor: 'c1' }],
        ['c1', { items: [makeLog({ id: 'p2' })], next_cursor: null }],
      ]),
    })
    const { wrapper } = await mountWithApp(LogsPage, '/registros')
    await wrapper.find('[data-testid="logs-older"]').trigger('click')
    await flushPromises()

    MockEventSource.latest().sendLog(makeLog({ id: 'live' }))
    MockEventSource.latest().sendLog(makeLog({ id: 'live-2' }))
    await flushPromises()

    expect(rowIds(wrapper)).toEqual(['p2'])
    expect(wrapper.find('[data-testid="logs-live-state"]').text()).toBe(
      'En pausa mientras ve el historial. Llegaron 2 votos nuevos.',
    )
  })

  it('refreshes the first page before paging after live inserts', async () => {
    const fetchMock = serveLogs({
      pages: new Map([
        ['', { items: [makeLog({ id: 'p1' })], next_cursor: 'c1' }],
        ['c1', { items: [makeLog({ id: 'p2' })], next_cursor: null }],
      ]),
    })
    const { wrapper } = await mountWithApp(LogsPage, '/registros')
    MockEventSource.latest().sendLog(makeLog({ id: 'live', received_at: '2030-01-01T00:00:00.000Z' }))
    await flushPromises()

    await wrapper.find('[data-testid="logs-older"]').trigger('click')
    await flushPromises()

    const cursors = requestsTo(fetchMock, '/api/logs').map((url) => url.searchParams.get('cursor'))
    expect(cursors).toEqual([null, null, 'c1'])
    expect(rowIds(wrapper)).toEqual(['p2'])
  })

  it('says when the live stream is down', async () => {
    serveLogs({ pages: new Map([['', { items: [makeLog()], next_cursor: null }]]) })
    const { wrapper } = await mountWithApp(LogsPage, '/registros')
    MockEventSource.latest().open()
    await flushPromises()
    expect(wrapper.find('[data-testid="logs-live-state"]').text()).toBe('Se actualiza en vivo')

    MockEventSource.latest().fail(true)
    await flushPromises()

    expect(wrapper.find('[data-testid="logs-live-state"]').text()).toBe(
      'Sin conexión en vivo; los votos nuevos aparecerán al reconectar',
    )
    wrapper.unmount()
  })

  it('shows the field and message of a rejected filter', async () => {
    mockApi({
      '/api/results': () => jsonResponse(makeResults()),
      '/api/logs': () => jsonResponse({ error: 'invalid_parameter', message: 'no es una fecha ISO 8601', field: 'from' }, 400),
    })

    const { wrapper } = await mountWithApp(LogsPage, '/registros?from=ayer')

    expect(wrapper.find('[data-testid="logs-error"]').text()).toBe('Valor inválido en «from»: no es una fecha ISO 8601')
  })
})
