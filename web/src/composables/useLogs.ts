import { computed, onMounted, onUnmounted, ref, shallowRef } from 'vue'
import { ApiError, fetchLogs } from '../api/client'
import type { LogFilters, LogItem } from '../api/types'
import { useLiveStream } from './useLiveStream'

export const LOG_PAGE_SIZES: readonly number[] = [20, 50, 100]

/** Delay before a page request is retried after the API could not be reached. */
export const LOGS_RETRY_MS = 3000

/** Returns whether a vote from the stream belongs to the view that `filters` select. */
export function logMatchesFilters(item: LogItem, filters: LogFilters): boolean {
  if (filters.band !== '' && item.name !== filters.band) {
    return false
  }
  if (filters.album !== '' && item.album !== filters.album) {
    return false
  }
  if (filters.route !== '' && item.route !== filters.route) {
    return false
  }

  const received = Date.parse(item.received_at)
  if (filters.from !== '' && received < Date.parse(filters.from)) {
    return false
  }
  if (filters.to !== '' && received > Date.parse(filters.to)) {
    return false
  }
  return true
}

function newestFirst(a: LogItem, b: LogItem): number {
  return Date.parse(b.received_at) - Date.parse(a.received_at)
}

/**
 * Pages through GET /api/logs, newest first. The first page is live: matching votes
 * from the stream are inserted at the top and the page keeps `limit` rows. Older pages
 * stay still and only count the new votes, so that reading history is not disturbed.
 */
export function useLogs(initialFilters: LogFilters, initialLimit: number) {
  const filters = ref<LogFilters>({ ...initialFilters })
  const limit = ref(initialLimit)
  const items = shallowRef<LogItem[]>([])
  const nextCursor = ref<string | null>(null)
  // Cursor of each page visited; the first page has none.
  const pageCursors = ref<(string | null)[]>([null])
  const newWhilePaged = ref(0)
  const loading = ref(false)
  const error = shallowRef<ApiError | null>(null)

  const pageNumber = computed(() => pageCursors.value.length)
  const isLive = computed(() => pageCursors.value.length === 1)

  // True once stream votes were inserted, so nextCursor no longer follows the last row.
  let firstPageShifted = false
  let requestSeq = 0
  let retryTimer: ReturnType<typeof setTimeout> | null = null
  let mounted = false

  function clearRetry(): void {
    if (retryTimer !== null) {
      clearTimeout(retryTimer)
      retryTimer = null
    }
  }

  // Fetches the page at `cursor` and shows it. Returns false when the request failed or
  // a newer request replaced it.
  async function showPage(cursor: string | null): Promise<boolean> {
    clearRetry()
    const seq = ++requestSeq
    loading.value = true
    try {
      const page = await fetchLogs(filters.value, limit.value, cursor)
      if (seq !== requestSeq) {
        return false
      }
      items.value = page.items
      nextCursor.value = page.next_cursor
      error.value = null
      firstPageShifted = false
      return true
    } catch (cause) {
      if (seq !== requestSeq) {
        return false
      }
      const apiError = cause instanceof ApiError ? cause : new ApiError(0, 'network', String(cause))
      error.value = apiError
      if (apiError.isUnreachable && mounted) {
        retryTimer = setTimeout(() => void showPage(cursor), LOGS_RETRY_MS)
      }
      return false
    } finally {
      if (seq === requestSeq) {
        loading.value = false
      }
    }
  }

  async function showNewest(): Promise<void> {
    pageCursors.value = [null]
    newWhilePaged.value = 0
    await showPage(null)
  }

  async function applyFilters(next: LogFilters, nextLimit: number = limit.value): Promise<void> {
    filters.value = { ...next }
    limit.value = nextLimit
    await showNewest()
  }

  async function showOlder(): Promise<void> {
    if (isLive.value && firstPageShifted && !(await showPage(null))) {
      return
    }
    const cursor = nextCursor.value
    if (cursor === null) {
      return
    }
    if (await showPage(cursor)) {
      pageCursors.value = [...pageCursors.value, cursor]
    }
  }

  async function showNewer(): Promise<void> {
    if (pageCursors.value.length <= 1) {
      return
    }
    const previous = pageCursors.value.slice(0, -1)
    if (previous.length === 1) {
      await showNewest()
      return
    }
    if (await showPage(previous[previous.length - 1])) {
      pageCursors.value = previous
    }
  }

  function insertLive(item: LogItem): void {
    if (!logMatchesFilters(item, filters.value)) {
      return
    }
    if (!isLive.value) {
      newWhilePaged.value += 1
      return
    }
    // A resumed stream may replay a vote that the page already shows.
    if (items.value.some((shown) => shown.id === item.id)) {
      return
    }
    items.value = [item, ...items.value].sort(newestFirst).slice(0, limit.value)
    firstPageShifted = true
  }

  useLiveStream({
    log: insertLive,
    reopened: () => {
      if (isLive.value) {
        void showPage(null)
      }
    },
  })

  onMounted(() => {
    mounted = true
    void showPage(null)
  })

  onUnmounted(() => {
    mounted = false
    clearRetry()
  })

  return {
    filters,
    limit,
    items,
    nextCursor,
    pageNumber,
    isLive,
    newWhilePaged,
    loading,
    error,
    applyFilters,
    showOlder,
    showNewer,
    showNewest,
  }
}
