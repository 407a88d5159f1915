import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router'
import LogsPage from './pages/LogsPage.vue'
import ResultsPage from './pages/ResultsPage.vue'
import RoutesPage from './pages/RoutesPage.vue'

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'results', component: ResultsPage },
  { path: '/registros', name: 'logs', component: LogsPage },
  { path: '/rutas', name: 'routes', component: RoutesPage },
  { path: '/:pathMatch(.*)*', redirect: '/' },
]

// Hash history keeps every page reachable from index.html, so nginx and Cloud Run
// need no rewrite rule for deep links.
export function createAppRouter() {
  return createRouter({ history: createWebHashHistory(), routes })
}
