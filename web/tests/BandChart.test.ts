import { beforeEach, describe, expect, it } from 'vitest'
import BandChart from '../src/components/BandChart.vue'
import { mountWithApp, resetBrowserDoubles } from './helpers'

beforeEach(resetBrowserDoubles)

async function mountChart(byBand: Record<string, number>) {
  const { wrapper } = await mountWithApp(BandChart, '/', 'es', { byBand })
  return wrapper
}

describe('BandChart', () => {
  it('draws one bar per band, most votes first', async () => {
    const wrapper = await mountChart({ 'Bohemia Suburbana': 1, 'Malacates Trébol Shop': 3, 'Alux Nahual': 2 })

    const labels = wrapper.findAll('.band-chart__label').map((label) => label.text())
    expect(labels).toEqual(['Malacates Trébol Shop', 'Alux Nahual', 'Bohemia Suburbana'])
  })

  it('scales bar widths to the leading band', async () => {
    const wrapper = await mountChart({ 'Malacates Trébol Shop': 4, 'Alux Nahual': 1 })

    const widths = wrapper.findAll('.band-chart__bar').map((bar) => bar.attributes('width'))
    expect(widths).toEqual(['100%', '25%'])
  })

  it('shows votes and share of each band', async () => {
    const wrapper = await mountChart({ 'Malacates Trébol Shop': 3, 'Alux Nahual': 1 })

    const values = wrapper.findAll('.band-chart__value').map((value) => value.text())
    expect(values[0]).toBe('3 · 75%')
    expect(values[1]).toBe('1 · 25%')
    expect(wrapper.find('ul.visually-hidden').text()).toContain('Malacates Trébol Shop: 3 votos (75%)')
  })

  it('draws nothing for an empty tally', async () => {
    const wrapper = await mountChart({})

    expect(wrapper.findAll('[data-testid="band-bar"]')).toHaveLength(0)
    expect(wrapper.find('svg').attributes('aria-label')).toContain('0 bandas')
  })
})
