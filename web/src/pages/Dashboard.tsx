import { useQuery } from '@tanstack/react-query'
import { useMemo } from 'react'
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts'
import { api } from '../api/client'
import type { OfflineReport, OnlineQuality as OnlineQualityData, Stats } from '../api/types'
import { Badge, Card, Empty, ErrorState, Loading, Stat, TableWrap, cx, stackTable, td, th } from '../components/ui'
import { DASH, fmtInt, fmtMs, fmtNum, fmtPct, isNum } from '../lib/format'
import { orderMetrics } from '../lib/metrics'
import { BUCKET_S, bucketize, clockLabel, timeTicks } from '../lib/timeseries'

export const STATS_REFRESH_MS = 3000
/** The recommendations p99 target of the README's speed table. */
export const P99_SLO_MS = 20
/** `LiveStats.latencies` keeps the last 5,000 requests; `positive_rate` the last 1,000 events. */
const LATENCY_WINDOW = 5000
const POSITIVE_WINDOW = 1000

export const EVENT_COLORS: Record<string, string> = {
  view: '#94a3b8',
  click: '#0ea5e9',
  like: '#10b981',
  dislike: '#ef4444',
  rate: '#f59e0b',
  purchase: '#8b5cf6',
}
const EXTRA_COLORS = ['#ec4899', '#14b8a6', '#6366f1', '#84cc16']
const MODEL_COLORS = ['#4f46e5', '#059669', '#d97706', '#db2777', '#0891b2']

export const OFFLINE_METRICS = ['NDCG@10', 'Recall@20', 'HR@10', 'Coverage@10'] as const

/** The event types of `stats`, in the order of {@link EVENT_COLORS}, then by name. */
export function eventTypes(stats: Stats): string[] {
  const seen = new Set<string>(Object.keys(stats.events_by_type ?? {}))
  for (const p of stats.series ?? []) for (const k of Object.keys(p.events ?? {})) seen.add(k)
  const order = Object.keys(EVENT_COLORS)
  return [...seen].sort((a, b) => {
    const ia = order.indexOf(a)
    const ib = order.indexOf(b)
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b)
  })
}

/**
 * Chart rows of the last 10 minutes ending at `now` (unix s): one per 5 s
 * bucket, empty buckets included; event counts flattened to `ev_<type>`.
 */
export function seriesRows(stats: Stats, now: number): { rows: Record<string, number | null>[]; types: string[] } {
  const types = eventTypes(stats)
  const rows = bucketize(stats.series ?? [], types, now).map((b) => {
    const row: Record<string, number | null> = {
      t: b.t,
      total: b.total,
      foldins_per_s: b.foldins_per_s,
      p50_ms: b.p50_ms,
      p99_ms: b.p99_ms,
      active_users: b.active_users,
    }
    for (const ty of types) row[`ev_${ty}`] = b.events[ty]
    return row
  })
  return { rows, types }
}

function colorOf(type: string, i: number): string {
  return EVENT_COLORS[type] ?? EXTRA_COLORS[i % EXTRA_COLORS.length]
}

function ChartBox({
  title,
  subtitle,
  testId,
  empty,
  emptyText = 'No data in the last 10 minutes yet.',
  children,
}: {
  title: string
  subtitle?: string
  testId: string
  empty: boolean
  emptyText?: React.ReactNode
  children: React.ReactElement
}) {
  return (
    <Card title={title} data-testid={testId} aria-label={title}>
      {subtitle && <p className="-mt-2 mb-2 text-xs text-slate-500">{subtitle}</p>}
      {empty ? (
        <Empty>{emptyText}</Empty>
      ) : (
        <div className="h-56 w-full" role="img" aria-label={`${title} chart`}>
          <ResponsiveContainer width="100%" height="100%" minWidth={0} initialDimension={{ width: 600, height: 224 }}>
            {children}
          </ResponsiveContainer>
        </div>
      )}
    </Card>
  )
}

const axis = { fontSize: 11, fill: '#64748b' }

