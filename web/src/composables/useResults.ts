import { onMounted, onUnmounted, ref, shallowRef } from 'vue'
import { ApiError, fetchResults } from '../api/client'
import type { Results } from '../api/types'
import { useLiveStream } from './useLiveStream'

/** Delay before the snapshot request is retried after the API could not be reached. */
export const RESULTS_RETRY_MS = 3000

/**
 * Loads the tally snapshot and keeps it current from the `results` stream events.
 * A failed request is retried while the component is mounted, and the snapshot is
 * refetched whenever the stream reopens after a failure.
 */
export function useResults() {
  const results = shallowRef<Results | null>(null)
  const error = shallowRef<ApiError | null>(null)
  const updatedAt = ref<Date | null>(null)
  let retryTimer: ReturnType<typeof setTimeout> | null = null
  let mounted = false

  function apply(snapshot: Results): void {
    results.value = snapshot
    updatedAt.value = new Date()
    error.value = null
  }

  async function load(): Promise<void> {
    if (retryTimer !== null) {
      clearTimeout(retryTimer)
      retryTimer = null
    }
    try {
      apply(await fetchResults())
    } catch (cause) {
      error.value = cause instanceof ApiError ? cause : new ApiError(0, 'network', String(cause))
      if (mounted) {
        retryTimer = setTimeout(() => void load(), RESULTS_RETRY_MS)
      }
    }
  }

  useLiveStream({ results: apply, reopened: () => void load() })

  onMounted(() => {
    mounted = true
    void load()
  })

  onUnmounted(() => {
    mounted = false
    if (retryTimer !== null) {
      clearTimeout(retryTimer)
    }
  })

  return { results, error, updatedAt, reload: load }
}
