// Browser test of the web app against a running stack.
//
// Opens the app in Debian's headless Chromium and runs the command that sends votes.
// It checks that the results and the logs change without a page reload, that the band
// filter narrows the logs, and that the English switch translates the pages. Each page
// is saved as a screenshot. Prints one line per check and `N passed, M failed`; exits 1
// when a check failed.
//
// Environment:
//   URNA_WEB_URL         address of the app (default http://127.0.0.1:8088/)
//   URNA_SEND_VOTES_CMD  shell command that sends at least one vote (required)
//   URNA_ARTIFACTS_DIR   folder for screenshots and the command's output (default web/e2e-artifacts)
//   URNA_CHROMIUM        Chromium executable (default /usr/bin/chromium)
//   URNA_E2E_TIMEOUT_MS  wait for each live change (default 30000)

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const webUrl = process.env.URNA_WEB_URL || 'http://127.0.0.1:8088/'
const sendVotesCommand = process.env.URNA_SEND_VOTES_CMD || ''
const artifactsDir = path.resolve(
  process.env.URNA_ARTIFACTS_DIR || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'e2e-artifacts'),
)
const chromiumPath = process.env.URNA_CHROMIUM || '/usr/bin/chromium'
const liveTimeoutMs = Number(process.env.URNA_E2E_TIMEOUT_MS || 30000)
const sendTimeoutMs = 120000

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const outcomes = []

// Runs one named check; a thrown error or a timeout fails it with the error's message.
async function check(name, body) {
  try {
    await body()
    outcomes.push({ name, passed: true })
    console.log(`ok - ${name}`)
  } catch (error) {
    outcomes.push({ name, passed: false })
    console.log(`not ok - ${name}: ${error instanceof Error ? error.message.split('\n')[0] : error}`)
  }
}

function assert(condition, message) {
  if (!condition) {
    throw new Error(message)
  }
}

// Appends a page path such as #/registros to the app address.
function pageUrl(hashPath) {
  const url = new URL(webUrl)
  url.hash = hashPath
  return url.toString()
}

async function screenshot(page, name) {
  const file = path.join(artifactsDir, `${name}.png`)
  // Lets the bar chart's width transition (0.4 s) finish so the picture shows final values.
  await page.waitForTimeout(500)
  await page.screenshot({ path: file, fullPage: true })
  console.log(`# screenshot ${file}`)
}

// Marks the page's JavaScript realm; the mark disappears if the page reloads.
async function markPage(page) {
  const token = `urna-${Date.now()}-${Math.random()}`
  await page.evaluate((value) => {
    window.__urnaNoReloadMark = value
  }, token)
  return token
}

async function assertNotReloaded(page, token) {
  const current = await page.evaluate(() => window.__urnaNoReloadMark)
  assert(current === token, 'the page was reloaded (its mark is gone)')
}

// Runs the vote-sending command with a time limit and saves its output as an artifact.
function runSendVotes() {
  return new Promise((resolve, reject) => {
    const log = fs.createWriteStream(path.join(artifactsDir, 'send-votes.log'))
    const child = spawn('bash', ['-c', sendVotesCommand], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.pipe(log, { end: false })
    child.stderr.pipe(log, { end: false })
    const timer = setTimeout(() => {
      child.kill('SIGTERM')
      reject(new Error(`URNA_SEND_VOTES_CMD timed out after ${sendTimeoutMs} ms`))
    }, sendTimeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      log.end()
      if (code === 0) {
        resolve()
      } else {
        reject(new Error(`URNA_SEND_VOTES_CMD exited with ${code}; see send-votes.log`))
      }
    })
  })
}

async function readTotal(page) {
  return Number(await page.getAttribute('[data-testid="total-votes"]', 'data-total'))
}

async function readLogIds(page) {
  return page.$$eval('[data-testid="log-row"]', (rows) => rows.map((row) => row.getAttribute('data-id')))
}

async function readLogBands(page) {
  return page.$$eval('[data-testid="log-band"]', (cells) => cells.map((cell) => cell.textContent.trim()))
}

async function waitForLogsView(page) {
  await page.waitForSelector('[data-testid="log-row"], [data-testid="logs-empty"]', { timeout: liveTimeoutMs })
}

async function main() {
  if (sendVotesCommand === '') {
    console.error('URNA_SEND_VOTES_CMD is not set: give the shell command that sends votes, e.g. "build/bin/urna send ..."')
    console.log('0 passed, 1 failed')
    process.exit(1)
  }
  fs.mkdirSync(artifactsDir, { recursive: true })
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'urna-e2e-chromium-'))

  // Playwright takes a user data folder only through a persistent context. A fresh folder
  // per run keeps a saved language or cache from an earlier run out of the test.
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 900 },
  })
  const pageErrors = []
  context.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(error.message)))

  try {
    await runChecks(context)
  } finally {
    await check('pages raise no uncaught errors', async () => {
      assert(pageErrors.length === 0, `uncaught errors: ${pageErrors.join(' | ')}`)
    })
    await context.close()
    fs.rmSync(profileDir, { recursive: true, force: true })
  }
}

