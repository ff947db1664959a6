import { useQuery } from '@tanstack/react-query'
import { useMemo } from 'react'
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts'
import { api } from '../api/client'
import type { OfflineReport, Stats } from '../api/types'
import { Badge, Card, Empty, ErrorState, Loading, Stat, TableWrap, cx, td, th } from '../components/ui'
import { DASH, fmtInt, fmtMs, fmtNum, fmtPct, fmtTime, isNum } from '../lib/format'

export const STATS_REFRESH_MS = 3000

export const EVENT_COLORS: Record<string, string> = {
  view: '#94a3b8',
  click: '#0ea5e9',
  like: '#10b981',
  dislike: '#ef4444',
  rate: '#f59e0b',
  purchase: '#8b5cf6',
}
const EXTRA_COLORS = ['#ec4899', '#14b8a6', '#6366f1', '#84cc16']

export const OFFLINE_METRICS = ['NDCG@10', 'Recall@20', 'HR@10', 'Coverage@10'] as const

interface SeriesRow {
  t: number
  label: string
  foldins_per_s: number
  p50_ms: number | null
  p99_ms: number | null
  active_users: number
  [type: string]: number | string | null
}

/** Chart rows of `stats.series` plus the event types seen, in a stable order. */
export function seriesRows(stats: Stats): { rows: SeriesRow[]; types: string[] } {
  const series = [...(stats.series ?? [])].sort((a, b) => a.t - b.t)
  const seen = new Set<string>(Object.keys(stats.events_by_type ?? {}))
  for (const p of series) for (const k of Object.keys(p.events ?? {})) seen.add(k)
  const order = Object.keys(EVENT_COLORS)
  const types = [...seen].sort((a, b) => {
    const ia = order.indexOf(a)
    const ib = order.indexOf(b)
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b)
  })
  const rows = series.map((p, i) => {
    const next = series[i + 1]
    const prev = series[i - 1]
    const width = next ? next.t - p.t : prev ? p.t - prev.t : 5
    const row: SeriesRow = {
      t: p.t,
      label: fmtTime(p.t),
      foldins_per_s: (p.foldins ?? 0) / (width > 0 ? width : 5),
      p50_ms: isNum(p.p50_ms) ? p.p50_ms : null,
      p99_ms: isNum(p.p99_ms) ? p.p99_ms : null,
      active_users: p.active_users ?? 0,
    }
    for (const t of types) row[t] = p.events?.[t] ?? 0
    return row
  })
  return { rows, types }
}

function colorOf(type: string, i: number): string {
  return EVENT_COLORS[type] ?? EXTRA_COLORS[i % EXTRA_COLORS.length]
}

