import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { messages } from '../src/i18n'

type MessageTree = { [key: string]: string | MessageTree }

// Lists every message as a dotted key with its text.
function flatten(tree: MessageTree, prefix = ''): Map<string, string> {
  const flat = new Map<string, string>()
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix === '' ? key : `${prefix}.${key}`
    if (typeof value === 'string') {
      flat.set(path, value)
    } else {
      for (const [childKey, childValue] of flatten(value, path)) {
        flat.set(childKey, childValue)
      }
    }
  }
  return flat
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort()
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name)
    if (statSync(path).isDirectory()) {
      return sourceFiles(path)
    }
    return /\.(vue|ts)$/.test(name) ? [path] : []
  })
}

const spanish = flatten(messages.es as MessageTree)
const english = flatten(messages.en as MessageTree)

describe('i18n messages', () => {
  it('has every Spanish key in English', () => {
    const missing = [...spanish.keys()].filter((key) => !english.has(key))
    expect(missing).toEqual([])
  })

  it('has every English key in Spanish', () => {
    const missing = [...english.keys()].filter((key) => !spanish.has(key))
    expect(missing).toEqual([])
  })

  it('has no empty message', () => {
    const empty = [...spanish, ...english].filter(([, text]) => text.trim() === '').map(([key]) => key)
    expect(empty).toEqual([])
  })

  it('uses the same placeholders in both languages', () => {
    for (const [key, text] of spanish) {
      expect(placeholders(english.get(key) ?? ''), key).toEqual(placeholders(text))
    }
  })

  it('defines every key that the source code uses', () => {
    const used = new Set<string>()
    for (const file of sourceFiles(join(__dirname, '..', 'src'))) {
      const text = readFileSync(file, 'utf8')
      for (const match of text.matchAll(/\bt\(\s*'([\w.]+)'/g)) {
        used.add(match[1])
      }
      for (const match of text.matchAll(/key: '([\w.]+)'/g)) {
        used.add(match[1])
      }
    }
    // Keys built at run time from a route or language code.
    for (const key of ['route.grpc', 'route.rest', 'language.es', 'language.en']) {
      used.add(key)
    }

    expect(used.size).toBeGreaterThan(40)
    const missing = [...used].filter((key) => !spanish.has(key))
    expect(missing).toEqual([])
  })
})