async function runChecks(context) {
  const resultsPage = await context.newPage()
  const logsPage = await context.newPage()
  let totalBefore = NaN
  let idsBefore = []
  let resultsMark = ''
  let logsMark = ''
  let newBand = ''

  await check('results page opens in Spanish', async () => {
    await resultsPage.goto(pageUrl('/'), { waitUntil: 'domcontentloaded' })
    await resultsPage.waitForSelector('[data-testid="total-votes"]', { timeout: liveTimeoutMs })
    const lang = await resultsPage.getAttribute('html', 'lang')
    assert(lang === 'es', `html lang is ${lang}, expected es`)
    const navText = (await resultsPage.textContent('[data-testid="nav-results"]')).trim()
    assert(navText === 'Resultados en vivo', `navigation reads "${navText}"`)
    totalBefore = await readTotal(resultsPage)
    assert(Number.isFinite(totalBefore), 'total votes is not a number')
    resultsMark = await markPage(resultsPage)
    await screenshot(resultsPage, 'results-before')
  })

  await check('logs page opens', async () => {
    await logsPage.goto(pageUrl('/registros'), { waitUntil: 'domcontentloaded' })
    await waitForLogsView(logsPage)
    idsBefore = await readLogIds(logsPage)
    logsMark = await markPage(logsPage)
  })

  await check('vote command succeeds', runSendVotes)

  await check('results total rises without reload', async () => {
    await resultsPage.waitForFunction(
      (before) => Number(document.querySelector('[data-testid="total-votes"]')?.getAttribute('data-total')) > before,
      totalBefore,
      { timeout: liveTimeoutMs },
    )
    await assertNotReloaded(resultsPage, resultsMark)
    const totalAfter = await readTotal(resultsPage)
    console.log(`# total votes ${totalBefore} -> ${totalAfter}`)
    await screenshot(resultsPage, 'results-after')
  })

  await check('logs page shows new votes without reload', async () => {
    await logsPage.waitForFunction(
      (before) =>
        [...document.querySelectorAll('[data-testid="log-row"]')].some((row) => !before.includes(row.getAttribute('data-id'))),
      idsBefore,
      { timeout: liveTimeoutMs },
    )
    await assertNotReloaded(logsPage, logsMark)
    const ids = await readLogIds(logsPage)
    const bands = await readLogBands(logsPage)
    newBand = bands[ids.findIndex((id) => !idsBefore.includes(id))]
    await screenshot(logsPage, 'logs')
  })

  await check('band filter shows only that band', async () => {
    assert(newBand, 'no new vote to take a band from')
    const bandsBefore = await readLogBands(logsPage)
    if (bandsBefore.every((band) => band === newBand)) {
      console.log('# note: every visible vote already had this band, so the filter cannot narrow the view')
    }
    await logsPage.fill('[data-testid="filter-band"]', newBand)
    const response = logsPage.waitForResponse(
      (res) => res.url().includes('/api/logs') && new URL(res.url()).searchParams.get('band') === newBand,
      { timeout: liveTimeoutMs },
    )
    await logsPage.click('[data-testid="filter-apply"]')
    const status = (await response).status()
    assert(status === 200, `GET /api/logs with band returned ${status}`)
    await logsPage.waitForFunction(
      (band) => {
        const cells = [...document.querySelectorAll('[data-testid="log-band"]')]
        return cells.length > 0 && cells.every((cell) => cell.textContent.trim() === band)
      },
      newBand,
      { timeout: liveTimeoutMs },
    )
    const hash = new URL(logsPage.url()).hash
    assert(hash.includes('band='), `the filter is not in the address: ${hash}`)
    await screenshot(logsPage, 'logs-filtered')
  })

  await check('routes page shows both routes', async () => {
    await resultsPage.click('[data-testid="nav-routes"]')
    await resultsPage.waitForSelector('[data-testid="route-card-grpc"]', { timeout: liveTimeoutMs })
    await resultsPage.waitForSelector('[data-testid="route-card-rest"]', { timeout: liveTimeoutMs })
    await assertNotReloaded(resultsPage, resultsMark)
    await screenshot(resultsPage, 'routes')
  })

  await check('English switch translates the app', async () => {
    await resultsPage.click('[data-testid="language-en"]')
    await resultsPage.waitForFunction(() => document.documentElement.lang === 'en', null, { timeout: 5000 })
    const navText = (await resultsPage.textContent('[data-testid="nav-results"]')).trim()
    assert(navText === 'Live results', `navigation reads "${navText}"`)
    const heading = (await resultsPage.textContent('h1')).trim()
    assert(heading === 'Routes', `routes heading reads "${heading}"`)
    await screenshot(resultsPage, 'routes-en')
    await resultsPage.click('[data-testid="nav-results"]')
    await resultsPage.waitForSelector('[data-testid="total-votes"]', { timeout: liveTimeoutMs })
    const totalLabel = (await resultsPage.textContent('.stat__label')).trim()
    assert(totalLabel === 'Total votes', `total label reads "${totalLabel}"`)
    await screenshot(resultsPage, 'results-en')
  })

  await check('results page fits a phone screen', async () => {
    const phone = await context.newPage()
    await phone.setViewportSize({ width: 390, height: 844 })
    await phone.goto(pageUrl('/'), { waitUntil: 'domcontentloaded' })
    await phone.waitForSelector('[data-testid="total-votes"]', { timeout: liveTimeoutMs })
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert(overflow <= 0, `the page is ${overflow} px wider than the phone screen`)
    await screenshot(phone, 'results-phone')
    await phone.close()
  })
}

try {
  await main()
} catch (error) {
  outcomes.push({ name: 'browser start', passed: false })
  console.log(`not ok - browser start: ${error instanceof Error ? error.message.split('\n')[0] : error}`)
}

const passed = outcomes.filter((outcome) => outcome.passed).length
const failed = outcomes.length - passed
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
