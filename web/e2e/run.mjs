#!/usr/bin/env node
/**
 * End-to-end check of the dashboard in a real (Debian) Chromium via playwright-core.
 *
 * Needs a running server (the real API serving web/dist, or e2e/mock-server.mjs)
 * with a trained model.
 *
 *   E2E_BASE_URL   default http://127.0.0.1:8000
 *   E2E_ARTIFACTS  default web/e2e/artifacts/  (screenshots)
 *   E2E_CHROMIUM   default /usr/bin/chromium
 *   E2E_USER       default "1" (falls back to a new user if it gets no recommendations)
 *   E2E_HEADFUL=1  to watch it
 *
 * Exit code 0 when every step passed, 1 with a message naming the failed step.
 */
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
const BASE = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/+$/, '')
const ARTIFACTS = resolve(process.env.E2E_ARTIFACTS ?? join(here, 'artifacts'))
const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium'
const USER = process.env.E2E_USER ?? '1'
const LIKES = 3

class StepError extends Error {}

let current = 'setup'
function step(name) {
  current = name
  console.log(`• ${name}`)
}
function fail(msg) {
  throw new StepError(msg)
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function poll(what, fn, { timeout = 15_000, interval = 250 } = {}) {
  const end = Date.now() + timeout
  let last
  while (Date.now() < end) {
    try {
      last = await fn()
      if (last) return last
    } catch (err) {
      last = err
    }
    await sleep(interval)
  }
  fail(`${what} (waited ${timeout / 1000} s; last: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
}

async function shot(page, name, fullPage = true) {
  const file = join(ARTIFACTS, name)
  await page.screenshot({ path: file, fullPage })
  console.log(`  screenshot ${file}`)
}

async function listState(page) {
  return page.evaluate(() => {
    const list = document.querySelector('[data-testid="rec-list"]')
    if (!list) return null
    return {
      userId: list.getAttribute('data-user-id'),
      ids: [...list.querySelectorAll('[data-testid="rec-item"]')].map((el) => el.getAttribute('data-item-id')),
      requestId: list.getAttribute('data-request-id'),
      updates: Number(list.getAttribute('data-updates') ?? '0'),
      busy: list.getAttribute('aria-busy') === 'true',
    }
  })
}

async function waitForList(page, what, userId) {
  return poll(what, async () => {
    const s = await listState(page)
    const want = userId ?? new URL(page.url()).searchParams.get('user')
    return s && !s.busy && s.ids.length > 0 && s.userId === want ? s : null
  })
}

async function pickUser(page) {
  const select = page.getByTestId('user-select')
  await select.waitFor({ state: 'visible', timeout: 15_000 })
  const options = await select.locator('option').evaluateAll((els) => els.map((e) => e.getAttribute('value')))
  if (options.includes(USER)) {
    await select.selectOption(USER)
  } else {
    await page.getByTestId('user-id-input').fill(USER)
    await page.getByTestId('user-id-load').click()
  }
  await poll(`the URL to select user ${USER}`, async () => new URL(page.url()).searchParams.get('user') === USER)
  const state = await poll(`recommendations for user ${USER} (or an empty/error state)`, async () => {
    const s = await listState(page)
    if (s && !s.busy && s.ids.length && s.userId === USER) return s
    const errors = await page.getByTestId('error-state').count()
    const empty = await page.getByText(/No recommendations for user/).count()
    return errors + empty ? 'none' : null
  })
  if (state !== 'none') return state
  console.log(`  user ${USER} has no recommendations; using a new user instead`)
  await page.getByTestId('new-user-button').click()
  await poll('a new user id in the URL', async () => (new URL(page.url()).searchParams.get('user') ?? '').startsWith('web-'))
  return waitForList(page, 'recommendations for a new user')
}

async function playground(page) {
  step('open / and pick a user')
  await page.goto(`${BASE}/`, { waitUntil: 'domcontentloaded' })
  const initial = await pickUser(page)
  console.log(`  initial list (${initial.ids.length}): ${initial.ids.join(', ')}`)

  let prev = initial
  for (let i = 1; i <= LIKES; i++) {
    step(`like #${i}: click like-button on the first rec-item`)
    const first = page.getByTestId('rec-item').first()
    const itemId = await first.getAttribute('data-item-id')
    await first.getByTestId('like-button').click()
    const next = await poll(`the list to refresh after liking item ${itemId}`, async () => {
      const s = await listState(page)
      return s && !s.busy && s.updates > prev.updates && s.requestId !== prev.requestId ? s : null
    })
    const ms = await page.getByTestId('update-ms').textContent()
    console.log(`  liked ${itemId}; refreshed in ${ms?.trim()}; list: ${next.ids.join(', ')}`)
    prev = next
  }

  step('assert the list changed and change markers are shown')
  if (prev.ids.join(',') === initial.ids.join(',')) {
    fail(`the recommendation list did not change after ${LIKES} likes (still ${initial.ids.join(', ')})`)
  }
  const markers = page.locator('[data-testid="change-new"], [data-testid="change-up"], [data-testid="change-down"]')
  const n = await markers.count()
  if (n === 0) fail('no change marker (change-new / change-up / change-down) is shown after the last like')
  if (!(await markers.first().isVisible())) fail('change markers exist but are not visible')
  const removed = await page.getByTestId('removed-list').count()
  console.log(`  ${n} change markers, removed-list ${removed ? 'shown' : 'not shown'}`)
  await shot(page, 'playground.png')
}

async function dashboard(page) {
  step('open /dashboard and wait for events-total >= 3')
  await page.goto(`${BASE}/dashboard`, { waitUntil: 'domcontentloaded' })
  const total = await poll('events-total to show a number >= 3', async () => {
    const el = page.getByTestId('events-total')
    if (!(await el.count())) return null
    const text = (await el.textContent()) ?? ''
    const v = Number(text.replace(/[^\d.]/g, ''))
    return text.trim() && Number.isFinite(v) && v >= 3 ? v : null
  })
  console.log(`  events-total = ${total}`)
  step('assert events-chart contains an svg path')
  await poll('events-chart to contain an <svg> with a <path>', async () => {
    return (await page.locator('[data-testid="events-chart"] svg path').count()) > 0
  })
  await sleep(500) // let the charts settle
  await shot(page, 'dashboard.png')
}

async function models(page) {
  step('open /models and assert the champion badge and a metric cell')
  await page.goto(`${BASE}/models`, { waitUntil: 'domcontentloaded' })
  await page
    .getByTestId('champion-badge')
    .first()
    .waitFor({ state: 'visible', timeout: 15_000 })
    .catch(() => fail('champion-badge is not visible on /models'))
  const cells = await page.getByTestId('metric-cell').count()
  if (cells === 0) fail('no metric-cell in the models table')
  console.log(`  champion badge visible, ${cells} metric cells`)
  await shot(page, 'models.png')
}

async function simplePage(page, path, heading, file) {
  step(`open ${path}`)
  await page.goto(`${BASE}${path}`, { waitUntil: 'domcontentloaded' })
  await page
    .getByRole('heading', { level: 1, name: heading })
    .waitFor({ state: 'visible', timeout: 15_000 })
    .catch(() => fail(`${path} did not render its "${heading}" heading`))
  await poll(`${path} to finish loading`, async () => (await page.locator('[role="status"]:has-text("Loading")').count()) === 0)
  await sleep(500)
  await shot(page, file)
}

async function main() {
  await mkdir(ARTIFACTS, { recursive: true })
  step(`check ${BASE} is up`)
  try {
    const res = await fetch(`${BASE}/health`)
    if (!res.ok) fail(`${BASE}/health answered ${res.status}`)
  } catch (err) {
    if (err instanceof StepError) throw err
    fail(`cannot reach ${BASE}/health (${err.message}); start the server or set E2E_BASE_URL`)
  }

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: process.env.E2E_HEADFUL !== '1',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'].filter(
      (a) => a !== '--headless' || process.env.E2E_HEADFUL !== '1',
    ),
  })
  const pageErrors = []
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    page.on('pageerror', (err) => pageErrors.push(err.message))
    page.on('console', (msg) => {
      if (msg.type() === 'error') console.log(`  [browser console] ${msg.text()}`)
    })

    await playground(page)
    await dashboard(page)
    await models(page)
    await simplePage(page, '/experiments', 'Experiments', 'experiments.png')
    await simplePage(page, '/monitoring', 'Monitoring', 'monitoring.png')

    step('phone-width screenshot of the playground')
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true })
    const p2 = await phone.newPage()
    p2.on('pageerror', (err) => pageErrors.push(err.message))
    await p2.goto(`${BASE}/?user=${encodeURIComponent(USER)}`, { waitUntil: 'domcontentloaded' })
    await p2.getByTestId('rec-item').first().waitFor({ state: 'visible' }).catch(() => {})
    await shot(p2, 'playground-phone.png', false)

    if (pageErrors.length) fail(`uncaught errors in the page: ${pageErrors.join(' | ')}`)
  } finally {
    await browser.close()
  }
}

try {
  await main()
  console.log(`\nE2E PASSED against ${BASE} (screenshots in ${ARTIFACTS})`)
  process.exit(0)
} catch (err) {
  const msg = err instanceof StepError ? err.message : err?.stack ?? String(err)
  console.error(`\nE2E FAILED at step "${current}": ${msg}`)
  process.exit(1)
}
