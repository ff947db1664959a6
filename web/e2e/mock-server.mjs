#!/usr/bin/env node
/**
 * A tiny stand-in for the recloop API (docs/API.md) that also serves web/dist.
 *
 * Contract-shaped JSON for every endpoint the dashboard uses, with in-memory
 * events so feedback changes the recommendations (genre affinity + exclude
 * seen). Meant for e2e runs and UI work before the real backend is ready.
 *
 *   node e2e/mock-server.mjs [--port 8000] [--host 127.0.0.1]
 *   env: MOCK_ADMIN_KEY (default "secret"), MOCK_DELAY_MS (default 15),
 *        MOCK_BACKGROUND=0 to disable synthetic background traffic,
 *        MOCK_DIST (default web/dist)
 */
import { randomUUID } from 'node:crypto'
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { dirname, extname, join, normalize, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const DIST = resolve(process.env.MOCK_DIST ?? join(here, '..', 'dist'))
const ADMIN_KEY = process.env.MOCK_ADMIN_KEY ?? 'secret'
const DELAY_MS = Number(process.env.MOCK_DELAY_MS ?? 15)
const BACKGROUND = process.env.MOCK_BACKGROUND !== '0'

// ---------------------------------------------------------------- catalog
const RAW = [
  [1, 'Toy Story', 1995, "Animation|Children's|Comedy"],
  [2, 'GoldenEye', 1995, 'Action|Adventure|Thriller'],
  [4, 'Get Shorty', 1995, 'Action|Comedy|Drama'],
  [7, 'Twelve Monkeys', 1995, 'Drama|Sci-Fi'],
  [8, 'Babe', 1995, "Children's|Comedy|Drama"],
  [9, 'Dead Man Walking', 1995, 'Drama'],
  [11, 'Seven (Se7en)', 1995, 'Crime|Thriller'],
  [12, 'Usual Suspects, The', 1995, 'Crime|Thriller'],
  [22, 'Braveheart', 1995, 'Action|Drama|War'],
  [28, 'Apollo 13', 1995, 'Action|Drama|Thriller'],
  [50, 'Star Wars', 1977, 'Action|Adventure|Romance|Sci-Fi|War'],
  [56, 'Pulp Fiction', 1994, 'Crime|Drama'],
  [64, 'Shawshank Redemption, The', 1994, 'Drama'],
  [69, 'Forrest Gump', 1994, 'Comedy|Romance|War'],
  [71, 'Lion King, The', 1994, "Animation|Children's|Musical"],
  [79, 'Fugitive, The', 1993, 'Action|Thriller'],
  [82, 'Jurassic Park', 1993, 'Action|Adventure|Sci-Fi'],
  [89, 'Blade Runner', 1982, 'Film-Noir|Sci-Fi'],
  [96, 'Terminator 2: Judgment Day', 1991, 'Action|Sci-Fi|Thriller'],
  [98, 'Silence of the Lambs, The', 1991, 'Drama|Thriller'],
  [100, 'Fargo', 1996, 'Crime|Drama|Thriller'],
  [121, 'Independence Day (ID4)', 1996, 'Action|Sci-Fi|War'],
  [127, 'Godfather, The', 1972, 'Action|Crime|Drama'],
  [132, 'Wizard of Oz, The', 1939, "Adventure|Children's|Drama|Musical"],
  [168, 'Monty Python and the Holy Grail', 1974, 'Comedy'],
  [172, 'Empire Strikes Back, The', 1980, 'Action|Adventure|Drama|Romance|Sci-Fi|War'],
  [173, 'Princess Bride, The', 1987, 'Action|Adventure|Comedy|Romance'],
  [174, 'Raiders of the Lost Ark', 1981, 'Action|Adventure'],
  [176, 'Aliens', 1986, 'Action|Sci-Fi|Thriller|War'],
  [181, 'Return of the Jedi', 1983, 'Action|Adventure|Romance|Sci-Fi|War'],
  [183, 'Alien', 1979, 'Action|Horror|Sci-Fi|Thriller'],
  [195, 'Terminator, The', 1984, 'Action|Sci-Fi|Thriller'],
  [204, 'Back to the Future', 1985, 'Comedy|Sci-Fi'],
  [210, 'Indiana Jones and the Last Crusade', 1989, 'Action|Adventure'],
  [234, 'Jaws', 1975, 'Action|Horror'],
  [257, 'Men in Black', 1997, 'Action|Adventure|Comedy|Sci-Fi'],
  [258, 'Contact', 1997, 'Drama|Sci-Fi'],
  [286, 'English Patient, The', 1996, 'Drama|Romance|War'],
  [288, 'Scream', 1996, 'Horror|Thriller'],
  [294, 'Liar Liar', 1997, 'Comedy'],
  [300, 'Air Force One', 1997, 'Action|Thriller'],
  [313, 'Titanic', 1997, 'Action|Drama|Romance'],
  [318, "Schindler's List", 1993, 'Drama|War'],
  [423, 'E.T. the Extra-Terrestrial', 1982, "Children's|Drama|Fantasy|Sci-Fi"],
  [435, 'Butch Cassidy and the Sundance Kid', 1969, 'Action|Comedy|Western'],
  [483, 'Casablanca', 1942, 'Drama|Romance|War'],
  [496, "It's a Wonderful Life", 1946, 'Drama'],
  [515, 'Boot, Das', 1981, 'Action|Drama|War'],
  [588, 'Beauty and the Beast', 1991, "Animation|Children's|Musical"],
  [603, 'Rear Window', 1954, 'Mystery|Thriller'],
  [604, 'It Happened One Night', 1934, 'Comedy'],
  [655, 'Stand by Me', 1986, 'Adventure|Comedy|Drama'],
  [659, 'Arsenic and Old Lace', 1944, 'Comedy|Mystery|Thriller'],
  [1028, 'Grumpier Old Men', 1995, 'Comedy|Romance'],
  [568, 'Speed', 1994, 'Action|Romance|Thriller'],
  [161, 'Top Gun', 1986, 'Action|Romance'],
  [202, 'Groundhog Day', 1993, 'Comedy|Romance'],
  [228, 'Star Trek: The Wrath of Khan', 1982, 'Action|Adventure|Sci-Fi'],
  [269, 'Full Monty, The', 1997, 'Comedy'],
]
const ITEMS = new Map()
for (const [id, title, year, g] of RAW) ITEMS.set(id, { item_id: id, title, year, genres: g.split('|') })
const CATALOG = [...ITEMS.values()]

function hash(s) {
  let h = 2166136261
  for (const c of String(s)) h = Math.imul(h ^ c.charCodeAt(0), 16777619)
  return (h >>> 0) / 4294967296
}
const POP = new Map(CATALOG.map((it, i) => [it.item_id, 1 - i / CATALOG.length + hash(it.item_id) * 0.3]))
const GENRES = [...new Set(CATALOG.flatMap((i) => i.genres))]

// ---------------------------------------------------------------- users
const ML_USERS = Array.from({ length: 30 }, (_, i) => String(i + 1))
const ML_EVENTS = new Map(ML_USERS.map((u) => [u, Math.round(80 + hash(`n${u}`) * 600)]))
ML_EVENTS.set('1', 272)
const OCCUPATIONS = ['technician', 'writer', 'student', 'engineer', 'educator', 'programmer', 'artist']

/** Seeded history of a MovieLens user: a handful of rated items (latest first). */
function seededHistory(u) {
  if (!ML_EVENTS.has(u)) return []
  const picks = CATALOG.filter((it) => hash(`${u}:${it.item_id}`) < 0.12)
  return picks.map((it, i) => ({
    event_id: `seed-${u}-${it.item_id}`,
    user_id: u,
    item_id: it.item_id,
    type: 'rate',
    value: 3 + Math.floor(hash(`r${u}${it.item_id}`) * 3),
    timestamp: 893286638 - i * 3600,
    request_id: null,
  }))
}

// ---------------------------------------------------------------- state
const events = [] // applied events of this run
const eventIds = new Set()
const perUser = new Map() // user -> events (oldest first)
const latencies = [] // {t, ms}
let requestsTotal = 0
let foldinsTotal = 0
const exposures = new Map() // request_id -> {user, variant, items}
const T0 = Date.now() / 1000

function userEvents(u) {
  return [...seededHistory(u).reverse(), ...(perUser.get(u) ?? [])]
}

const WEIGHT = { view: 0.15, click: 0.3, like: 1, purchase: 1.2, dislike: -1.2 }
function eventWeight(e) {
  return e.type === 'rate' ? (e.value - 3) / 2 : (WEIGHT[e.type] ?? 0)
}

function recommend(u, q) {
  const evs = userEvents(u)
  const taste = new Map(GENRES.map((g) => [g, (hash(`${u}|${g}`) - 0.5) * 0.4]))
  const seen = new Set()
  let lastLiked = null
  const liked = []
  evs.forEach((e, i) => {
    const it = ITEMS.get(e.item_id)
    if (!it) return
    if (e.type !== 'view' && e.type !== 'click') seen.add(e.item_id)
    const w = eventWeight(e) * (1 + i / Math.max(evs.length, 1)) // recent events weigh more
    for (const g of it.genres) taste.set(g, (taste.get(g) ?? 0) + w / Math.sqrt(it.genres.length))
    if (w > 0 && e.type !== 'view') {
      lastLiked = it
      liked.push(it)
    }
  })
  const k = q.k
  let pool = CATALOG.filter((it) => !(q.exclude_seen && seen.has(it.item_id)))
  if (q.genres.length) pool = pool.filter((it) => it.genres.some((g) => q.genres.includes(g)))
  if (q.exclude_genres.length) pool = pool.filter((it) => !it.genres.some((g) => q.exclude_genres.includes(g)))
  if (q.year_min != null) pool = pool.filter((it) => it.year != null && it.year >= q.year_min)
  if (q.year_max != null) pool = pool.filter((it) => it.year != null && it.year <= q.year_max)
  const cold = liked.length === 0 && !ML_EVENTS.has(u)
  const scored = pool.map((it) => {
    const affinity = it.genres.reduce((s, g) => s + (taste.get(g) ?? 0), 0) / Math.sqrt(it.genres.length)
    const score = POP.get(it.item_id) * (cold ? 1.5 : 0.6) + affinity + hash(`${u}#${it.item_id}`) * 0.05
    return { it, score }
  })
  scored.sort((a, b) => b.score - a.score || a.it.item_id - b.it.item_id)
  return scored.slice(0, k).map(({ it, score }, rank) => {
    const because = liked.slice().reverse().find((l) => l.item_id !== it.item_id && l.genres.some((g) => it.genres.includes(g)))
    let source = 'popular'
    let reason = 'popular right now'
    if (because) {
      source = because === lastLiked ? 'sequence' : rank % 2 ? 'itemknn' : 'ease'
      reason = `because you liked ${because.title} (${because.year})`
    } else if (!cold) {
      source = 'als'
      reason = `matches your taste for ${it.genres[0]}`
    } else if (rank < 2) {
      source = 'trending'
      reason = 'trending in the last hour'
    }
    return { ...it, score: Math.round(score * 1e4) / 1e4, source, reason }
  })
}

// ---------------------------------------------------------------- models & experiments
let champion = '3'
const championHistory = ['2']
const now = Date.now()
const iso = (msAgo) => new Date(now - msAgo).toISOString()
const VERSIONS = [
  { version: '4', aliases: ['challenger'], created_at: iso(3600e3), metrics: { 'ndcg@10': 0.3712, 'recall@20': 0.2811, 'hr@10': 0.7421, 'coverage@10': 0.2133 }, tags: { trigger: 'drift' } },
  { version: '3', aliases: ['champion'], created_at: iso(86400e3), metrics: { 'ndcg@10': 0.3654, 'recall@20': 0.2790, 'hr@10': 0.7302, 'coverage@10': 0.2250 }, tags: {} },
  { version: '2', aliases: [], created_at: iso(3 * 86400e3), metrics: { 'ndcg@10': 0.3418, 'recall@20': 0.2602, 'hr@10': 0.7105, 'coverage@10': 0.1904, 'map@10': 0.2011 }, tags: {} },
  { version: '1', aliases: [], created_at: iso(7 * 86400e3), metrics: { 'ndcg@10': 0.2207, 'recall@20': 0.1733, 'hr@10': 0.5890 }, tags: { note: 'popularity baseline' } },
]
function modelsBody() {
  return {
    champion,
    versions: VERSIONS.map((v) => ({
      ...v,
      aliases: [...v.aliases.filter((a) => a !== 'champion'), ...(v.version === champion ? ['champion'] : [])],
    })),
  }
}
const DECISIONS = [
  {
    created_at: iso(3500e3),
    decision: 'kept',
    reason: 'challenger v4 NDCG@10 +1.6% is below the +2% promotion margin',
    champion: { version: '3', metrics: VERSIONS[1].metrics },
    challenger: { version: '4', metrics: VERSIONS[0].metrics },
  },
  {
    created_at: iso(86000e3),
    decision: 'promoted',
    reason: 'challenger v3 beats the champion on NDCG@10 by 6.9% with coverage within 5%',
    champion: { version: '2', metrics: VERSIONS[2].metrics },
    challenger: { version: '3', metrics: VERSIONS[1].metrics },
  },
]

const experiments = [
  {
    id: 'exp-1',
    name: 'ease-vs-popular',
    status: 'running',
    created_at: iso(7200e3),
    primary_metric: 'ctr',
    variants: [
      { name: 'A', model: 'champion', weight: 0.5 },
      { name: 'B', model: 'popular', weight: 0.5 },
    ],
    counts: { A: [4210, 523], B: [4188, 402] },
  },
  {
    id: 'exp-0',
    name: 'v2-holdout',
    status: 'stopped',
    created_at: iso(5 * 86400e3),
    primary_metric: 'ctr',
    variants: [
      { name: 'A', model: 'champion', weight: 0.5 },
      { name: 'B', model: '2', weight: 0.5 },
    ],
    counts: { A: [5400, 610], B: [4300, 470] },
  },
]
const publicExp = ({ counts: _c, ...e }) => e

function normalCdf(z) {
  const t = 1 / (1 + 0.2316419 * Math.abs(z))
  const d = 0.3989423 * Math.exp((-z * z) / 2)
  const p = d * t * (0.3193815 + t * (-0.3565638 + t * (1.781478 + t * (-1.821256 + t * 1.330274))))
  return z > 0 ? 1 - p : p
}
function results(e) {
  const vs = e.variants.map((v) => {
    const [n, s] = e.counts[v.name] ?? [0, 0]
    const rate = n ? s / n : null
    const se = n ? Math.sqrt((rate * (1 - rate)) / n) : 0
    return { name: v.name, model: v.model, exposures: n, successes: s, rate, ci: n ? [rate - 1.96 * se, rate + 1.96 * se] : null }
  })
  const [a, b] = vs
  let lift = null
  let lift_ci = null
  let p = null
  if (a?.rate && b?.rate != null && a.exposures && b.exposures) {
    lift = (b.rate - a.rate) / a.rate
    const se = Math.sqrt((a.rate * (1 - a.rate)) / a.exposures + (b.rate * (1 - b.rate)) / b.exposures)
    lift_ci = [(b.rate - a.rate - 1.96 * se) / a.rate, (b.rate - a.rate + 1.96 * se) / a.rate]
    p = 2 * (1 - normalCdf(Math.abs((b.rate - a.rate) / se)))
  }
  const total = vs.reduce((s, v) => s + v.exposures, 0)
  const wsum = e.variants.reduce((s, v) => s + v.weight, 0)
  const chi = vs.reduce((s, v, i) => {
    const exp = (total * e.variants[i].weight) / wsum
    return s + (exp ? (v.exposures - exp) ** 2 / exp : 0)
  }, 0)
  const srmP = Math.exp(-chi / 2) // chi-square, 1 dof (approx. survival for the mock)
  const reject = p != null && p < 0.01
  let decision = 'running'
  if (reject) decision = `winner:${lift > 0 ? b.name : a.name}`
  else if (e.status === 'stopped') decision = 'no difference'
  return {
    id: e.id,
    name: e.name,
    status: e.status,
    variants: vs,
    lift,
    lift_ci,
    p_value: p,
    sequential: { p_value: p == null ? null : Math.min(1, p * 3), reject },
    srm: { p_value: srmP, mismatch: srmP < 0.001 },
    decision,
  }
}

// ---------------------------------------------------------------- stats & drift
function percentile(xs, q) {
  if (!xs.length) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}
function background(bucketT) {
  if (!BACKGROUND) return {}
  const wave = 1 + 0.6 * Math.sin(bucketT / 60)
  const r = (k) => Math.round(hash(`${bucketT}${k}`) * 4 * wave)
  return { view: r('v') + 6, click: r('c') + 2, like: r('l'), dislike: Math.round(r('d') / 3), rate: r('r') }
}
function stats() {
  const nowS = Date.now() / 1000
  const end = Math.floor(nowS / 5) * 5
  const series = []
  const bgTotals = {}
  for (let t = end - 595; t <= end; t += 5) {
    if (BACKGROUND && t < T0 - 300) continue // pretend the server started 5 minutes before this run
    const ev = background(t)
    for (const [k, n] of Object.entries(ev)) bgTotals[k] = (bgTotals[k] ?? 0) + n
    const mine = events.filter((e) => e._at >= t && e._at < t + 5)
    for (const e of mine) ev[e.type] = (ev[e.type] ?? 0) + 1
    const lats = latencies.filter((l) => l.t >= t && l.t < t + 5).map((l) => l.ms)
    const bgLat = BACKGROUND ? [2 + hash(`p${t}`) * 2, 6 + hash(`q${t}`) * 10] : []
    series.push({
      t,
      events: ev,
      foldins: BACKGROUND ? (ev.like ?? 0) + (ev.dislike ?? 0) + (ev.rate ?? 0) + (ev.purchase ?? 0) : mine.length,
      p50_ms: lats.length ? percentile(lats, 0.5) : (bgLat[0] ?? null),
      p99_ms: lats.length ? percentile(lats, 0.99) : (bgLat[1] ?? null),
      active_users: new Set(mine.map((e) => e.user_id)).size + (BACKGROUND ? 3 + Math.round(hash(`u${t}`) * 5) : 0),
    })
  }
  const byType = { ...bgTotals }
  for (const e of events) byType[e.type] = (byType[e.type] ?? 0) + 1
  const total = Object.values(byType).reduce((s, n) => s + n, 0)
  const recEvents = events.filter((e) => e.request_id)
  const positives = recEvents.filter((e) => ['like', 'purchase', 'click'].includes(e.type) || (e.type === 'rate' && e.value >= 4))
  const lat = latencies.map((l) => l.ms)
  return {
    events_total: total,
    events_by_type: byType,
    active_users: new Set(events.map((e) => e.user_id)).size + (BACKGROUND ? 7 : 0),
    foldins_total: foldinsTotal + (BACKGROUND ? (bgTotals.like ?? 0) + (bgTotals.rate ?? 0) : 0),
    requests_total: requestsTotal,
    latency_ms: { p50: percentile(lat, 0.5) ?? 2.8, p99: percentile(lat, 0.99) ?? 11.5 },
    model_version: champion,
    online: { positive_rate: recEvents.length ? positives.length / recEvents.length : 0.31, recommended_events: recEvents.length },
    series,
  }
}

const THRESHOLDS = { psi_warn: 0.1, psi_alert: 0.25, ks_p: 0.01, chi2_p: 0.01, positive_rate_drop: 0.2, cold_share_delta: 0.15, gini_delta: 0.1, psi_bins: 10, psi_eps: 0.0001 }
function drift() {
  const nowS = Math.floor(Date.now() / 1000)
  const history = Array.from({ length: 24 }, (_, i) => {
    const t = nowS - (23 - i) * 300
    const ramp = i / 23
    const scores = {
      'numeric.user_activity': 0.04 + 0.05 * hash(`a${i}`),
      'numeric.item_popularity': 0.05 + 0.28 * ramp ** 2 + 0.03 * hash(`b${i}`),
      'categorical.event_type': 0.03 + 0.06 * hash(`c${i}`),
      'output.scores': 0.02 + 0.1 * ramp,
      'output.cold_start_share': 0.02 * Math.sin(i / 3),
      'output.gini': 0.01 + 0.03 * hash(`g${i}`),
      'online.positive_rate': 0.05 * hash(`r${i}`),
    }
    return { t, alert: scores['numeric.item_popularity'] > THRESHOLDS.psi_alert, scores }
  })
  const last = history[history.length - 1].scores
  const s = (name, kind, statistic, p_value, threshold, alert, warn = false) => ({ name, kind, statistic, p_value, threshold, alert, warn })
  const latest = {
    created_at: new Date(nowS * 1000).toISOString(),
    scores: [
      s('numeric.user_activity', 'psi', last['numeric.user_activity'], null, 0.25, false, last['numeric.user_activity'] > 0.1),
      s('numeric.user_activity', 'ks', 0.041, 0.21, 0.01, false),
      s('numeric.item_popularity', 'psi', last['numeric.item_popularity'], null, 0.25, last['numeric.item_popularity'] > 0.25, true),
      s('numeric.item_popularity', 'ks', 0.163, 0.0004, 0.01, true),
      s('categorical.event_type', 'psi', last['categorical.event_type'], null, 0.25, false),
      s('categorical.event_type', 'chi2', 14.2, 0.027, 0.01, false),
      s('output.scores', 'psi', last['output.scores'], null, 0.25, false, last['output.scores'] > 0.1),
      s('output.cold_start_share', 'delta', last['output.cold_start_share'], null, 0.15, false),
      s('output.gini', 'delta', last['output.gini'], null, 0.1, false),
      s('online.positive_rate', 'relative_drop', last['online.positive_rate'], null, 0.2, false),
    ],
  }
  latest.alert = latest.scores.some((x) => x.alert)
  return {
    latest,
    history,
    thresholds: THRESHOLDS,
    triggers: [
      { t: nowS - 3500, reason: 'drift alert: numeric.item_popularity PSI 0.29 > 0.25', outcome: 'kept v3 (challenger v4 below margin)' },
      { t: nowS - 86000, reason: 'scheduled retrain (24 h)', outcome: 'promoted v3' },
    ],
  }
}

function offline() {
  const p1m = (n, r, h, c) => ({ 'NDCG@10': n, 'Recall@10': r * 0.7, 'Recall@20': r, 'HR@10': h, 'MAP@10': n * 0.62, 'Precision@10': n * 0.8, 'Coverage@10': c })
  const p2m = (n, h) => ({ 'NDCG@10': n, 'HR@10': h, 'NDCG@10_cold': n * 0.6, 'HR@10_cold': h * 0.6, 'NDCG@10_warm': n * 1.1, 'HR@10_warm': h * 1.1, events_per_s: 5400, events: 20000, cold_events: 1800 })
  const m = (metrics, wall_s) => ({ metrics, params: {}, wall_s })
  return {
    model_version: champion,
    p1: {
      protocol: 'p1',
      data: { source: 'ml-100k', train: 80000, test: 20000, users: 943, items: 1682 },
      models: {
        champion: m(p1m(0.3654, 0.279, 0.7302, 0.225), 12.4),
        popular: m(p1m(0.2207, 0.1733, 0.589, 0.031), 0.3),
        itemknn: m(p1m(0.3102, 0.2488, 0.6911, 0.172), 4.1),
        als: m(p1m(0.3329, 0.2601, 0.7084, 0.141), 9.8),
      },
    },
    p2: {
      protocol: 'p2',
      data: { source: 'ml-100k', bootstrap: 80000, replayed: 20000, items: 1682 },
      models: {
        champion: m(p2m(0.0841, 0.1702), 31.2),
        popular: m(p2m(0.0402, 0.0913), 2.2),
        itemknn: m(p2m(0.0733, 0.1511), 18.5),
      },
    },
  }
}

// ---------------------------------------------------------------- http
const PATHS = [
  ['get', '/health'], ['get', '/ready'], ['get', '/metrics'],
  ['post', '/v1/events'],
  ['get', '/v1/users/{user_id}/recommendations'], ['get', '/v1/users/{user_id}'], ['get', '/v1/users'],
  ['get', '/v1/items'], ['get', '/v1/items/{item_id}/similar'],
  ['get', '/v1/stats'], ['get', '/v1/offline'],
  ['get', '/v1/models'], ['post', '/v1/models/{version}/promote'], ['post', '/v1/models/rollback'], ['get', '/v1/models/decisions'],
  ['get', '/v1/experiments'], ['post', '/v1/experiments'], ['post', '/v1/experiments/{experiment_id}/stop'], ['get', '/v1/experiments/{experiment_id}/results'],
  ['get', '/v1/monitoring/drift'],
]
function openapi() {
  const paths = {}
  for (const [m, p] of PATHS) (paths[p] ??= {})[m] = { summary: `${m.toUpperCase()} ${p}`, responses: { 200: { description: 'OK' } } }
  return { openapi: '3.1.0', info: { title: 'recloop (mock)', version: '1' }, paths }
}

class HttpError extends Error {
  constructor(status, detail) {
    super(detail)
    this.status = status
  }
}

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'Cache-Control': 'no-store',
    ...headers,
  })
  res.end(text)
}

