import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useMemo } from 'react'
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { api } from '../api/client'
import type { DriftReport, DriftResponse, DriftScore } from '../api/types'
import { useAdminKey } from '../components/useAdminKey'
import { Badge, Button, Card, Empty, ErrorState, Loading, TableWrap, cx, stackTable, td, th } from '../components/ui'
import { checkTitle, isPValueKind, kindOfKey } from '../lib/driftNames'
import { fmtDateTime, fmtNum, fmtP, fmtTick, fmtTime, isNum, pText, toDate } from '../lib/format'
import { clockLabel } from '../lib/timeseries'

/** Kinds whose threshold applies to the statistic (ks/chi2 thresholds apply to the p-value). */
const STATISTIC_KINDS = new Set(['psi', 'delta', 'relative_drop'])

export interface ThresholdLine {
  value: number
  kind: string
  /** delta scores alert on |statistic| > threshold: draw ±value. */
  symmetric: boolean
}

function keyVariants(s: DriftScore): string[] {
  return [s.name, `${s.name}.${s.kind}`, `${s.name}:${s.kind}`, `${s.name}/${s.kind}`, `${s.kind}:${s.name}`, `${s.kind}.${s.name}`]
}

/**
 * The threshold to draw for a history score `key`: taken from the latest
 * report's score of that name whose threshold applies to the statistic
 * (psi, delta, relative_drop), else from `thresholds[key]`, else PSI's
 * alert level for PSI-looking keys; null when none applies.
 */
export function thresholdFor(
  key: string,
  latest: DriftReport | null,
  thresholds: Record<string, unknown>,
): ThresholdLine | null {
  const matches = (latest?.scores ?? []).filter((s) => keyVariants(s).includes(key))
  const usable = matches.find((s) => STATISTIC_KINDS.has(s.kind) && isNum(s.threshold))
  if (usable) return { value: usable.threshold, kind: usable.kind, symmetric: usable.kind === 'delta' }
  const direct = thresholds?.[key]
  if (isNum(direct)) return { value: direct, kind: 'threshold', symmetric: false }
  if (matches.length) return null
  const psi = thresholds?.psi_alert
  if (isNum(psi) && /psi|numeric\.|categorical\.|output\.scores/.test(key)) return { value: psi, kind: 'psi', symmetric: false }
  return null
}

/** Chart rows per score key from the drift history, oldest first. */
export function historyByKey(history: DriftResponse['history']): Map<string, { t: number; label: string; v: number; alert: boolean }[]> {
  const sorted = [...(history ?? [])]
    .map((h) => ({ ...h, ms: toDate(h.t)?.getTime() ?? 0 }))
    .sort((a, b) => a.ms - b.ms)
  const out = new Map<string, { t: number; label: string; v: number; alert: boolean }[]>()
  for (const h of sorted) {
    for (const [k, stat] of Object.entries(h.scores ?? {})) {
      const v = isPValueKind(kindOfKey(k)) ? (h.values?.[k] ?? stat) : stat
      if (!isNum(v)) continue
      if (!out.has(k)) out.set(k, [])
      out.get(k)!.push({ t: h.ms, label: fmtTime(h.t), v, alert: h.alert })
    }
  }
  return out
}

/** Smallest p-value drawn on the log axis (a p-value of 0 is drawn there). */
export const P_FLOOR = 1e-12

/** Whether the history of `key` holds p-values (rule on the p-value and the server sent them). */
export function plotsPValue(key: string, history: DriftResponse['history']): boolean {
  return isPValueKind(kindOfKey(key)) && (history ?? []).some((h) => isNum(h.values?.[key]))
}

