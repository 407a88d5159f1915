// Shapes of the logs API responses under /api/, as the app reads them.

export type RouteName = 'grpc' | 'rest'

export const ROUTE_NAMES: readonly RouteName[] = ['grpc', 'rest']

export interface AlbumResult {
  band: string
  album: string
  year: number
  votes: number
  avg_rank: number
}

/** Tally snapshot from GET /api/results and the `results` stream event. */
export interface Results {
  total: number
  by_route: Record<string, number>
  by_band: Record<string, number>
  by_album: AlbumResult[]
  /** Votes per second per route, averaged over the last minute. */
  rate: Record<string, number>
}

/** One vote's log document from GET /api/logs and the `log` stream event. */
export interface LogItem {
  id: string
  name: string
  album: string
  year: number
  rank: number
  route: string
  received_at: string
  counted_at: string
  partition: number
  offset: number
}

export interface LogPage {
  items: LogItem[]
  next_cursor: string | null
}

export interface LatencyPercentiles {
  p50: number
  p90: number
  p99: number
}

export interface RouteStats {
  route: string
  acknowledged: number
  rate: number
  latency_ms: LatencyPercentiles
}

export interface RoutesResponse {
  routes: RouteStats[]
}

/** Error body that the API sends with every 4xx and 5xx status. */
export interface ApiErrorBody {
  error: string
  message: string
  field?: string
}

/** Filters of GET /api/logs; an empty string means "no filter". */
export interface LogFilters {
  band: string
  album: string
  route: string
  /** ISO 8601 instant, inclusive lower bound of received_at. */
  from: string
  /** ISO 8601 instant, upper bound of received_at. */
  to: string
}

export function emptyLogFilters(): LogFilters {
  return { band: '', album: '', route: '', from: '', to: '' }
}
