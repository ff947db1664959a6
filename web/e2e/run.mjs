#!/usr/bin/env node
/**
 * End-to-end check of the dashboard in a real (Debian) Chromium via playwright-core.
 *
 * Needs a running `recloop serve` (serving web/dist) with a trained model and
 * no running experiment. Steps: three likes in the Playground; an experiment
 * created through the form; simulated traffic (lists + feedback) so every page
 * has data; the Playground's experiment banner; then every page at 390x844
 * (phone) and 1440x900 (desktop), asserting no sideways scroll
 * (document.documentElement.scrollWidth <= viewport width) and saving a
 * screenshot of each.
 *
 *   E2E_BASE_URL     default http://127.0.0.1:8000
 *   E2E_ADMIN_KEY    the server's RECLOOP_ADMIN_API_KEY (needed to create the experiment)
 *   E2E_ARTIFACTS    default web/e2e/artifacts/  (step screenshots)
 *   E2E_SCREENSHOTS  default docs/screenshots/   (<page>-phone.png, <page>-desktop.png)
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
const SCREENSHOTS = resolve(process.env.E2E_SCREENSHOTS ?? join(here, '..', '..', 'docs', 'screenshots'))
const ADMIN_KEY = process.env.E2E_ADMIN_KEY ?? ''
const SIZES = [
  { name: 'phone', width: 390, height: 844, isMobile: true, hasTouch: true },
  { name: 'desktop', width: 1440, height: 900 },
]
const PAGES = [
  { name: 'playground', path: '/', heading: 'Playground', ready: '[data-testid="rec-list"]' },
  { name: 'dashboard', path: '/dashboard', heading: 'Dashboard', ready: '[data-testid="events-chart"] svg path' },
  { name: 'models', path: '/models', heading: 'Models', ready: '[data-testid="champion-badge"]' },
  { name: 'experiments', path: '/experiments', heading: 'Experiments', ready: '[data-testid="results-table"]' },
  { name: 'monitoring', path: '/monitoring', heading: 'Monitoring', ready: '[data-testid="drift-table"]' },
]
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

async function shot(page, name, fullPage = true, dir = ARTIFACTS) {
  const file = join(dir, name)
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

async function api(path, init = {}) {
  const res = await fetch(`${BASE}${path}`, {
    ...init,
    headers: { 'Content-Type': 'application/json', ...(ADMIN_KEY ? { 'X-Admin-Key': ADMIN_KEY } : {}), ...(init.headers ?? {}) },
  })
  const body = await res.json().catch(() => null)
  if (!res.ok) fail(`${init.method ?? 'GET'} ${path} answered ${res.status}: ${JSON.stringify(body)}`)
  return body
}

async function createExperiment(page) {
  step('create an A/B experiment (champion vs popular) through the form')
  const running = (await api('/v1/experiments')).experiments.find((e) => e.status === 'running')
  if (running) fail(`experiment ${running.id} is already running; the e2e needs a server without one`)
  await page.goto(`${BASE}/experiments`, { waitUntil: 'domcontentloaded' })
  await page.getByTestId('experiment-name').fill('e2e-champion-vs-popular')
  await page.getByTestId('experiment-metric').selectOption('ctr')
  await page.getByTestId('variant-model-0').selectOption('champion')
  await page.getByTestId('variant-model-1').selectOption('popular')
  await page.getByTestId('guardrail-like_rate').check()
  await page.getByTestId('create-experiment').click()
  await page
    .getByText('Started experiment “e2e-champion-vs-popular”')
    .waitFor({ state: 'visible' })
    .catch(async () => fail(`the experiment was not created: ${await page.locator('[role="alert"]').allTextContents()}`))
  const exp = (await api('/v1/experiments')).experiments.find((e) => e.status === 'running')
  if (!exp || exp.name !== 'e2e-champion-vs-popular') fail('the created experiment is not running')
  console.log(`  experiment ${exp.id}: ${exp.variants.map((v) => `${v.name}=${v.model}`).join(', ')}`)
  return exp
}

/** Lists for 120 MovieLens users with feedback on some of them: data for every page. */
async function traffic() {
  step('simulate traffic: 120 users get lists and give feedback')
  const byVariant = {}
  const events = []
  for (let u = 1; u <= 120; u++) {
    const r = await api(`/v1/users/${u}/recommendations?k=10`)
    ;(byVariant[r.variant ?? 'none'] ??= []).push(String(u))
    r.items.slice(0, 3).forEach((it, j) => {
      const type = ['click', 'view', 'like', 'rate'][(u + j) % 4]
      if (type === 'click' && r.variant === 'B' && u % 3) return // B gets fewer clicks: a visible difference
      events.push({ event_id: `e2e-${u}-${j}-${Date.now()}`, user_id: String(u), item_id: it.item_id, type, value: type === 'rate' ? (u % 5) + 1 : null, request_id: r.request_id })
    })
  }
  const res = await api('/v1/events', { method: 'POST', body: JSON.stringify({ events }) })
  const drift = await api('/v1/monitoring/drift?refresh=true')
  console.log(`  ${res.accepted} events; variants ${Object.entries(byVariant).map(([k, v]) => `${k}: ${v.length}`).join(', ')}; drift report ${drift.latest ? 'ready' : 'missing'}`)
  if (!drift.latest) fail('no drift report after the traffic (the monitor needs >= 200 events and 50 lists)')
  return byVariant
}

