import type { ApiErrorBody, LogFilters, LogPage, Results, RoutesResponse } from './types'
import { markApiReachable, markApiUnreachable } from '../composables/useApiStatus'

/**
 * Prefix of every API URL. It is relative by default so that nginx serves the app and
 * the API from one origin; a separate deployment sets VITE_API_BASE at build time.
 */
export const API_BASE: string = import.meta.env.VITE_API_BASE ?? '/api'

/**
 * Error of one API request. `status` is 0 when no HTTP response arrived at all
 * (connection refused, DNS failure, aborted by the network).
 */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly field: string | undefined

  constructor(status: number, code: string, message: string, field?: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
  }

  /** True when the API could not be reached or a gateway in front of it failed. */
  get isUnreachable(): boolean {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504
  }
}

export function apiUrl(path: string, query?: URLSearchParams): string {
  const suffix = query && query.toString() !== '' ? `?${query.toString()}` : ''
  return `${API_BASE}${path}${suffix}`
}

/**
 * Fetches one API path and parses its JSON body. Throws ApiError with the API's own
 * error code and message on a non-2xx status, and with status 0 when the network
 * failed. Every outcome updates the shared reachability status.
 */
export async function getJson<T>(path: string, query?: URLSearchParams, signal?: AbortSignal): Promise<T> {
  let response: Response
  try {
    response = await fetch(apiUrl(path, query), { headers: { Accept: 'application/json' }, signal })
  } catch (cause) {
    if (signal?.aborted) {
      throw cause
    }
    const error = new ApiError(0, 'network', cause instanceof Error ? cause.message : String(cause))
    markApiUnreachable(error)
    throw error
  }

  if (!response.ok) {
    const error = await readApiError(response)
    if (error.isUnreachable) {
      markApiUnreachable(error)
    } else {
      markApiReachable()
    }
    throw error
  }

  markApiReachable()
  return (await response.json()) as T
}

// Builds an ApiError from the JSON error body, or from the status line when a proxy
// answered with HTML or nothing.
async function readApiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '')
  try {
    const body = JSON.parse(text) as Partial<ApiErrorBody>
    if (typeof body.message === 'string') {
      return new ApiError(response.status, body.error ?? 'error', body.message, body.field)
    }
  } catch {
    // Not JSON: fall through to the status line.
  }
  return new ApiError(response.status, 'http', `${response.status} ${response.statusText}`.trim())
}

/** Builds the query of GET /api/logs, leaving out empty filters and an empty cursor. */
export function buildLogsQuery(filters: LogFilters, limit: number, cursor: string | null): URLSearchParams {
  const query = new URLSearchParams()
  query.set('limit', String(limit))
  if (cursor) {
    query.set('cursor', cursor)
  }
  for (const key of ['band', 'album', 'route', 'from', 'to'] as const) {
    const value = filters[key].trim()
    if (value !== '') {
      query.set(key, value)
    }
  }
  return query
}

export function fetchResults(signal?: AbortSignal): Promise<Results> {
  return getJson<Results>('/results', undefined, signal)
}

export function fetchLogs(
  filters: LogFilters,
  limit: number,
  cursor: string | null,
  signal?: AbortSignal,
): Promise<LogPage> {
  return getJson<LogPage>('/logs', buildLogsQuery(filters, limit, cursor), signal)
}

export function fetchRoutes(signal?: AbortSignal): Promise<RoutesResponse> {
  return getJson<RoutesResponse>('/routes', undefined, signal)
}
