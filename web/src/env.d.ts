/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Prefix of the logs API URLs; defaults to the relative path /api. */
  readonly VITE_API_BASE?: string
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