function ChartBox({
  title,
  testId,
  empty,
  children,
}: {
  title: string
  testId: string
  empty: boolean
  children: React.ReactElement
}) {
  return (
    <Card title={title} data-testid={testId} aria-label={title}>
      {empty ? (
        <Empty>No data in the last 10 minutes yet.</Empty>
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

function LiveCharts({ stats }: { stats: Stats }) {
  const { rows, types } = useMemo(() => seriesRows(stats), [stats])
  const empty = rows.length === 0
  const axis = { fontSize: 11, fill: '#64748b' }
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <div className="lg:col-span-2">
        <ChartBox title="Events over time by type (per 5 s)" testId="events-chart" empty={empty}>
          <AreaChart data={rows} margin={{ top: 5, right: 10, bottom: 0, left: -10 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis dataKey="label" tick={axis} minTickGap={24} />
            <YAxis allowDecimals={false} tick={axis} />
            <Tooltip />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            {types.map((t, i) => (
              <Area
                key={t}
                type="monotone"
                dataKey={t}
                name={t}
                stackId="events"
                stroke={colorOf(t, i)}
                fill={colorOf(t, i)}
                fillOpacity={0.35}
                isAnimationActive={false}
              />
            ))}
          </AreaChart>
        </ChartBox>
      </div>
      <ChartBox title="Fold-ins per second" testId="foldins-chart" empty={empty}>
        <AreaChart data={rows} margin={{ top: 5, right: 10, bottom: 0, left: -10 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="label" tick={axis} minTickGap={24} />
          <YAxis tick={axis} />
          <Tooltip formatter={(v) => fmtNum(Number(v), 2)} />
          <Area
            type="monotone"
            dataKey="foldins_per_s"
            name="fold-ins/s"
            stroke="#6366f1"
            fill="#6366f1"
            fillOpacity={0.25}
            isAnimationActive={false}
          />
        </AreaChart>
      </ChartBox>
      <ChartBox title="Recommendation latency (ms)" testId="latency-chart" empty={empty}>
        <LineChart data={rows} margin={{ top: 5, right: 10, bottom: 0, left: -10 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="label" tick={axis} minTickGap={24} />
          <YAxis tick={axis} />
          <Tooltip formatter={(v) => fmtMs(Number(v))} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Line type="monotone" dataKey="p50_ms" name="p50" stroke="#0ea5e9" dot={false} connectNulls isAnimationActive={false} />
          <Line type="monotone" dataKey="p99_ms" name="p99" stroke="#ef4444" dot={false} connectNulls isAnimationActive={false} />
        </LineChart>
      </ChartBox>
    </div>
  )
}

/** Model rows of an offline report: the champion first, then the baselines by name. */
export function offlineModels(report: OfflineReport): [string, Record<string, number>][] {
  const names = Object.keys(report.models ?? {}).sort((a, b) =>
    a === 'champion' ? -1 : b === 'champion' ? 1 : a.localeCompare(b),
  )
  return names.map((n) => [n, report.models[n]?.metrics ?? {}])
}

function OfflineTable({ label, report }: { label: string; report: OfflineReport | null }) {
  if (!report) return <Empty>No {label} report yet (run the offline evaluation).</Empty>
  const rows = offlineModels(report)
  const best: Record<string, number> = {}
  for (const m of OFFLINE_METRICS) {
    const vals = rows.map(([, r]) => r[m]).filter(isNum)
    if (vals.length) best[m] = Math.max(...vals)
  }
  return (
    <TableWrap label={`${label} offline metrics`}>
      <table className="w-full text-sm" data-testid={`offline-${label.toLowerCase()}`}>
        <caption className="mb-1 text-left text-sm font-semibold text-slate-700">
          {label} {report.protocol === 'p2' ? '(prequential replay)' : report.protocol === 'p1' ? '(temporal hold-out)' : ''}
        </caption>
        <thead>
          <tr>
            <th className={th} scope="col">
              Model
            </th>
            {OFFLINE_METRICS.map((m) => (
              <th key={m} className={cx(th, 'text-right')} scope="col">
                {m}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(([name, metrics]) => (
            <tr key={name} className={name === 'champion' ? 'bg-amber-50' : undefined}>
              <th scope="row" className={cx(td, 'text-left font-medium')}>
                {name} {name === 'champion' && <Badge tone="amber">served</Badge>}
              </th>
              {OFFLINE_METRICS.map((m) => (
                <td
                  key={m}
                  className={cx(td, 'text-right font-mono tabular-nums', isNum(metrics[m]) && metrics[m] === best[m] && 'font-bold text-emerald-700')}
                >
                  {fmtNum(metrics[m], 4)}
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
  else if (!q.data.p1 && !q.data.p2) body = <Empty>No offline evaluation reports yet.</Empty>
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
        <div className="flex flex-col gap-4">
          <OfflineTable label="P1" report={q.data.p1} />
          <OfflineTable label="P2" report={q.data.p2} />
        </div>
        <div>
          <h3 className="mb-1 text-sm font-semibold text-slate-700">NDCG@10 per model</h3>
          <div className="h-64 w-full" role="img" aria-label="Bar chart of NDCG@10 per model" data-testid="ndcg-chart">
            <ResponsiveContainer width="100%" height="100%" minWidth={0} initialDimension={{ width: 500, height: 256 }}>
              <BarChart data={bars} margin={{ top: 5, right: 10, bottom: 0, left: -10 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                <XAxis dataKey="model" tick={{ fontSize: 11, fill: '#64748b' }} interval={0} />
                <YAxis tick={{ fontSize: 11, fill: '#64748b' }} />
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
  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <div>
          <h1 className="text-xl font-bold text-slate-900">Dashboard</h1>
          <p className="text-sm text-slate-600">Live serving stats, refreshed every 3 s.</p>
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
            <Stat label="Events" value={fmtInt(s.events_total)} testId="events-total" hint={`${fmtInt(s.requests_total)} requests`} />
            <Stat label="Active users" value={fmtInt(s.active_users)} testId="active-users" />
            <Stat label="Fold-ins" value={fmtInt(s.foldins_total)} testId="foldins-total" />
            <Stat label="Latency p50" value={fmtMs(s.latency_ms?.p50)} testId="latency-p50" />
            <Stat label="Latency p99" value={fmtMs(s.latency_ms?.p99)} testId="latency-p99" />
            <Stat
              label="Positive feedback"
              value={fmtPct(s.online?.positive_rate)}
              testId="positive-rate"
              hint={`online, ${fmtInt(s.online?.recommended_events)} events on recs`}
            />
          </div>
          <div className="flex flex-wrap gap-2 text-xs" aria-label="Events by type">
            {Object.entries(s.events_by_type ?? {}).map(([t, n]) => (
              <Badge key={t}>
                <span aria-hidden="true" className="mr-1 inline-block h-2 w-2 rounded-full" style={{ background: EVENT_COLORS[t] ?? '#64748b' }} />
                {t}: {fmtInt(n)}
              </Badge>
            ))}
            <Badge tone="indigo">model {s.model_version != null ? `v${String(s.model_version)}` : DASH}</Badge>
          </div>
          <LiveCharts stats={s} />
        </>
      ) : null}
      <OfflineSection />
    </div>
  )
}
