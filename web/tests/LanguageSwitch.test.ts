import { beforeEach, describe, expect, it } from 'vitest'
import App from '../src/App.vue'
import { savedLocale } from '../src/i18n'
import { jsonResponse, makeResults, mockApi, mountWithApp, resetBrowserDoubles } from './helpers'

beforeEach(() => {
  resetBrowserDoubles()
  mockApi({ '/api/results': () => jsonResponse(makeResults()) })
})

function navTexts(wrapper: Awaited<ReturnType<typeof mountWithApp>>['wrapper']): string[] {
  return wrapper.findAll('.app-nav__link').map((link) => link.text())
}

describe('LanguageSwitch', () => {
  it('starts in Spanish', async () => {
    const { wrapper } = await mountWithApp(App, '/', savedLocale())

    expect(navTexts(wrapper)).toEqual(['Resultados en vivo', 'Registros', 'Rutas'])
    expect(wrapper.find('[data-testid="language-es"]').attributes('aria-pressed')).toBe('true')
    expect(document.documentElement.lang).toBe('es')
    wrapper.unmount()
  })

  it('switches to English and remembers it', async () => {
    const { wrapper } = await mountWithApp(App, '/', savedLocale())

    await wrapper.find('[data-testid="language-en"]').trigger('click')

    expect(navTexts(wrapper)).toEqual(['Live results', 'Logs', 'Routes'])
    expect(wrapper.find('h1').text()).toBe('Live results')
    expect(wrapper.find('[data-testid="language-en"]').attributes('aria-pressed')).toBe('true')
    expect(document.documentElement.lang).toBe('en')
    expect(document.title).toBe('Urna — Guatemalan band contest')
    expect(savedLocale()).toBe('en')
    wrapper.unmount()
  })

  it('uses buttons reachable by keyboard', async () => {
    const { wrapper } = await mountWithApp(App, '/', savedLocale())

    const buttons = wrapper.findAll('.language-switch button')
    expect(buttons.map((button) => button.attributes('type'))).toEqual(['button', 'button'])
    expect(wrapper.find('.language-switch').attributes('role')).toBe('group')
    wrapper.unmount()
  })
})
