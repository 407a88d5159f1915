import { computed } from 'vue'
import { useI18n } from 'vue-i18n'
import { FORMAT_LOCALES, type AppLocale } from '../i18n'

/** Number, percent and time formatters that follow the interface language. */
export function useFormat() {
  const { locale } = useI18n()
  const tag = computed(() => FORMAT_LOCALES[locale.value as AppLocale] ?? FORMAT_LOCALES.es)

  const integerFormat = computed(() => new Intl.NumberFormat(tag.value, { maximumFractionDigits: 0 }))
  const decimalFormat = computed(
    () => new Intl.NumberFormat(tag.value, { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
  )
  const rateFormat = computed(
    () => new Intl.NumberFormat(tag.value, { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  )
  const percentFormat = computed(
    () => new Intl.NumberFormat(tag.value, { style: 'percent', maximumFractionDigits: 1 }),
  )
  const timeFormat = computed(() => new Intl.DateTimeFormat(tag.value, { timeStyle: 'medium' }))
  const dateTimeFormat = computed(
    () => new Intl.DateTimeFormat(tag.value, { dateStyle: 'short', timeStyle: 'medium' }),
  )

  return {
    integer: (value: number) => integerFormat.value.format(value),
    /** One decimal, for ranks and milliseconds. */
    decimal: (value: number) => decimalFormat.value.format(value),
    /** Two decimals, for votes per second. */
    rate: (value: number) => rateFormat.value.format(value),
    percent: (value: number) => percentFormat.value.format(value),
    time: (value: Date) => timeFormat.value.format(value),
    /** Formats an ISO 8601 instant in the viewer's time zone; returns the input when unparsable. */
    dateTime: (iso: string) => {
      const date = new Date(iso)
      return Number.isNaN(date.getTime()) ? iso : dateTimeFormat.value.format(date)
    },
  }
}
