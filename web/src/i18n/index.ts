import { createI18n } from 'vue-i18n'
import es, { type MessageSchema } from './es'
import en from './en'

export type AppLocale = 'es' | 'en'

export const SUPPORTED_LOCALES: readonly AppLocale[] = ['es', 'en']

/** BCP 47 tags for number and date formatting of each interface language. */
export const FORMAT_LOCALES: Record<AppLocale, string> = { es: 'es-GT', en: 'en-US' }

const STORAGE_KEY = 'urna.locale'

export const messages: Record<AppLocale, MessageSchema> = { es, en }

function isAppLocale(value: unknown): value is AppLocale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value)
}

/** Returns the language the visitor chose before, or Spanish. */
export function savedLocale(): AppLocale {
  try {
    const stored = globalThis.localStorage?.getItem(STORAGE_KEY)
    return isAppLocale(stored) ? stored : 'es'
  } catch {
    return 'es'
  }
}

export function saveLocale(locale: AppLocale): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, locale)
  } catch {
    // Private browsing may forbid storage; the choice then lasts for this page only.
  }
}

export function createAppI18n(locale: AppLocale = savedLocale()) {
  return createI18n<[MessageSchema], AppLocale, false>({
    legacy: false,
    locale,
    fallbackLocale: 'es',
    messages,
    missingWarn: true,
    fallbackWarn: true,
  })
}
