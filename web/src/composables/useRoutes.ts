import { onMounted, onUnmounted, shallowRef } from 'vue'
import { ApiError, fetchRoutes } from '../api/client'
import type { RouteStats } from '../api/types'

/**
 * Interval between GET /api/routes requests. The stream does not carry route latency,
 * so this view polls; two seconds keeps it fresh without loading the API.
 */
export const ROUTES_POLL_MS = 2000

/** Polls the per-route statistics while the component is mounted. */
export function useRoutes() {
  const routes = shallowRef<RouteStats[] | null>(null)
  const error = shallowRef<ApiError | null>(null)
  let timer: ReturnType<typeof setTimeout> | null = null
  let mounted = false
  let controller: AbortController | null = null

  async function load(): Promise<void> {
    controller = new AbortController()
    try {
      const response = await fetchRoutes(controller.signal)
      routes.value = response.routes
      error.value = null
    } catch (cause) {
      if (controller.signal.aborted) {
        return
      }
      error.value = cause instanceof ApiError ? cause : new ApiError(0, 'network', String(cause))
    }
    if (mounted) {
      timer = setTimeout(() => void load(), ROUTES_POLL_MS)
    }
  }

  onMounted(() => {
    mounted = true
    void load()
  })

  onUnmounted(() => {
    mounted = false
    controller?.abort()
    if (timer !== null) {
      clearTimeout(timer)
    }
  })

  return { routes, error }
}
