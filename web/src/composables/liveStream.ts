import type { LogItem, Results } from '../api/types'
import { apiUrl } from '../api/client'
import { markApiReachable, setStreamState } from './useApiStatus'

export interface LiveStreamHandlers {
  results?: (results: Results) => void
  log?: (item: LogItem) => void
  /** Called when the stream opens again after a failure, so views can refetch what they missed. */
  reopened?: () => void
}

/** Delays before the first, second, ... reconnection attempt after the stream closed. */
export const RECONNECT_DELAYS_MS: readonly number[] = [1000, 2000, 5000, 10000]

/**
 * One EventSource on GET /api/stream shared by every view. It opens with the first
 * subscriber and closes with the last. While the connection merely drops, the browser
 * reconnects by itself and sends Last-Event-ID. The browser gives up on an HTTP error
 * such as nginx's 502 or on a wrong content type, and then this class opens a new
 * EventSource after a growing delay. A new EventSource cannot send Last-Event-ID, so
 * subscribers get `reopened` and refetch their snapshot instead.
 */
export class LiveStream {
  private readonly subscribers = new Set<LiveStreamHandlers>()
  private source: EventSource | null = null
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private failures = 0
  private hadError = false

  subscribe(handlers: LiveStreamHandlers): () => void {
    this.subscribers.add(handlers)
    if (this.subscribers.size === 1) {
      this.connect()
    }
    return () => {
      this.subscribers.delete(handlers)
      if (this.subscribers.size === 0) {
        this.stop()
      }
    }
  }

  private connect(): void {
    this.reconnectTimer = null
    setStreamState(this.failures === 0 && !this.hadError ? 'connecting' : 'reconnecting')

    const source = new EventSource(apiUrl('/stream'))
    this.source = source
    source.addEventListener('open', () => this.onOpen())
    source.addEventListener('error', () => this.onError(source))
    source.addEventListener('results', (event) => this.dispatch(event as MessageEvent<string>, 'results'))
    source.addEventListener('log', (event) => this.dispatch(event as MessageEvent<string>, 'log'))
  }

  private onOpen(): void {
    const wasBroken = this.hadError
    this.failures = 0
    this.hadError = false
    setStreamState('open')
    markApiReachable()
    if (wasBroken) {
      for (const handlers of this.subscribers) {
        handlers.reopened?.()
      }
    }
  }

  // An error with readyState CONNECTING means the browser retries on its own; CLOSED
  // means it gave up, so a new EventSource is scheduled.
  private onError(source: EventSource): void {
    if (source !== this.source) {
      return
    }
    this.hadError = true
    if (source.readyState !== EventSource.CLOSED) {
      setStreamState('reconnecting')
      return
    }

    source.close()
    this.source = null
    const delay = RECONNECT_DELAYS_MS[Math.min(this.failures, RECONNECT_DELAYS_MS.length - 1)]
    this.failures += 1
    setStreamState('closed', delay)
    this.reconnectTimer = setTimeout(() => this.connect(), delay)
  }

  private dispatch(event: MessageEvent<string>, kind: 'results' | 'log'): void {
    let payload: unknown
    try {
      payload = JSON.parse(event.data)
    } catch {
      console.warn(`urna-web: ignored a "${kind}" stream event whose data is not JSON`)
      return
    }
    for (const handlers of this.subscribers) {
      if (kind === 'results') {
        handlers.results?.(payload as Results)
      } else {
        handlers.log?.(payload as LogItem)
      }
    }
  }

  private stop(): void {
    if (this.reconnectTimer !== null) {
      clearTimeout(this.reconnectTimer)
      this.reconnectTimer = null
    }
    this.source?.close()
    this.source = null
    this.failures = 0
    this.hadError = false
    setStreamState('idle')
  }
}

let sharedStream: LiveStream | null = null

export function getLiveStream(): LiveStream {
  sharedStream ??= new LiveStream()
  return sharedStream
}

/** Drops the shared stream; tests call it between cases. */
export function resetLiveStream(): void {
  sharedStream = null
}
