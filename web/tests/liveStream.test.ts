import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { LiveStream, RECONNECT_DELAYS_MS } from '../src/composables/liveStream'
import { useApiStatus } from '../src/composables/useApiStatus'
import { MockEventSource, makeLog, makeResults, resetBrowserDoubles } from './helpers'

beforeEach(() => {
  resetBrowserDoubles()
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
})

afterEach(() => {
  vi.useRealTimers()
})

describe('LiveStream', () => {
  it('opens one EventSource on /api/stream for all subscribers', () => {
    const stream = new LiveStream()
    stream.subscribe({})
    stream.subscribe({})

    expect(MockEventSource.instances).toHaveLength(1)
    expect(MockEventSource.latest().url).toBe('/api/stream')
  })

  it('delivers results and log events to subscribers', () => {
    const stream = new LiveStream()
    const results = vi.fn()
    const log = vi.fn()
    stream.subscribe({ results, log })
    const source = MockEventSource.latest()
    source.open()

    source.sendResults(makeResults({ total: 9 }))
    source.sendLog(makeLog({ name: 'Sólo éxitos… (dicen)' }))

    expect(results).toHaveBeenCalledWith(expect.objectContaining({ total: 9 }))
    expect(log).toHaveBeenCalledWith(expect.objectContaining({ name: 'Sólo éxitos… (dicen)' }))
  })

  it('ignores an event whose data is not JSON', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const stream = new LiveStream()
    const results = vi.fn()
    stream.subscribe({ results })

    MockEventSource.latest().sendRaw('results', '{not json')

    expect(results).not.toHaveBeenCalled()
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('lets the browser retry a dropped connection', () => {
    const stream = new LiveStream()
    stream.subscribe({})
    const source = MockEventSource.latest()
    source.open()

    source.fail(false)
    vi.advanceTimersByTime(RECONNECT_DELAYS_MS[RECONNECT_DELAYS_MS.length - 1] * 2)

    expect(MockEventSource.instances).toHaveLength(1)
    expect(useApiStatus().reconnecting.value).toBe(true)
    expect(useApiStatus().offline.value).toBe(false)
  })

  it('reconnects with growing delays after the browser gives up', () => {
    const stream = new LiveStream()
    stream.subscribe({})

    MockEventSource.latest().fail(true)
    expect(useApiStatus().offline.value).toBe(true)
    expect(useApiStatus().status.retryInMs).toBe(RECONNECT_DELAYS_MS[0])
    vi.advanceTimersByTime(RECONNECT_DELAYS_MS[0] - 1)
    expect(MockEventSource.instances).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(MockEventSource.instances).toHaveLength(2)

    MockEventSource.latest().fail(true)
    vi.advanceTimersByTime(RECONNECT_DELAYS_MS[0])
    expect(MockEventSource.instances).toHaveLength(2)
    vi.advanceTimersByTime(RECONNECT_DELAYS_MS[1] - RECONNECT_DELAYS_MS[0])
    expect(MockEventSource.instances).toHaveLength(3)
  })

  it('asks subscribers to resync after reopening', () => {
    const stream = new LiveStream()
    const reopened = vi.fn()
    stream.subscribe({ reopened })
    MockEventSource.latest().open()
    expect(reopened).not.toHaveBeenCalled()

    MockEventSource.latest().fail(true)
    vi.advanceTimersByTime(RECONNECT_DELAYS_MS[0])
    MockEventSource.latest().open()

    expect(reopened).toHaveBeenCalledTimes(1)
    expect(useApiStatus().offline.value).toBe(false)
    expect(useApiStatus().live.value).toBe(true)
  })

  it('closes the connection when the last subscriber leaves', () => {
    const stream = new LiveStream()
    const first = stream.subscribe({})
    const second = stream.subscribe({})
    const source = MockEventSource.latest()

    first()
    expect(source.closed).toBe(false)
    second()
    expect(source.closed).toBe(true)
  })

  it('cancels a scheduled reconnection when stopped', () => {
    const stream = new LiveStream()
    const unsubscribe = stream.subscribe({})
    MockEventSource.latest().fail(true)

    unsubscribe()
    vi.advanceTimersByTime(RECONNECT_DELAYS_MS[RECONNECT_DELAYS_MS.length - 1])

    expect(MockEventSource.instances).toHaveLength(1)
  })
})
