import { useI18n } from 'vue-i18n'
import type { ApiError } from '../api/client'

/**
 * Returns a function that turns an API error into a sentence for the page. It returns
 * null for unreachable-API errors because the banner in App.vue already reports those.
 */
export function useErrorText() {
  const { t } = useI18n()

  return (error: ApiError | null): string | null => {
    if (error === null || error.isUnreachable) {
      return null
    }
    if (error.field) {
      return t('errors.invalidField', { field: error.field, message: error.message })
    }
    return t('errors.http', { status: error.status, message: error.message })
  }
}