function timeAxis(lo: number, hi: number) {
  return (
    <XAxis
      dataKey="t"
      type="number"
      scale="time"
      domain={[lo, hi]}
      ticks={timeTicks(lo, hi, 120)}
      tickFormatter={(v: number) => clockLabel(v)}
      tick={axis}
      allowDataOverflow
    />
  )
}

const tooltipTime = (v: unknown) => clockLabel(Number(v), true)

function LiveCharts({ stats, now }: { stats: Stats; now: number }) {
  const { rows, types } = useMemo(() => seriesRows(stats, now), [stats, now])
  const lo = (rows[0]?.t ?? now * 1000) as number
  const hi = ((rows[rows.length - 1]?.t ?? now * 1000) as number) + BUCKET_S * 1000
  const anyEvents = rows.some((r) => (r.total ?? 0) > 0)
  const anyFoldins = rows.some((r) => (r.foldins_per_s ?? 0) > 0)
  const anyLatency = rows.some((r) => r.p99_ms != null)
  const margin = { top: 8, right: 12, bottom: 0, left: 0 }
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <div className="lg:col-span-2">
        <ChartBox
          title="Events per 5 s, by type"
          subtitle="Last 10 minutes; a bar per 5-second bucket, empty buckets are zero."
          testId="events-chart"
          empty={!anyEvents}
        >
          <BarChart data={rows} margin={margin} barCategoryGap={0}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
            {timeAxis(lo, hi)}
            <YAxis allowDecimals={false} tick={axis} width={36} />
            <Tooltip labelFormatter={tooltipTime} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            {types.map((t, i) => (
              <Bar key={t} dataKey={`ev_${t}`} name={t} stackId="events" fill={colorOf(t, i)} isAnimationActive={false} />
            ))}
          </BarChart>
        </ChartBox>
      </div>
      <ChartBox
        title="Fold-ins per second"
        subtitle="User-vector updates after an event, averaged per 5-second bucket."
        testId="foldins-chart"
        empty={!anyFoldins}
      >
        <BarChart data={rows} margin={margin} barCategoryGap={0}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
          {timeAxis(lo, hi)}
          <YAxis tick={axis} width={36} />
          <Tooltip labelFormatter={tooltipTime} formatter={(v) => `${fmtNum(Number(v), 2)} / s`} />
          <Bar dataKey="foldins_per_s" name="fold-ins/s" fill="#6366f1" isAnimationActive={false} />
        </BarChart>
      </ChartBox>
      <ChartBox
        title="Recommendation latency"
        subtitle={`p50 and p99 per 5-second bucket, in ms; gaps = no request. Dashed: p99 target ${P99_SLO_MS} ms.`}
        testId="latency-chart"
        empty={!anyLatency}
      >
        <LineChart data={rows} margin={margin}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
          {timeAxis(lo, hi)}
          <YAxis tick={axis} width={48} domain={[0, (max: number) => Math.max(max, P99_SLO_MS * 1.2)]} tickFormatter={(v: number) => `${Math.round(v)} ms`} />
          <Tooltip labelFormatter={tooltipTime} formatter={(v) => fmtMs(Number(v))} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <ReferenceLine
            y={P99_SLO_MS}
            stroke="#dc2626"
            strokeDasharray="6 4"
            label={{ value: `p99 target ${P99_SLO_MS} ms`, position: 'insideTopRight', fontSize: 10, fill: '#dc2626' }}
          />
          <Line type="stepAfter" dataKey="p50_ms" name="p50" stroke="#0ea5e9" dot={{ r: 1.5 }} connectNulls={false} isAnimationActive={false} />
          <Line type="stepAfter" dataKey="p99_ms" name="p99" stroke="#ef4444" dot={{ r: 1.5 }} connectNulls={false} isAnimationActive={false} />
        </LineChart>
      </ChartBox>
    </div>
  )
}

/**
 * Rows of `/v1/monitoring/online` for a numeric time axis: one per bucket of the window (empty
 * buckets included, null where a version served no list), one `v<version>` column per version.
 */
