import { computed, reactive, readonly } from 'vue'

/** State of the live connection to GET /api/stream. */
export type StreamState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'

interface ApiStatusState {
  stream: StreamState
  /** Message of the last request that could not reach the API, or null after a success. */
  unreachableMessage: string | null
  /** Milliseconds until the next stream reconnection attempt, when one is scheduled. */
  retryInMs: number | null
}

// One status for the whole app: every request and the single stream report into it,
// and the banner in App.vue reads it.
const state = reactive<ApiStatusState>({ stream: 'idle', unreachableMessage: null, retryInMs: null })

export function markApiReachable(): void {
  state.unreachableMessage = null
}

export function markApiUnreachable(error: Error): void {
  state.unreachableMessage = error.message || 'unreachable'
}

export function setStreamState(stream: StreamState, retryInMs: number | null = null): void {
  state.stream = stream
  state.retryInMs = retryInMs
}

/** Resets the status; tests call it between cases. */
export function resetApiStatus(): void {
  state.stream = 'idle'
  state.unreachableMessage = null
  state.retryInMs = null
}

/**
 * Returns the shared API status. `offline` is true when the last request failed to reach
 * the API or the stream was closed and waits for a reconnection; `reconnecting` is true
 * while the browser retries a dropped stream on its own.
 */
export function useApiStatus() {
  const offline = computed(() => state.unreachableMessage !== null || state.stream === 'closed')
  const reconnecting = computed(() => !offline.value && state.stream === 'reconnecting')
  const live = computed(() => state.stream === 'open' && state.unreachableMessage === null)

  return { status: readonly(state), offline, reconnecting, live }
}