function DriftChart({
  name,
  rows,
  threshold,
  latest,
  pValues,
}: {
  name: string
  rows: { t: number; label: string; v: number; alert: boolean }[]
  threshold: ThresholdLine | null
  latest: DriftReport | null
  pValues: boolean
}) {
  const kind = kindOfKey(name)
  const base = name.includes(':') ? name.slice(0, name.lastIndexOf(':')) : name
  const test = isPValueKind(kind) ? (latest?.scores ?? []).find((s) => s.name === base && s.kind === kind) : undefined
  const score = test ?? (latest?.scores ?? []).find((s) => s.key === name)
  const title = score?.label ?? checkTitle(name)
  const pLimit = pValues && test ? test.threshold : null
  const data = pValues ? rows.map((r) => ({ ...r, v: Math.max(r.v, P_FLOOR) })) : rows
  const values = data.map((r) => r.v)
  const lines = pLimit !== null ? [pLimit] : threshold ? (threshold.symmetric ? [threshold.value, -threshold.value] : [threshold.value]) : []
  const lo = Math.min(0, ...values, ...lines)
  const hi = Math.max(...values, ...lines)
  const pad = (hi - lo) * 0.1 || 0.1
  const isOver = (v: number) =>
    pLimit !== null ? v < pLimit : threshold !== null && (threshold.symmetric ? Math.abs(v) > threshold.value : v > threshold.value)
  const last = data[data.length - 1]
  const over = last !== undefined && isOver(last.v)
  const t0 = data[0]?.t ?? 0
  const t1 = Math.max(last?.t ?? 0, t0 + 60_000)
  const rule =
    pLimit !== null
      ? `p-value; alert below ${fmtNum(pLimit, 3)}`
      : threshold
        ? `alert above ${threshold.symmetric ? '±' : ''}${fmtNum(threshold.value)}`
        : test
          ? `latest ${pText(test.p_value)}, alert below ${fmtNum(test.threshold, 3)}`
          : 'test statistic'
  return (
    <div className="rounded-md border border-slate-200 p-2" data-testid="drift-chart" data-plotted={pValues ? 'p_value' : 'statistic'}>
      <div className="mb-1 flex flex-wrap items-center justify-between gap-1">
        <h3 className="text-sm font-medium text-slate-800" title={name}>
          {title}
        </h3>
        <span className="text-xs text-slate-500">
          {rule}
          {over && (
            <Badge tone="red" className="ml-1">
              over
            </Badge>
          )}
        </span>
      </div>
      {isPValueKind(kind) && !pValues && (
        <p className="text-[11px] text-slate-500">
          Plotted: the test statistic ({kind === 'ks' ? 'KS distance' : 'χ²'}); this history keeps no p-values, so the threshold
          applies to the latest report below.
        </p>
      )}
      <div className="h-36 w-full" role="img" aria-label={`${title} over time${lines.length ? ` against threshold ${lines[0]}` : ''}`}>
        <ResponsiveContainer width="100%" height="100%" minWidth={0} initialDimension={{ width: 300, height: 144 }}>
          <LineChart data={data} margin={{ top: 5, right: 8, bottom: 0, left: -18 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis
              dataKey="t"
              type="number"
              scale="time"
              domain={[t0, t1]}
              tickFormatter={(v: number) => clockLabel(v)}
              tick={{ fontSize: 10, fill: '#64748b' }}
              minTickGap={20}
            />
            {pValues ? (
              <YAxis scale="log" domain={[P_FLOOR, 1]} allowDataOverflow tick={{ fontSize: 10, fill: '#64748b' }} tickFormatter={(v: number) => v.toExponential(0)} ticks={[1e-12, 1e-9, 1e-6, 1e-3, 1]} />
            ) : (
              <YAxis tick={{ fontSize: 10, fill: '#64748b' }} domain={[lo < 0 ? lo - pad : 0, hi + pad]} tickFormatter={(v: number) => fmtTick(v)} />
            )}
            <Tooltip labelFormatter={(v) => clockLabel(Number(v), true)} formatter={(v) => (pValues ? pText(Number(v)) : fmtNum(Number(v), 4))} />
            {lines.map((y) => (
              <ReferenceLine key={y} y={y} stroke="#dc2626" strokeDasharray="5 4" ifOverflow="extendDomain" label={{ value: 'threshold', position: 'insideTopRight', fontSize: 10, fill: '#dc2626' }} />
            ))}
            <Line
              type="linear"
              dataKey="v"
              name={title}
              stroke="#4f46e5"
              isAnimationActive={false}
              dot={(p: { cx?: number; cy?: number; index?: number; payload?: { v: number } }) => {
                const bad = p.payload !== undefined && isOver(p.payload.v)
                return <circle key={`dot-${p.index}`} cx={p.cx} cy={p.cy} r={bad ? 3.5 : 2} fill={bad ? '#dc2626' : '#4f46e5'} stroke="none" />
              }}
            />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </div>
  )
}

/**
 * A test's p-value on a log scale from 1e-6 to 1 with its alert threshold
 * marked: left of the mark (red) alerts.
 */
export function PValueBar({ p, threshold }: { p: number | null; threshold: number }) {
  if (!isNum(p)) return <>{fmtP(p)}</>
  const pos = (x: number) => (Math.min(6, Math.max(0, -Math.log10(Math.max(x, 1e-6)))) / 6) * 100
  const alert = p < threshold
  return (
    <span className="inline-flex items-center justify-end gap-2" data-testid="p-bar" data-alert={alert}>
      <span className="relative inline-block h-2 w-20 rounded bg-slate-100" aria-hidden="true">
        <span className="absolute inset-y-0 right-0 rounded bg-red-100" style={{ left: `${100 - pos(threshold)}%` }} />
        <span className="absolute -top-0.5 h-3 w-0.5 bg-red-500" style={{ right: `${pos(threshold)}%` }} />
        <span
          className={cx('absolute top-0 h-2 w-2 -translate-x-1/2 rounded-full', alert ? 'bg-red-600' : 'bg-emerald-600')}
          style={{ left: `${100 - pos(p)}%` }}
        />
      </span>
      {fmtP(p)}
    </span>
  )
}

function statusOf(s: DriftScore): 'alert' | 'warn' | 'ok' {
  return s.alert ? 'alert' : s.warn ? 'warn' : 'ok'
}

function LatestReport({ report }: { report: DriftReport | null }) {
  if (!report) return <Empty>No drift report yet — the monitor needs at least 200 events and 50 served lists in its window, then checks periodically (or open <code className="font-mono">/v1/monitoring/drift?refresh=true</code>).</Empty>
  const alerts = report.scores.filter((s) => s.alert).length
  return (
    <div className="flex flex-col gap-3">
      {report.alert ? (
        <div role="alert" data-testid="drift-alert" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900">
          <strong>Drift alert:</strong> {alerts} of {report.scores.length} checks over their threshold (report of{' '}
          {fmtDateTime(report.created_at)}).
        </div>
      ) : (
        <div role="status" className="rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm text-emerald-900">
          No drift: all {report.scores.length} checks within thresholds (report of {fmtDateTime(report.created_at)}).
        </div>
      )}
      <TableWrap label="Latest drift report">
        <table className={stackTable} data-testid="drift-table">
          <thead>
            <tr>
              <th className={th} scope="col">Check</th>
              <th className={cx(th, 'text-right')} scope="col">Statistic</th>
              <th className={cx(th, 'text-right')} scope="col">p-value</th>
              <th className={cx(th, 'text-right')} scope="col">Alert when</th>
              <th className={th} scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {report.scores.map((s, i) => {
              const st = statusOf(s)
              return (
                <tr
                  key={`${s.name}-${s.kind}-${i}`}
                  data-testid="drift-row"
                  data-alert={s.alert}
                  className={st === 'alert' ? 'bg-red-50' : st === 'warn' ? 'bg-amber-50' : undefined}
                >
                  <th scope="row" className={cx(td, 'text-left font-medium')}>
                    {s.label ?? checkTitle(s.name, s.kind)}
                    <div className="font-mono text-[11px] font-normal text-slate-500">
                      {s.name}:{s.kind}
                    </div>
                  </th>
                  <td data-label="Statistic" className={cx(td, 'text-right font-mono tabular-nums')}>{fmtNum(s.statistic, 4)}</td>
                  <td data-label="p-value" className={cx(td, 'text-right font-mono tabular-nums')}>
                    {isPValueKind(s.kind) ? <PValueBar p={s.p_value} threshold={s.threshold} /> : fmtP(s.p_value)}
                  </td>
                  <td data-label="Alert when" className={cx(td, 'whitespace-nowrap text-right font-mono tabular-nums')}>
                    {isPValueKind(s.kind) ? 'p < ' : s.kind === 'delta' ? '|Δ| > ' : '> '}
                    {fmtNum(s.threshold, 3)}
                  </td>
                  <td data-label="Status" className={td}>
                    <Badge tone={st === 'alert' ? 'red' : st === 'warn' ? 'amber' : 'green'}>{st}</Badge>
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      </TableWrap>
    </div>
  )
}

/** Open alerts (one per check), the checks turned off, the window, and who acts on a trigger. */
function AlertStatus({ data }: { data: DriftResponse }) {
  const worker = data.retrain_worker
  const open = data.open_alerts ?? []
  return (
    <div className="flex flex-col gap-2 text-sm" data-testid="alert-status">
      {worker && !worker.acts_on_drift && (
        <div role="note" data-testid="no-worker" className="rounded-md border border-amber-300 bg-amber-50 p-2 text-amber-900">
          <strong>No retrain worker acts on drift triggers.</strong> {worker.message}
        </div>
      )}
      {data.window && (
        <p className="text-xs text-slate-600" data-testid="drift-window">
          Window: last {fmtNum(data.window.seconds / 60, 3)} min — {data.window.message}
        </p>
      )}
      {open.length > 0 && (
        <ul className="flex flex-col gap-1" data-testid="open-alerts">
          {open.map((a) => (
            <li key={a.key} className="break-words rounded border border-red-200 bg-red-50 p-2 text-red-900">
              <strong>{a.label}</strong>: drifting since {fmtTime(a.since)} · {a.count} check{a.count === 1 ? '' : 's'} · last seen {fmtTime(a.last_seen)}
            </li>
          ))}
        </ul>
      )}
      {(data.disabled_checks ?? []).map((d) => (
        <p key={d.name} className="break-words text-xs text-slate-600" data-testid="disabled-check">
          <strong>{d.label}</strong> not checked: {d.reason}
        </p>
      ))}
    </div>
  )
}

export function Monitoring() {
  const q = useQuery({ queryKey: ['drift'], queryFn: ({ signal }) => api.drift(signal), refetchInterval: 10_000 })
  const client = useQueryClient()
  const [adminKey] = useAdminKey()
  const checkNow = useMutation({ mutationFn: () => api.driftCheck(), onSuccess: (d) => client.setQueryData(['drift'], d) })
  const byKey = useMemo(() => historyByKey(q.data?.history ?? []), [q.data])
  return (
    <div className="flex flex-col gap-4">
      <div>
        <h1 className="text-xl font-bold text-slate-900">Monitoring</h1>
        <p className="text-sm text-slate-600">Data and output drift against the training reference, and retraining triggers.</p>
        <Button size="sm" className="mt-1" data-testid="check-now" disabled={!adminKey || checkNow.isPending} onClick={() => checkNow.mutate()} title={adminKey ? 'Run a drift check now' : 'Set the admin key in Settings'}>
          {checkNow.isPending ? 'Checking…' : 'Check now'}
        </Button>
        {checkNow.isError && <ErrorState error={checkNow.error} title="Check failed" />}
        {q.data?.reference_model_version ? (
          <p className="text-xs text-slate-500" data-testid="reference-version">
            Reference built from model v{q.data.reference_model_version}
          </p>
        ) : null}
      </div>
      {q.isPending ? (
        <Loading label="Loading drift monitoring…" />
      ) : q.isError ? (
        <ErrorState error={q.error} title="Could not load drift monitoring" onRetry={() => q.refetch()} />
      ) : (
        <>
          <AlertStatus data={q.data} />
          <Card title="Drift scores over time" aria-label="Drift scores over time">
            {byKey.size === 0 ? (
              <Empty>No drift history yet.</Empty>
            ) : (
              <div className="grid gap-3 sm:grid-cols-2 xl:grid-cols-3">{/* one chart per check */}
                {[...byKey.entries()].map(([k, rows]) => (
                  <DriftChart
                    key={k}
                    name={k}
                    rows={rows}
                    threshold={thresholdFor(k, q.data.latest, q.data.thresholds)}
                    latest={q.data.latest}
                    pValues={plotsPValue(k, q.data.history)}
                  />
                ))}
              </div>
            )}
          </Card>
          <div className="grid gap-4 xl:grid-cols-3">
            <div className="min-w-0 xl:col-span-2">
              <Card title="Latest report" aria-label="Latest drift report">
                <LatestReport report={q.data.latest} />
              </Card>
            </div>
            <div className="flex min-w-0 flex-col gap-4">
              <Card title="Retraining triggers" aria-label="Retraining triggers">
                {q.data.triggers.length === 0 ? (
                  <Empty>No retraining triggered yet.</Empty>
                ) : (
                  <ol className="flex flex-col gap-2 text-sm" data-testid="triggers">
                    {[...q.data.triggers]
                      .sort((a, b) => (toDate(b.t)?.getTime() ?? 0) - (toDate(a.t)?.getTime() ?? 0))
                      .map((t, i) => (
                        <li key={`${String(t.t)}-${i}`} className="rounded-md border border-slate-200 p-2">
                          <div className="flex flex-wrap items-center justify-between gap-1">
                            <span className="text-xs text-slate-500">{fmtDateTime(t.t)}</span>
                            <span
                              data-testid="trigger-outcome"
                              className={cx('min-w-0 break-words rounded px-2 text-xs', /promot/i.test(t.outcome) ? 'bg-emerald-100 text-emerald-800' : /fail|error|no worker/i.test(t.outcome) ? 'bg-amber-100 text-amber-900' : 'bg-slate-100 text-slate-700')}
                            >
                              {t.outcome}
                            </span>
                          </div>
                          <div className="mt-1 text-slate-700">{t.reason}</div>
                        </li>
                      ))}
                  </ol>
                )}
              </Card>
              <Card title="Thresholds" aria-label="Drift thresholds">
                {Object.keys(q.data.thresholds ?? {}).length === 0 ? (
                  <Empty>No thresholds reported.</Empty>
                ) : (
                  <dl className="grid grid-cols-2 gap-x-3 gap-y-1 text-sm">
                    {Object.entries(q.data.thresholds).map(([k, v]) => (
                      <div key={k} className="contents">
                        <dt className="break-all text-slate-600">{k}</dt>
                        <dd className="text-right font-mono">{isNum(v) ? fmtNum(v, 3) : JSON.stringify(v)}</dd>
                      </div>
                    ))}
                  </dl>
                )}
              </Card>
            </div>
          </div>
        </>
      )}
    </div>
  )
}