export function onlineRows(data: OnlineQualityData, metric: 'ctr' | 'positive_rate'): { rows: Record<string, number | null>[]; tags: string[] } {
  const tags = [...new Set(data.series.map((p) => `v${p.version}`))].sort()
  const last = Math.floor(data.now / data.bucket_s) * data.bucket_s
  const byKey = new Map(data.series.map((p) => [`${p.t}|v${p.version}`, p]))
  const rows: Record<string, number | null>[] = []
  for (let t = last - data.window_s + data.bucket_s; t <= last; t += data.bucket_s) {
    const row: Record<string, number | null> = { t: t * 1000 }
    for (const tag of tags) row[tag] = byKey.get(`${t}|${tag}`)?.[metric] ?? null
    rows.push(row)
  }
  return { rows, tags }
}

const ONLINE_CHARTS = {
  ctr: {
    title: 'Online CTR per model version (last 60 min)',
    what: 'Share of the lists served in each minute that got a click or like',
    testId: 'online-ctr-chart',
  },
  positive_rate: {
    title: 'Online positive rate per model version (last 60 min)',
    what: 'Positive share (like, click, purchase, rating ≥ 4) of the events on recommended items in each minute',
    testId: 'online-chart',
  },
} as const

/** One online metric per minute and model version, from the server's window (GET /v1/monitoring/online). */
function OnlineChart({ metric }: { metric: 'ctr' | 'positive_rate' }) {
  const q = useQuery({ queryKey: ['online'], queryFn: ({ signal }) => api.online(signal), refetchInterval: 15_000 })
  const data = q.data
  const { rows, tags } = useMemo(() => (data ? onlineRows(data, metric) : { rows: [], tags: [] }), [data, metric])
  const lo = Number(rows[0]?.t ?? 0)
  const hi = Number(rows[rows.length - 1]?.t ?? 0)
  const totals = (data?.versions ?? [])
    .map((v) => `v${v.version}: ${fmtPct(v[metric])} over ${fmtInt(v.lists)} lists`)
    .join(' · ')
  const chart = ONLINE_CHARTS[metric]
  return (
    <ChartBox
      title={chart.title}
      subtitle={`${chart.what}, per model version that ranked the lists (server side, kept across page loads). ${totals}`}
      testId={chart.testId}
      empty={!data || data.series.length === 0}
      emptyText={q.isError ? 'Online quality unavailable.' : 'No lists served in the last hour yet.'}
    >
      <LineChart data={rows} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
        <XAxis dataKey="t" type="number" scale="time" domain={[lo, hi]} ticks={timeTicks(lo, hi, 600)} tickFormatter={(v: number) => clockLabel(v)} tick={axis} />
        <YAxis tick={axis} width={40} domain={[0, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
        <Tooltip labelFormatter={tooltipTime} formatter={(v) => fmtPct(Number(v))} />
        <Legend wrapperStyle={{ fontSize: 12 }} />
        {tags.map((tag, i) => (
          <Line key={tag} type="stepAfter" dataKey={tag} name={`model ${tag}`} stroke={MODEL_COLORS[i % MODEL_COLORS.length]} dot={{ r: 1.5 }} connectNulls={false} isAnimationActive={false} />
        ))}
      </LineChart>
    </ChartBox>
  )
}

/** Model rows of an offline report: the champion first, then the baselines by name. */
export function offlineModels(report: OfflineReport): [string, Record<string, number>][] {
  const names = Object.keys(report.models ?? {}).sort((a, b) =>
    a === 'champion' ? -1 : b === 'champion' ? 1 : a.localeCompare(b),
  )
  return names.map((n) => [n, report.models[n]?.metrics ?? {}])
}

export const P1_COMMAND = 'recloop train'
export const P2_COMMAND = 'recloop evaluate --protocol p2 --models champion,popular,itemknn,als,ease'

function MissingReport({ label, command, what }: { label: string; command: string; what: string }) {
  return (
    <Empty>
      No {label} report yet ({what}) — run <code className="rounded bg-slate-100 px-1 font-mono text-xs text-slate-800">{command}</code>
    </Empty>
  )
}

function OfflineTable({ label, report }: { label: string; report: OfflineReport | null }) {
  if (!report)
    return label === 'P2' ? (
      <MissingReport label="P2" command={P2_COMMAND} what="prequential replay of the held-out events" />
    ) : (
      <MissingReport label="P1" command={P1_COMMAND} what="temporal hold-out, written at training" />
    )
  const rows = offlineModels(report)
  const metrics = orderMetrics([...OFFLINE_METRICS])
  const best: Record<string, number> = {}
  for (const m of metrics) {
    const vals = rows.map(([, r]) => r[m]).filter(isNum)
    if (vals.length) best[m] = Math.max(...vals)
  }
  return (
    <TableWrap label={`${label} offline metrics`}>
      <table className={stackTable} data-testid={`offline-${label.toLowerCase()}`}>
        <caption className="mb-1 text-left text-sm font-semibold text-slate-700">
          {label} {report.protocol === 'p2' ? '(prequential replay)' : report.protocol === 'p1' ? '(temporal hold-out)' : ''}
        </caption>
        <thead>
          <tr>
            <th className={th} scope="col">
              Model
            </th>
            {metrics.map((m) => (
              <th key={m} className={cx(th, 'text-right normal-case')} scope="col">
                {m}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(([name, values]) => (
            <tr key={name} className={name === 'champion' ? 'bg-amber-50' : undefined}>
              <th scope="row" className={cx(td, 'text-left font-medium')}>
                {name} {name === 'champion' && <Badge tone="amber">served</Badge>}
              </th>
              {metrics.map((m) => (
                <td
                  key={m}
                  data-label={m}
                  className={cx(td, 'text-right font-mono tabular-nums', isNum(values[m]) && values[m] === best[m] && 'font-bold text-emerald-700')}
                >
                  {fmtNum(values[m], 4)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  )
}

function OfflineSection() {
  const q = useQuery({ queryKey: ['offline'], queryFn: ({ signal }) => api.offline(signal) })
  let body
  if (q.isPending) body = <Loading label="Loading offline metrics…" />
  else if (q.isError) body = <ErrorState error={q.error} title="Could not load offline metrics" onRetry={() => q.refetch()} />
  else if (!q.data.p1 && !q.data.p2)
    body = (
      <div className="flex flex-col gap-2">
        <MissingReport label="P1" command={P1_COMMAND} what="temporal hold-out, written at training" />
        <MissingReport label="P2" command={P2_COMMAND} what="prequential replay of the held-out events" />
      </div>
    )
  else {
    const names = new Set<string>()
    for (const r of [q.data.p1, q.data.p2]) if (r) for (const [n] of offlineModels(r)) names.add(n)
    const bars = [...names].map((n) => ({
      model: n,
      P1: q.data.p1?.models[n]?.metrics['NDCG@10'] ?? null,
      P2: q.data.p2?.models[n]?.metrics['NDCG@10'] ?? null,
    }))
    body = (
      <div className="grid gap-4 xl:grid-cols-2">
        <div className="flex min-w-0 flex-col gap-4">
          <OfflineTable label="P1" report={q.data.p1} />
          <OfflineTable label="P2" report={q.data.p2} />
        </div>
        <div className="min-w-0">
          <h3 className="mb-1 text-sm font-semibold text-slate-700">NDCG@10 per model (higher is better)</h3>
          <div className="h-64 w-full" role="img" aria-label="Bar chart of NDCG@10 per model" data-testid="ndcg-chart">
            <ResponsiveContainer width="100%" height="100%" minWidth={0} initialDimension={{ width: 500, height: 256 }}>
              <BarChart data={bars} margin={{ top: 5, right: 10, bottom: 0, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
                <XAxis dataKey="model" tick={{ fontSize: 11, fill: '#64748b' }} interval={0} />
                <YAxis tick={{ fontSize: 11, fill: '#64748b' }} width={40} />
                <Tooltip formatter={(v) => fmtNum(Number(v), 4)} />
                <Legend wrapperStyle={{ fontSize: 12 }} />
                {q.data.p1 && <Bar dataKey="P1" fill="#6366f1" isAnimationActive={false} />}
                {q.data.p2 && <Bar dataKey="P2" fill="#10b981" isAnimationActive={false} />}
              </BarChart>
            </ResponsiveContainer>
          </div>
        </div>
      </div>
    )
  }
  return (
    <Card
      title="Offline evaluation"
      aria-label="Offline evaluation"
      actions={q.data?.model_version != null && <Badge tone="indigo">champion v{String(q.data.model_version)}</Badge>}
    >
      {body}
    </Card>
  )
}

export function Dashboard() {
  const q = useQuery({
    queryKey: ['stats'],
    queryFn: ({ signal }) => api.stats(signal),
    refetchInterval: STATS_REFRESH_MS,
  })
  const s = q.data
  const now = q.dataUpdatedAt ? q.dataUpdatedAt / 1000 : Date.now() / 1000
  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <div>
          <h1 className="text-xl font-bold text-slate-900">Dashboard</h1>
          <p className="text-sm text-slate-600">Live serving stats of this server process, refreshed every 3 s.</p>
        </div>
        {s && (
          <span className="text-xs text-slate-500" aria-live="off">
            {q.isFetching ? 'refreshing…' : `updated ${new Date(q.dataUpdatedAt).toLocaleTimeString('en-GB')}`}
          </span>
        )}
      </div>
      {q.isPending ? (
        <Loading label="Loading stats…" />
      ) : q.isError && !s ? (
        <ErrorState error={q.error} title="Could not load stats" onRetry={() => q.refetch()} />
      ) : s ? (
        <>
          {q.isError && <ErrorState error={q.error} title="Refresh failed (showing the last stats)" />}
          <div className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
            <Stat label="Events" value={fmtInt(s.events_total)} testId="events-total" hint={`since server start · ${fmtInt(s.requests_total)} list requests`} />
            <Stat label="Active users" value={fmtInt(s.active_users)} testId="active-users" hint="distinct users since server start" />
            <Stat label="Fold-ins" value={fmtInt(s.foldins_total)} testId="foldins-total" hint="user-vector updates since start" />
            <Stat label="Latency p50" value={fmtMs(s.latency_ms?.p50)} testId="latency-p50" hint={`last ${fmtInt(LATENCY_WINDOW)} list requests`} />
            <Stat
              label="Latency p99"
              value={fmtMs(s.latency_ms?.p99)}
              testId="latency-p99"
              hint={`last ${fmtInt(LATENCY_WINDOW)} requests · target < ${P99_SLO_MS} ms`}
            />
            <Stat
              label="Positive on recs"
              value={fmtPct(s.online?.positive_rate)}
              testId="positive-rate"
              hint={`share of the last ≤ ${fmtInt(POSITIVE_WINDOW)} events on recommended items that are positive (${fmtInt(s.online?.recommended_events)} so far); not CTR`}
            />
          </div>
          <div className="flex flex-wrap gap-2 text-xs" aria-label="Events by type since server start">
            {Object.entries(s.events_by_type ?? {}).map(([t, n]) => (
              <Badge key={t}>
                <span aria-hidden="true" className="mr-1 inline-block h-2 w-2 rounded-full" style={{ background: EVENT_COLORS[t] ?? '#64748b' }} />
                {t}: {fmtInt(n)}
              </Badge>
            ))}
            <Badge tone="indigo">serving model {s.model_version != null ? `v${String(s.model_version)}` : DASH}</Badge>
          </div>
          <LiveCharts stats={s} now={now} />
          <OnlineChart metric="positive_rate" />
          <OnlineChart metric="ctr" />
        </>
      ) : null}
      <OfflineSection />
    </div>
  )
}