async function readJson(req) {
  const chunks = []
  for await (const c of req) chunks.push(c)
  const raw = Buffer.concat(chunks).toString('utf8')
  if (!raw) throw new HttpError(422, 'request body is empty: send JSON')
  try {
    return JSON.parse(raw)
  } catch {
    throw new HttpError(422, 'request body is not valid JSON')
  }
}

function requireAdmin(req) {
  if (req.headers['x-admin-key'] !== ADMIN_KEY) {
    throw new HttpError(403, 'admin key missing or wrong: send header X-Admin-Key with RECLOOP_ADMIN_API_KEY')
  }
}

function intParam(q, name, def, min, max) {
  const v = q.get(name)
  if (v === null || v === '') return def
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max) throw new HttpError(422, `${name} must be an integer in [${min}, ${max}]; got ${v}`)
  return n
}
const listParam = (q, name) => (q.get(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean)

const EVENT_TYPES = ['view', 'click', 'like', 'dislike', 'rate', 'purchase']
function validateEvent(e) {
  if (!e || typeof e !== 'object') return 'event must be an object'
  if (typeof e.event_id !== 'string' || !e.event_id) return 'event_id must be a non-empty string'
  if (typeof e.user_id !== 'string' || !e.user_id) return 'user_id must be a non-empty string'
  if (!Number.isInteger(e.item_id)) return 'item_id must be an integer'
  if (!ITEMS.has(e.item_id)) return `unknown item_id ${e.item_id}`
  if (!EVENT_TYPES.includes(e.type)) return `type must be one of ${EVENT_TYPES.join(', ')}; got ${e.type}`
  if (e.type === 'rate' && !(typeof e.value === 'number' && e.value >= 1 && e.value <= 5)) return 'value is required (1-5) for rate'
  return null
}

function postEvents(body) {
  const batch = Array.isArray(body?.events) ? body.events : [body]
  const out = { accepted: 0, duplicates: 0, rejected: [], results: [] }
  batch.forEach((e, index) => {
    const err = validateEvent(e)
    if (err) {
      out.rejected.push({ index, event_id: e?.event_id ?? null, error: err })
      out.results.push({ event_id: e?.event_id ?? null, status: 'rejected' })
      return
    }
    if (eventIds.has(e.event_id)) {
      out.duplicates++
      out.results.push({ event_id: e.event_id, status: 'duplicate' })
      return
    }
    eventIds.add(e.event_id)
    const ev = { ...e, value: e.value ?? null, timestamp: e.timestamp ?? Date.now() / 1000, request_id: e.request_id ?? null, _at: Date.now() / 1000 }
    events.push(ev)
    if (!perUser.has(e.user_id)) perUser.set(e.user_id, [])
    perUser.get(e.user_id).push(ev)
    foldinsTotal++
    const expo = ev.request_id && exposures.get(ev.request_id)
    if (expo) {
      const ex = experiments.find((x) => x.id === expo.experiment)
      if (ex && ['like', 'click', 'purchase'].includes(ev.type)) ex.counts[expo.variant][1]++
    }
    out.accepted++
    out.results.push({ event_id: e.event_id, status: 'applied' })
  })
  return [out.accepted + out.duplicates === 0 ? 422 : 200, out]
}

function userProfile(u) {
  const evs = userEvents(u).slice().reverse().slice(0, 200)
  const counts = {}
  for (const e of userEvents(u)) counts[e.type] = (counts[e.type] ?? 0) + 1
  const known = ML_EVENTS.has(u)
  return {
    user_id: u,
    known,
    demographics: known ? { age: 18 + Math.floor(hash(`age${u}`) * 40), gender: hash(`g${u}`) < 0.5 ? 'F' : 'M', occupation: OCCUPATIONS[Math.floor(hash(`o${u}`) * OCCUPATIONS.length)] } : null,
    counts_by_type: counts,
    history: evs.map((e) => ({ item_id: e.item_id, title: ITEMS.get(e.item_id)?.title ?? String(e.item_id), type: e.type, value: e.value, timestamp: e.timestamp })),
  }
}

async function api(req, url) {
  const p = url.pathname
  const m = req.method
  const q = url.searchParams
  let mm
  if (m === 'GET' && p === '/health') return [200, { status: 'ok' }]
  if (m === 'GET' && p === '/ready') return [200, { ready: true, model_version: champion }]
  if (m === 'GET' && p === '/openapi.json') return [200, openapi()]
  if (m === 'GET' && p === '/metrics') return [200, `# HELP recloop_events_total Events\n# TYPE recloop_events_total counter\nrecloop_events_total ${events.length}\n`]
  if (m === 'POST' && p === '/v1/events') return postEvents(await readJson(req))
  if (m === 'GET' && (mm = p.match(/^\/v1\/users\/([^/]+)\/recommendations$/))) {
    const u = decodeURIComponent(mm[1])
    const t0 = performance.now()
    const query = {
      k: intParam(q, 'k', 10, 1, 100),
      genres: listParam(q, 'genres'),
      exclude_genres: listParam(q, 'exclude_genres'),
      year_min: q.get('year_min') ? intParam(q, 'year_min', null, 1800, 2100) : null,
      year_max: q.get('year_max') ? intParam(q, 'year_max', null, 1800, 2100) : null,
      exclude_seen: q.get('exclude_seen') !== 'false',
    }
    const items = recommend(u, query)
    const latency_ms = Math.round((performance.now() - t0 + 1 + hash(Math.random()) * 3) * 100) / 100
    requestsTotal++
    latencies.push({ t: Date.now() / 1000, ms: latency_ms })
    const request_id = randomUUID()
    const exp = experiments.find((x) => x.status === 'running')
    let variant = null
    if (exp) {
      variant = hash(`${exp.id}:${u}`) < 0.5 ? 'A' : 'B'
      exp.counts[variant][0]++
      exposures.set(request_id, { experiment: exp.id, variant })
    }
    return [200, { user_id: u, items, model_version: champion, request_id, variant, latency_ms }]
  }
  if (m === 'GET' && (mm = p.match(/^\/v1\/users\/([^/]+)$/))) return [200, userProfile(decodeURIComponent(mm[1]))]
  if (m === 'GET' && p === '/v1/users') {
    const limit = intParam(q, 'limit', 50, 1, 1000)
    const users = ML_USERS.map((u) => ({ user_id: u, events: ML_EVENTS.get(u) + (perUser.get(u)?.length ?? 0) }))
    users.sort((a, b) => b.events - a.events)
    return [200, { users: users.slice(0, limit) }]
  }
  if (m === 'GET' && p === '/v1/items') {
    const limit = intParam(q, 'limit', 20, 1, 200)
    const query = (q.get('query') ?? '').trim().toLowerCase()
    const uniq = [...ITEMS.values()]
    const found = query ? uniq.filter((i) => i.title.toLowerCase().includes(query)) : uniq.sort((a, b) => POP.get(b.item_id) - POP.get(a.item_id))
    return [200, { items: found.slice(0, limit) }]
  }
  if (m === 'GET' && (mm = p.match(/^\/v1\/items\/(\d+)\/similar$/))) {
    const id = Number(mm[1])
    const it = ITEMS.get(id)
    if (!it) throw new HttpError(404, `unknown item_id ${id}: use GET /v1/items to find ids`)
    const k = intParam(q, 'k', 10, 1, 100)
    const sim = CATALOG.filter((x) => x.item_id !== id)
      .map((x) => ({ x, s: x.genres.filter((g) => it.genres.includes(g)).length / Math.sqrt(x.genres.length * it.genres.length) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, k)
      .map(({ x, s }) => ({ ...x, score: Math.round(s * 1e4) / 1e4, source: 'itemknn', reason: `similar to ${it.title}` }))
    return [200, { item_id: id, items: sim }]
  }
  if (m === 'GET' && p === '/v1/stats') return [200, stats()]
  if (m === 'GET' && p === '/v1/offline') return [200, offline()]
  if (m === 'GET' && p === '/v1/models') return [200, modelsBody()]
  if (m === 'GET' && p === '/v1/models/decisions') return [200, { decisions: DECISIONS }]
  if (m === 'POST' && p === '/v1/models/rollback') {
    requireAdmin(req)
    if (!championHistory.length) throw new HttpError(409, 'no earlier champion to roll back to')
    const previous = champion
    champion = championHistory.pop()
    return [200, { champion, previous }]
  }
  if (m === 'POST' && (mm = p.match(/^\/v1\/models\/([^/]+)\/promote$/))) {
    requireAdmin(req)
    const v = decodeURIComponent(mm[1])
    if (!VERSIONS.some((x) => x.version === v)) throw new HttpError(404, `unknown model version ${v}: see GET /v1/models`)
    const previous = champion
    if (v !== champion) {
      championHistory.push(champion)
      champion = v
    }
    return [200, { champion, previous }]
  }
  if (m === 'GET' && p === '/v1/experiments') return [200, { experiments: experiments.map(publicExp) }]
  if (m === 'POST' && p === '/v1/experiments') {
    requireAdmin(req)
    const b = await readJson(req)
    if (typeof b.name !== 'string' || !b.name.trim()) throw new HttpError(422, 'name must be a non-empty string')
    if (!Array.isArray(b.variants) || b.variants.length < 2) throw new HttpError(422, 'give at least two variants')
    if (experiments.some((x) => x.status === 'running')) throw new HttpError(409, 'an experiment is already running: stop it first')
    const e = {
      id: `exp-${experiments.length + 1}`,
      name: b.name,
      status: 'running',
      created_at: new Date().toISOString(),
      primary_metric: b.primary_metric ?? 'ctr',
      variants: b.variants.map((v) => ({ name: String(v.name), model: String(v.model), weight: Number(v.weight) })),
      counts: Object.fromEntries(b.variants.map((v) => [String(v.name), [0, 0]])),
    }
    experiments.unshift(e)
    return [200, publicExp(e)]
  }
  if ((mm = p.match(/^\/v1\/experiments\/([^/]+)\/(stop|results)$/))) {
    const e = experiments.find((x) => x.id === decodeURIComponent(mm[1]))
    if (!e) throw new HttpError(404, `unknown experiment ${mm[1]}: see GET /v1/experiments`)
    if (m === 'POST' && mm[2] === 'stop') {
      requireAdmin(req)
      e.status = 'stopped'
      return [200, publicExp(e)]
    }
    if (m === 'GET' && mm[2] === 'results') return [200, results(e)]
  }
  if (m === 'GET' && p === '/v1/monitoring/drift') return [200, drift()]
  throw new HttpError(404, `Not Found: ${m} ${p}`)
}

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.ico': 'image/x-icon' }

function serveStatic(req, res, url) {
  const rel = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '')
  let file = join(DIST, rel)
  if (!file.startsWith(DIST) || !existsSync(file) || statSync(file).isDirectory()) file = join(DIST, 'index.html') // SPA fallback
  if (!existsSync(file)) return send(res, 503, { detail: `web UI not built: run npm run build (looked in ${DIST})` })
  res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' })
  createReadStream(file).pipe(res)
}

export function startMockServer({ port = 8000, host = '127.0.0.1' } = {}) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`)
    const isApi = url.pathname.startsWith('/v1/') || ['/health', '/ready', '/metrics', '/openapi.json'].includes(url.pathname)
    if (!isApi) return serveStatic(req, res, url)
    try {
      if (DELAY_MS > 0) await new Promise((r) => setTimeout(r, DELAY_MS))
      const [status, body] = await api(req, url)
      send(res, status, body)
    } catch (err) {
      if (err instanceof HttpError) send(res, err.status, { detail: err.message })
      else {
        console.error(err)
        send(res, 500, { detail: `mock server error: ${err?.message ?? err}` })
      }
    }
  })
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolvePromise(server))
  })
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const arg = (name, def) => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : def
  }
  const port = Number(arg('--port', process.env.PORT ?? 8000))
  const host = arg('--host', '127.0.0.1')
  const server = await startMockServer({ port, host })
  const addr = server.address()
  console.log(`recloop mock API on http://${host}:${addr.port} (admin key "${ADMIN_KEY}", dist ${DIST})`)
  const stop = () => server.close(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