async function banner(page, user) {
  step(`the Playground says user ${user} is in variant B`)
  await page.goto(`${BASE}/?user=${encodeURIComponent(user)}`, { waitUntil: 'domcontentloaded' })
  const b = page.getByTestId('experiment-banner')
  await b.waitFor({ state: 'visible' }).catch(() => fail(`no experiment-banner for user ${user} (in variant B)`))
  await poll('the banner to name the experiment', async () => /e2e-champion-vs-popular/.test((await b.textContent()) ?? ''))
  if ((await b.getAttribute('data-variant')) !== 'B') fail(`banner variant is ${await b.getAttribute('data-variant')}, expected B`)
  console.log(`  banner: ${(await b.textContent())?.slice(0, 120)}…`)
}

async function openPage(page, p, size, bannerUser) {
  const path = p.name === 'playground' ? `/?user=${encodeURIComponent(bannerUser)}` : p.path
  await page.goto(`${BASE}${path}`, { waitUntil: 'domcontentloaded' })
  await page
    .getByRole('heading', { level: 1, name: p.heading })
    .waitFor({ state: 'visible' })
    .catch(() => fail(`${path} did not render its "${p.heading}" heading`))
  await page
    .locator(p.ready)
    .first()
    .waitFor({ state: 'attached' })
    .catch(() => fail(`${path}: ${p.ready} did not appear`))
  await poll(`${path} to finish loading`, async () => (await page.locator('[role="status"]:has-text("Loading")').count()) === 0)
  if (size.name === 'desktop' && p.name === 'dashboard') {
    await poll('the online positive-rate chart to have two samples', async () => (await page.locator('[data-testid="online-chart"] svg path').count()) > 0, { timeout: 20_000 })
  }
  if (size.name === 'desktop' && p.name === 'experiments') {
    await poll('the cumulative chart to have two samples', async () => (await page.locator('[data-testid="cumulative-chart"] svg path').count()) > 0, { timeout: 20_000 })
  }
  await sleep(400)
}

async function checkPage(page, p, size) {
  const m = await page.evaluate(() => {
    const search = document.querySelector('[data-testid="search-input"]')
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .slice(0, 3)
      .map((el) => `${el.tagName.toLowerCase()}.${String(el.className).slice(0, 60)}`)
    return {
      scrollWidth: document.documentElement.scrollWidth,
      searchTop: search ? Math.round(search.getBoundingClientRect().top + window.scrollY) : null,
      wide,
    }
  })
  console.log(`  ${p.name} @ ${size.width}: scrollWidth ${m.scrollWidth}${m.searchTop != null ? `, search at ${m.searchTop} px` : ''}`)
  if (m.scrollWidth > size.width) fail(`${p.name} scrolls sideways at ${size.width} px: scrollWidth ${m.scrollWidth} (too wide: ${m.wide.join(', ')})`)
  if (p.name === 'playground' && size.name === 'phone' && !(m.searchTop < 1000)) {
    fail(`the Playground search is ${m.searchTop} px down on a phone (want < 1000)`)
  }
  if (p.name === 'models') {
    const versions = (await api('/v1/models')).versions.length
    const disabled = await page.getByTestId('rollback-button').isDisabled()
    if (versions < 2 && !disabled) fail('rollback is enabled with a single model version')
    if (versions >= 2 && disabled) fail('rollback is disabled with several model versions')
  }
  if (p.name === 'experiments') {
    const srm = await page.getByTestId('srm-status').first().getAttribute('data-state')
    const verdict = await page.getByTestId('verdict').first().textContent()
    if (!verdict?.trim()) fail('the experiment has no verdict text')
    console.log(`    SRM ${srm}; verdict: ${verdict}`)
  }
}

async function main() {
  await mkdir(ARTIFACTS, { recursive: true })
  await mkdir(SCREENSHOTS, { recursive: true })
  step(`check ${BASE} is up`)
  try {
    const res = await fetch(`${BASE}/health`)
    if (!res.ok) fail(`${BASE}/health answered ${res.status}`)
  } catch (err) {
    if (err instanceof StepError) throw err
    fail(`cannot reach ${BASE}/health (${err.message}); start the server or set E2E_BASE_URL`)
  }
  if (!ADMIN_KEY) fail('set E2E_ADMIN_KEY to the server\'s RECLOOP_ADMIN_API_KEY')

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: process.env.E2E_HEADFUL !== '1',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'].filter(
      (a) => a !== '--headless' || process.env.E2E_HEADFUL !== '1',
    ),
  })
  const pageErrors = []
  const newPage = async (size) => {
    const { name, ...opts } = size
    const context = await browser.newContext({ viewport: { width: opts.width, height: opts.height }, deviceScaleFactor: 1, isMobile: opts.isMobile, hasTouch: opts.hasTouch })
    await context.addInitScript((key) => window.localStorage.setItem('recloop.adminKey', key), ADMIN_KEY)
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`))
    page.on('console', (msg) => {
      if (msg.type() === 'error') console.log(`  [browser console ${name}] ${msg.text()}`)
    })
    return page
  }
  try {
    const desktop = await newPage(SIZES[1])
    await playground(desktop)
    await createExperiment(desktop)
    const byVariant = await traffic()
    const bannerUser = (byVariant.B ?? [])[0]
    if (!bannerUser) fail('no user was assigned to variant B')
    await banner(desktop, bannerUser)

    for (const size of SIZES) {
      step(`every page at ${size.width}x${size.height}: no sideways scroll, screenshot`)
      const page = size.name === 'desktop' ? desktop : await newPage(size)
      for (const p of PAGES) {
        await openPage(page, p, size, bannerUser)
        await checkPage(page, p, size)
        await shot(page, `${p.name}-${size.name}.png`, true, SCREENSHOTS)
      }
    }

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
