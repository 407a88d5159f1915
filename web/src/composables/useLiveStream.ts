import { onMounted, onUnmounted } from 'vue'
import { getLiveStream, type LiveStreamHandlers } from './liveStream'

/** Subscribes the calling component to the shared /api/stream while it is mounted. */
export function useLiveStream(handlers: LiveStreamHandlers): void {
  let unsubscribe: (() => void) | null = null

  onMounted(() => {
    unsubscribe = getLiveStream().subscribe(handlers)
  })

  onUnmounted(() => {
    unsubscribe?.()
    unsubscribe = null
  })
}
