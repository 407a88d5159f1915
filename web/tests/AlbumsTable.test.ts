import { beforeEach, describe, expect, it } from 'vitest'
import AlbumsTable from '../src/components/AlbumsTable.vue'
import { makeResults, mountWithApp, resetBrowserDoubles } from './helpers'

beforeEach(resetBrowserDoubles)

describe('AlbumsTable', () => {
  it('lists albums by votes with rank and year', async () => {
    const albums = [...makeResults().by_album].reverse()
    const { wrapper } = await mountWithApp(AlbumsTable, '/', 'es', { albums })

    const rows = wrapper.findAll('[data-testid="album-row"]').map((row) => row.findAll('td, th').map((cell) => cell.text()))
    expect(rows).toEqual([
      ['Malacates Trébol Shop', 'Sólo éxitos… (dicen)', '2', '7.3', '2005'],
      ['Bohemia Suburbana', 'Santiago 14° 91°', '1', '5.2', '2020'],
    ])
  })

  it('uses translated column headers', async () => {
    const { wrapper } = await mountWithApp(AlbumsTable, '/', 'en', { albums: makeResults().by_album })

    const headers = wrapper.findAll('thead th').map((header) => header.text())
    expect(headers).toEqual(['Band', 'Album', 'Votes', 'Average rank', 'Year'])
  })
})
