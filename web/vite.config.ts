/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The development server forwards /api to the logs API, so the app keeps using
// relative URLs in development as it does behind nginx.
const apiTarget = process.env.URNA_API_URL ?? 'http://127.0.0.1:5000'

export default defineConfig({
  // Relative asset paths let nginx or Cloud Run serve the build under any prefix.
  base: './',
  plugins: [vue()],
  // vue-i18n feature flags: Composition API only, no devtools hooks in production.
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': { target: apiTarget, changeOrigin: true },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
    restoreMocks: true,
  },
})
