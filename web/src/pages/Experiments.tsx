import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useId, useMemo, useState } from 'react'
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { api } from '../api/client'
import type { Experiment, ExperimentCreate, ExperimentMetric, ExperimentResults, ExperimentVariant, ModelsResponse } from '../api/types'
import { ConfirmDialog } from '../components/ConfirmDialog'
import { setSwapTarget } from '../components/swap'
import { useAdminKey } from '../components/useAdminKey'
import { Badge, Button, Card, Empty, ErrorState, Loading, TableWrap, cx, inputCls, stackTable, td, th } from '../components/ui'
import { DASH, fmtDateTime, fmtInt, fmtInterval, fmtP, fmtPct, isNum, pText } from '../lib/format'
import { addSamples, pivot, readSamples } from '../lib/samples'
import { clockLabel } from '../lib/timeseries'
import { METRIC_LABELS, focusVariant, metricLabel, srmState, verdict } from '../lib/verdict'

export const RESULTS_REFRESH_MS = 5000
const METRICS = ['ctr', 'like_rate', 'positive_rate', 'mean_rating'] as const satisfies readonly ExperimentMetric[]
const VARIANT_COLORS = ['#64748b', '#4f46e5', '#059669', '#d97706', '#db2777']

/** The body the form sends: the server's `ExperimentSpec` with the metric and every weight set. */
export type ExperimentSpecBody = Omit<ExperimentCreate, 'primary_metric' | 'variants'> & { primary_metric: ExperimentMetric; variants: ExperimentVariant[] }

/** A relative lift (fraction) as a signed percentage: 0.052 -> "+5.2%". */
export function fmtLift(x: unknown): string {
  if (!isNum(x)) return DASH
  return `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`
}

const fmtRate = (metric: string, x: unknown) => (metric === 'mean_rating' ? (isNum(x) ? x.toFixed(2) : DASH) : fmtPct(x, 2))

/** The registry version a variant's model names ("3", or an alias resolved through the listing). */
export function variantVersion(model: string, models: ModelsResponse | undefined): string | null {
  if (/^\d+$/.test(model)) return model
  if (model === 'popular' || !models) return null
  if (model === 'champion' && models.champion != null) return String(models.champion)
  const v = models.versions.find((x) => (x.aliases ?? []).includes(model))
  return v ? String(v.version) : null
}

/** Horizontal bar of the lift's 95% CI around zero, GrowthBook style. */
export function UpliftBar({ lift, ci }: { lift: number | null; ci: [number | null, number | null] | null }) {
  const lo = ci?.[0]
  const hi = ci?.[1]
  if (!isNum(lift) || !isNum(lo) || !isNum(hi)) return <span className="text-xs text-slate-500">no interval yet</span>
  const m = Math.max(Math.abs(lo), Math.abs(hi), Math.abs(lift), 0.02) * 1.15
  const x = (v: number) => ((v + m) / (2 * m)) * 100
  const tone = lo > 0 ? 'good' : hi < 0 ? 'bad' : 'unclear'
  const fill = tone === 'good' ? '#10b981' : tone === 'bad' ? '#ef4444' : '#94a3b8'
  return (
    <div data-testid="uplift-bar" data-tone={tone} className="w-full">
      <svg viewBox="0 0 100 14" preserveAspectRatio="none" className="h-5 w-full" role="img" aria-label={`Lift ${fmtLift(lift)}, 95% CI ${fmtLift(lo)} to ${fmtLift(hi)}`}>
        <rect x="0" y="6" width="100" height="2" fill="#e2e8f0" />
        <rect x={x(lo)} y="3" width={Math.max(x(hi) - x(lo), 0.5)} height="8" rx="2" fill={fill} opacity="0.55" />
        <line x1="50" x2="50" y1="0" y2="14" stroke="#334155" strokeWidth="0.6" />
        <rect x={x(lift) - 0.6} y="1" width="1.2" height="12" fill={fill} />
      </svg>
      <div className="flex justify-between text-[10px] text-slate-500">
        <span>{fmtLift(-m)}</span>
        <span>0 (no difference)</span>
        <span>{fmtLift(m)}</span>
      </div>
    </div>
  )
}

function SrmBadge({ r }: { r: ExperimentResults }) {
  const s = srmState(r)
  return (
    <span data-testid="srm-status" data-state={s}>
      {s === 'mismatch' ? (
        <Badge tone="red">mismatch</Badge>
      ) : s === 'ok' ? (
        <Badge tone="green">ok</Badge>
      ) : (
        <Badge tone="gray">not enough data</Badge>
      )}{' '}
      {s !== 'no-data' && <span className="whitespace-nowrap font-mono text-xs">{pText(r.srm?.p_value)}</span>}
    </span>
  )
}

function CumulativeChart({ id, metric, samples }: { id: string; metric: string; samples: ReturnType<typeof readSamples> }) {
  const { rows, tags } = useMemo(() => pivot(samples), [samples])
  if (rows.length < 2)
    return <Empty>The cumulative chart fills in as this page samples the results every {RESULTS_REFRESH_MS / 1000} s.</Empty>
  const lo = rows[0].t
  const hi = Math.max(rows[rows.length - 1].t, lo + 30_000)
  return (
    <div className="h-48 w-full" role="img" aria-label={`Cumulative ${metricLabel(metric)} per variant`} data-testid="cumulative-chart" data-experiment={id}>
      <ResponsiveContainer width="100%" height="100%" minWidth={0} initialDimension={{ width: 500, height: 192 }}>
        <LineChart data={rows} margin={{ top: 5, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
          <XAxis dataKey="t" type="number" scale="time" domain={[lo, hi]} tickFormatter={(v: number) => clockLabel(v)} tick={{ fontSize: 10, fill: '#64748b' }} minTickGap={40} />
          <YAxis tick={{ fontSize: 10, fill: '#64748b' }} width={40} tickFormatter={(v: number) => (metric === 'mean_rating' ? v.toFixed(1) : `${Math.round(v * 100)}%`)} />
          <Tooltip labelFormatter={(v) => clockLabel(Number(v), true)} formatter={(v) => fmtRate(metric, Number(v))} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          {tags.map((t, i) => (
            <Line key={t} type="stepAfter" dataKey={t} stroke={VARIANT_COLORS[i % VARIANT_COLORS.length]} dot={false} isAnimationActive={false} connectNulls />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  )
}

function PromoteWinner({ r, metric }: { r: ExperimentResults; metric: string }) {
  const qc = useQueryClient()
  const models = useQuery({ queryKey: ['models'], queryFn: ({ signal }) => api.models(signal) })
  const [open, setOpen] = useState(false)
  const v = verdict(r, metric)
  const version = v.winner ? variantVersion(v.winner.model, models.data) : null
  const isChampion = version != null && models.data?.champion != null && String(models.data.champion) === version
  const promote = useMutation({
    mutationFn: () => api.promote(version!),
    onSuccess: (res) => setSwapTarget(String(res.champion)),
    onSettled: () => {
      setOpen(false)
      void qc.invalidateQueries({ queryKey: ['models'] })
      void qc.invalidateQueries({ queryKey: ['ready'] })
    },
  })
  if (!v.winner) return null
  if (!version)
    return <p className="text-xs text-slate-600">The winner serves “{v.winner.model}”, which is not a registry version: nothing to promote.</p>
  if (isChampion && !promote.isSuccess)
    return <p className="text-xs text-slate-600">The winner already serves the champion (v{version}).</p>
  return (
    <div className="flex flex-wrap items-center gap-2">
      {promote.isSuccess ? (
        <span role="status" className="text-sm text-emerald-800">
          Promoted v{String(promote.data.champion)} to champion.
        </span>
      ) : (
        <Button variant="primary" size="sm" onClick={() => setOpen(true)} data-testid="promote-winner">
          Promote winner {v.winner.name} (v{version})
        </Button>
      )}
      {promote.isError && <ErrorState error={promote.error} title="Could not promote" />}
      <ConfirmDialog
        open={open}
        title={`Promote v${version} to champion?`}
        confirmLabel={`Promote v${version}`}
        tone="primary"
        busy={promote.isPending}
        onCancel={() => setOpen(false)}
        onConfirm={() => promote.mutate()}
      >
        Variant {v.winner.name} won on {metricLabel(metric)}. Every user outside experiments gets v{version}'s lists once the
        server picks it up.
      </ConfirmDialog>
    </div>
  )
}

function Results({ exp }: { exp: Experiment }) {
  const key = `exp-${String(exp.id)}`
  const [samples, setSamples] = useState(() => readSamples(key))
  const q = useQuery({
    queryKey: ['experiments', String(exp.id), 'results'],
    queryFn: async ({ signal }) => {
      const r = await api.experimentResults(exp.id, signal)
      const t = Date.now()
      const pts = r.variants.filter((v) => isNum(v.rate) && v.exposures > 0).map((v) => ({ t, tag: v.name, v: v.rate as number }))
      if (pts.length) setSamples(addSamples(key, pts))
      return r
    },
    refetchInterval: exp.status === 'running' ? RESULTS_REFRESH_MS : false,
  })
  if (q.isPending) return <Loading label="Loading results…" />
  if (q.isError) return <ErrorState error={q.error} title="Could not load results" onRetry={() => q.refetch()} />
  const r: ExperimentResults = q.data
  const metric = exp.primary_metric
  const total = r.variants.reduce((s, v) => s + (v.exposures ?? 0), 0)
  const v = verdict(r, metric)
  const control = r.variants[0]
  const focus = focusVariant(r)
  const toneCls = {
    green: 'border-emerald-300 bg-emerald-50 text-emerald-900',
    red: 'border-red-300 bg-red-50 text-red-900',
    amber: 'border-amber-300 bg-amber-50 text-amber-900',
    blue: 'border-sky-300 bg-sky-50 text-sky-900',
    gray: 'border-slate-300 bg-slate-50 text-slate-800',
  }[v.tone]
  return (
    <div className="flex flex-col gap-3">
      {r.srm?.mismatch && (
        <div role="alert" data-testid="srm-warning" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900">
          <strong>Sample ratio mismatch</strong> ({pText(r.srm.p_value)}): exposures do not match the configured weights, so
          assignment or logging is broken and these results are not trustworthy.
        </div>
      )}
      <div className={cx('rounded-md border p-3 text-sm', toneCls)} data-testid="verdict">
        <p className="font-semibold">{v.headline}</p>
        {v.lift && (
          <p className="mt-1" data-testid="lift-sentence">
            {v.lift}
          </p>
        )}
      </div>
      {total === 0 ? (
        <Empty>No exposures yet — request recommendations (Playground) to put users into variants.</Empty>
      ) : (
        <>
          <TableWrap label={`Results of ${r.name}`}>
            <table className={stackTable} data-testid="results-table">
              <thead>
                <tr>
                  <th className={th} scope="col">Variant</th>
                  <th className={cx(th, 'text-right')} scope="col">Lists served</th>
                  <th className={cx(th, 'text-right')} scope="col">{metric === 'mean_rating' ? 'Ratings' : 'Successes'}</th>
                  <th className={cx(th, 'text-right')} scope="col">{metricLabel(metric)}</th>
                  <th className={cx(th, 'text-right')} scope="col">95% CI</th>
                </tr>
              </thead>
              <tbody>
                {r.variants.map((x, i) => (
                  <tr key={x.name}>
                    <th scope="row" className={cx(td, 'text-left font-medium')}>
                      <span aria-hidden="true" className="mr-1 inline-block h-2 w-2 rounded-full" style={{ background: VARIANT_COLORS[i % VARIANT_COLORS.length] }} />
                      {x.name} <span className="font-normal text-slate-500">· {x.model}</span>{' '}
                      {i === 0 ? <Badge>baseline</Badge> : focus?.name === x.name && r.variants.length > 2 ? <Badge tone="indigo">compared</Badge> : null}
                    </th>
                    <td data-label="Lists served" className={cx(td, 'text-right tabular-nums')}>{fmtInt(x.exposures)}</td>
                    <td data-label={metric === 'mean_rating' ? 'Ratings' : 'Successes'} className={cx(td, 'text-right tabular-nums')}>{fmtInt(x.successes)}</td>
                    <td data-label={metricLabel(metric)} className={cx(td, 'text-right font-mono tabular-nums')}>{fmtRate(metric, x.rate)}</td>
                    <td data-label="95% CI" className={cx(td, 'whitespace-nowrap text-right font-mono tabular-nums')}>
                      {fmtInterval(x.ci as [number, number] | null, (y) => fmtRate(metric, y))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          <div className="grid gap-3 md:grid-cols-2">
            <div className="min-w-0">
              <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">
                Lift of {focus?.name ?? 'B'} over {control?.name ?? 'A'} ({focus?.name ?? 'B'} ÷ {control?.name ?? 'A'} − 1)
              </h3>
              <div className="mt-1 flex items-baseline gap-2">
                <span className="font-mono text-lg font-semibold" data-testid="lift">{fmtLift(r.lift)}</span>
                <span className="whitespace-nowrap font-mono text-xs text-slate-600">95% CI {fmtInterval(r.lift_ci as [number, number] | null, fmtLift)}</span>
              </div>
              <UpliftBar lift={r.lift} ci={r.lift_ci} />
            </div>
            <div className="min-w-0">
              <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Cumulative {metricLabel(metric)} per variant</h3>
              <CumulativeChart id={String(exp.id)} metric={metric} samples={samples} />
            </div>
          </div>
        </>
      )}
      <dl className="grid grid-cols-2 gap-x-4 gap-y-2 text-sm sm:grid-cols-4">
        <div>
          <dt className="text-xs uppercase tracking-wide text-slate-500">p-value (fixed horizon)</dt>
          <dd className="font-mono">{fmtP(r.p_value)}</dd>
        </div>
        <div>
          <dt className="text-xs uppercase tracking-wide text-slate-500">Sequential test</dt>
          <dd data-testid="sequential-status">
            {r.sequential?.reject ? <Badge tone="green">boundary crossed</Badge> : <Badge tone="blue">continue</Badge>}{' '}
            <span className="whitespace-nowrap font-mono text-xs">{pText(r.sequential?.p_value)}</span>
          </dd>
        </div>
        <div>
          <dt className="text-xs uppercase tracking-wide text-slate-500">SRM check</dt>
          <dd>
            <SrmBadge r={r} />
          </dd>
        </div>
        <div>
          <dt className="text-xs uppercase tracking-wide text-slate-500">Decision</dt>
          <dd>
            <Badge tone={r.decision?.startsWith('winner') ? 'green' : r.decision === 'running' ? 'blue' : 'gray'} data-testid="decision">
              {r.decision ?? DASH}
            </Badge>
          </dd>
        </div>
      </dl>
      <PromoteWinner r={r} metric={metric} />
    </div>
  )
}

function ExperimentCard({ exp }: { exp: Experiment }) {
  const qc = useQueryClient()
  const [confirm, setConfirm] = useState(false)
  const stop = useMutation({
    mutationFn: () => api.stopExperiment(exp.id),
    onSettled: () => {
      setConfirm(false)
      void qc.invalidateQueries({ queryKey: ['experiments'] })
    },
  })
  const running = exp.status === 'running'
  const totalW = exp.variants.reduce((s, v) => s + (v.weight ?? 0), 0) || 1
  return (
    <Card
      data-testid="experiment"
      data-experiment-id={String(exp.id)}
      aria-label={`Experiment ${exp.name}`}
      title={
        <span className="flex flex-wrap items-center gap-2">
          <span className="break-all">{exp.name}</span>
          <Badge tone={running ? 'blue' : 'gray'}>{exp.status}</Badge>
        </span>
      }
      actions={
        running &&
        (confirm ? (
          <>
            <Button size="sm" variant="danger" onClick={() => stop.mutate()} disabled={stop.isPending}>
              Confirm stop
            </Button>
            <Button size="sm" onClick={() => setConfirm(false)}>
              Cancel
            </Button>
          </>
        ) : (
          <Button size="sm" variant="danger" onClick={() => setConfirm(true)} aria-label={`Stop experiment ${exp.name}`} data-testid="stop-button">
            ■ Stop
          </Button>
        ))
      }
    >
      <div className="mb-3 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600">
        <span>id {String(exp.id)}</span>
        <span>created {fmtDateTime(exp.created_at)}</span>
        <span>
          primary metric {metricLabel(exp.primary_metric)} ({METRIC_LABELS[exp.primary_metric]?.help ?? exp.primary_metric})
        </span>
        <span>
          split {exp.variants.map((v) => `${v.name} → ${v.model} (${Math.round((v.weight / totalW) * 100)}%)`).join(' · ')}
        </span>
      </div>
      {stop.isError && (
        <div className="mb-3">
          <ErrorState error={stop.error} title="Could not stop the experiment" />
        </div>
      )}
      <Results exp={exp} />
    </Card>
  )
}

type VariantDraft = { name: string; model: string; weight: string }

const DEFAULT_VARIANTS: VariantDraft[] = [
  { name: 'A', model: 'champion', weight: '0.5' },
  { name: 'B', model: 'popular', weight: '0.5' },
]

/** Problems of a create-experiment body, or [] when it can be sent. */
export function validateExperiment(body: ExperimentSpecBody): string[] {
  const errs: string[] = []
  if (!body.name.trim()) errs.push('Give the experiment a name.')
  if (!body.primary_metric.trim()) errs.push('Choose a primary metric.')
  const names = body.variants.map((v) => v.name.trim())
  if (names.some((n) => !n)) errs.push('Every variant needs a name.')
  else if (names.some((n) => !/^[A-Za-z0-9_.-]{1,32}$/.test(n))) errs.push('Variant names: letters, digits, _ . - (at most 32).')
  if (new Set(names).size !== names.length) errs.push('Variant names must differ.')
  if (body.variants.some((v) => !v.model.trim())) errs.push('Every variant needs a model.')
  if ((body.mode ?? 'ab') === 'ab' && body.variants.some((v) => !(v.weight > 0))) errs.push('Weights must be positive numbers.')
  if (body.variants.length < 2 || body.variants.length > 5) errs.push('Use 2 to 5 variants.')
  if ((body.guardrails ?? []).includes(body.primary_metric)) errs.push('A guardrail must differ from the primary metric.')
  if (body.mode === 'interleaving' && (body.variants.length !== 2 || body.primary_metric !== 'ctr'))
    errs.push('Interleaving compares exactly 2 variants on click-through (ctr).')
  return errs
}

/** Model choices of a variant: aliases first (with the version they point at), then every version. */
export function modelOptions(models: ModelsResponse | undefined): { value: string; label: string }[] {
  const out = [{ value: 'champion', label: `champion${models?.champion != null ? ` (now v${String(models.champion)})` : ''}` }]
  const chall = models?.versions.find((v) => (v.aliases ?? []).includes('challenger'))
  if (chall) out.push({ value: 'challenger', label: `challenger (now v${String(chall.version)})` })
  out.push({ value: 'popular', label: 'popular (most popular unseen, no model)' })
  for (const v of models?.versions ?? []) {
    const ndcg = v.metrics?.['NDCG@10']
    out.push({ value: String(v.version), label: `v${String(v.version)}${isNum(ndcg) ? ` · NDCG@10 ${ndcg.toFixed(3)}` : ''}` })
  }
  return out
}

function Field({ label, htmlFor, children, hint }: { label: string; htmlFor?: string; children: React.ReactNode; hint?: string }) {
  return (
    <div className="flex min-w-0 flex-col gap-1">
      <label htmlFor={htmlFor} className="text-sm font-medium text-slate-700">
        {label}
      </label>
      {children}
      {hint && <span className="text-xs text-slate-500">{hint}</span>}
    </div>
  )
}

function CreateForm() {
  const qc = useQueryClient()
  const [adminKey] = useAdminKey()
  const [name, setName] = useState('')
  const [metric, setMetric] = useState<ExperimentMetric>('ctr')
  const [mode, setMode] = useState<'ab' | 'bandit' | 'interleaving'>('ab')
  const [guardrails, setGuardrails] = useState<ExperimentMetric[]>([])
  const [autoPromote, setAutoPromote] = useState(false)
  const [alpha, setAlpha] = useState('0.05')
  const [windowMin, setWindowMin] = useState('30')
  const [planned, setPlanned] = useState('2000')
  const [baseline, setBaseline] = useState('0.1')
  const [minUsers, setMinUsers] = useState('50')
  const [variants, setVariants] = useState<VariantDraft[]>(DEFAULT_VARIANTS)
  const [errors, setErrors] = useState<string[]>([])
  const models = useQuery({ queryKey: ['models'], queryFn: ({ signal }) => api.models(signal) })
  const ids = { name: useId(), metric: useId(), alpha: useId(), win: useId(), planned: useId(), base: useId(), min: useId() }
  const create = useMutation({
    mutationFn: (body: ExperimentSpecBody) => api.createExperiment(body),
    onSuccess: () => {
      setName('')
      void qc.invalidateQueries({ queryKey: ['experiments'] })
    },
  })
  const set = (i: number, patch: Partial<VariantDraft>) => setVariants((vs) => vs.map((v, j) => (j === i ? { ...v, ...patch } : v)))
  const options = modelOptions(models.data)
  const versioned = variants.some((v) => /^\d+$/.test(v.model))

  return (
    <Card title="New experiment" aria-label="Create an experiment">
      <form
        className="flex flex-col gap-3"
        data-testid="create-experiment-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault()
          const body: ExperimentSpecBody = {
            name: name.trim(),
            primary_metric: metric,
            variants: variants.map((v): ExperimentVariant => ({ name: v.name.trim(), model: v.model, weight: mode === 'ab' ? Number(v.weight) : 1 })),
          }
          if (mode !== 'ab') body.mode = mode
          if (guardrails.length) body.guardrails = guardrails
          if (autoPromote) body.auto_promote = true
          if (alpha !== '0.05') body.alpha = Number(alpha)
          if (windowMin !== '30') body.attribution_window_s = Number(windowMin) * 60
          if (planned !== '2000') body.planned_exposures = Number(planned)
          if (baseline !== '0.1') body.baseline_rate = Number(baseline)
          if (minUsers !== '50') body.min_users = Number(minUsers)
          const errs = validateExperiment(body)
          setErrors(errs)
          if (!errs.length) create.mutate(body)
        }}
      >
        <Field label="Name" htmlFor={ids.name}>
          <input id={ids.name} data-testid="experiment-name" className={inputCls} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. ease-vs-popular" required />
        </Field>
        <fieldset className="flex flex-col gap-1">
          <legend className="mb-1 text-sm font-medium text-slate-700">Traffic allocation</legend>
          <label className="flex items-start gap-2 text-sm">
            <input type="radio" name="mode" className="mt-1" checked={mode === 'ab'} onChange={() => setMode('ab')} data-testid="mode-ab" />
            <span>A/B test — fixed weights, fixed-horizon and sequential tests, SRM check</span>
          </label>
          <label className="flex items-start gap-2 text-sm">
            <input type="radio" name="mode" className="mt-1" checked={mode === 'bandit'} onChange={() => setMode('bandit')} data-testid="mode-bandit" />
            <span>Bandit — Thompson sampling moves traffic to the better variant on the primary metric (weights ignored)</span>
          </label>
          <label className="flex items-start gap-2 text-sm">
            <input type="radio" name="mode" className="mt-1" checked={mode === 'interleaving'} onChange={() => setMode('interleaving')} data-testid="mode-interleaving" />
            <span>Interleaving — every user sees a team-draft merge of 2 variants; clicks credited per team (ctr only, ~4× fewer users in simulation)</span>
          </label>
        </fieldset>
        <Field label="Primary metric" htmlFor={ids.metric} hint={METRIC_LABELS[metric]?.help}>
          <select
            id={ids.metric}
            data-testid="experiment-metric"
            className={inputCls}
            value={metric}
            onChange={(e) => {
              const chosen = e.target.value as ExperimentMetric
              setMetric(chosen)
              setGuardrails((g) => g.filter((x) => x !== chosen))
            }}
          >
            {METRICS.map((m) => (
              <option key={m} value={m}>
                {metricLabel(m)} ({m})
              </option>
            ))}
          </select>
        </Field>
        <fieldset>
          <legend className="mb-1 text-sm font-medium text-slate-700">Guardrails (the winner must not be significantly worse on)</legend>
          <div className="flex flex-wrap gap-x-3 gap-y-1">
            {METRICS.filter((m) => m !== metric).map((m) => (
              <label key={m} className="flex items-center gap-1 text-sm">
                <input
                  type="checkbox"
                  checked={guardrails.includes(m)}
                  onChange={(e) => setGuardrails((g) => (e.target.checked ? [...g, m] : g.filter((x) => x !== m)))}
                  data-testid={`guardrail-${m}`}
                />
                {metricLabel(m)}
              </label>
            ))}
          </div>
        </fieldset>
        {variants.map((v, i) => (
          <fieldset key={i} className="grid grid-cols-[5rem_minmax(0,1fr)] gap-2 rounded-md border border-slate-200 p-3 sm:grid-cols-[5rem_minmax(0,1fr)_5rem]">
            <legend className="px-1 text-sm font-medium text-slate-700">
              Variant {i + 1} {i === 0 && <span className="font-normal text-slate-500">(baseline / control)</span>}
            </legend>
            <label className="flex min-w-0 flex-col gap-1 text-sm">
              <span className="text-slate-600">Name</span>
              <input className={cx(inputCls, 'w-full')} value={v.name} onChange={(e) => set(i, { name: e.target.value })} data-testid={`variant-name-${i}`} />
            </label>
            <label className="flex min-w-0 flex-col gap-1 text-sm">
              <span className="text-slate-600">Model</span>
              <select className={cx(inputCls, 'w-full')} value={v.model} onChange={(e) => set(i, { model: e.target.value })} data-testid={`variant-model-${i}`}>
                {options.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
                {!options.some((o) => o.value === v.model) && <option value={v.model}>{v.model}</option>}
              </select>
            </label>
            {mode === 'ab' && (
              <label className="flex min-w-0 flex-col gap-1 text-sm">
                <span className="text-slate-600">Weight</span>
                <input className={cx(inputCls, 'w-full')} type="number" min="0" step="0.05" value={v.weight} onChange={(e) => set(i, { weight: e.target.value })} />
              </label>
            )}
            {variants.length > 2 && (
              <div className="col-span-full">
                <Button size="sm" variant="ghost" onClick={() => setVariants((vs) => vs.filter((_, j) => j !== i))}>
                  Remove variant {v.name || i + 1}
                </Button>
              </div>
            )}
          </fieldset>
        ))}
        {variants.length < 5 && (
          <div>
            <Button
              size="sm"
              onClick={() =>
                setVariants((vs) => [...vs, { name: String.fromCharCode(65 + vs.length), model: 'champion', weight: '0.5' }])
              }
            >
              + Add variant
            </Button>
          </div>
        )}
        <label className="flex items-start gap-2 text-sm">
          <input type="checkbox" className="mt-1" checked={autoPromote} onChange={(e) => setAutoPromote(e.target.checked)} data-testid="auto-promote" />
          <span>
            Auto-promote: when a variant serving a registry version (e.g. v2) wins, make it champion and stop the experiment.
            {autoPromote && !versioned && <span className="block text-xs text-amber-800">No variant names a version number, so nothing can be promoted.</span>}
          </span>
        </label>
        <details className="rounded-md border border-slate-200 p-2">
          <summary className="cursor-pointer text-sm font-medium text-indigo-700">Statistics and attribution</summary>
          <div className="mt-2 grid grid-cols-2 gap-3">
            <Field label="Significance α" htmlFor={ids.alpha}>
              <select id={ids.alpha} className={inputCls} value={alpha} onChange={(e) => setAlpha(e.target.value)}>
                {['0.01', '0.05', '0.1'].map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Attribution window (min)" htmlFor={ids.win}>
              <input id={ids.win} className={inputCls} type="number" min="1" value={windowMin} onChange={(e) => setWindowMin(e.target.value)} />
            </Field>
            <Field label="Planned lists per variant" htmlFor={ids.planned}>
              <input id={ids.planned} className={inputCls} type="number" min="10" value={planned} onChange={(e) => setPlanned(e.target.value)} />
            </Field>
            <Field label="Expected control rate" htmlFor={ids.base}>
              <input id={ids.base} className={inputCls} type="number" min="0.001" max="0.999" step="0.01" value={baseline} onChange={(e) => setBaseline(e.target.value)} />
            </Field>
            <Field label="Min users per variant (sequential test)" htmlFor={ids.min}>
              <input id={ids.min} className={inputCls} type="number" min="2" value={minUsers} onChange={(e) => setMinUsers(e.target.value)} />
            </Field>
          </div>
        </details>
        {errors.length > 0 && (
          <ul role="alert" className="list-inside list-disc text-sm text-red-700">
            {errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        )}
        {create.isError && <ErrorState error={create.error} title="Could not create the experiment" />}
        {create.isSuccess && (
          <p role="status" className="text-sm text-emerald-800">
            Started experiment “{create.data.name}”.
          </p>
        )}
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" variant="primary" disabled={create.isPending} data-testid="create-experiment">
            {create.isPending ? 'Creating…' : 'Create experiment'}
          </Button>
          {!adminKey && <span className="text-xs text-amber-800">Needs the admin key (Settings).</span>}
        </div>
      </form>
    </Card>
  )
}

export function Experiments() {
  const q = useQuery({ queryKey: ['experiments'], queryFn: ({ signal }) => api.experiments(signal) })
  return (
    <div className="flex flex-col gap-4">
      <div>
        <h1 className="text-xl font-bold text-slate-900">Experiments</h1>
        <p className="text-sm text-slate-600">
          A/B tests and bandits between models: the first variant is the baseline every other one is compared with.
        </p>
      </div>
      <div className="grid gap-4 xl:grid-cols-3">
        <div className="flex min-w-0 flex-col gap-4 xl:col-span-2">
          {q.isPending ? (
            <Loading label="Loading experiments…" />
          ) : q.isError ? (
            <ErrorState error={q.error} title="Could not load experiments" onRetry={() => q.refetch()} />
          ) : q.data.experiments.length === 0 ? (
            <Empty>No experiments yet. Create one with the form.</Empty>
          ) : (
            [...q.data.experiments]
              .sort((a, b) => (a.status === b.status ? 0 : a.status === 'running' ? -1 : 1))
              .map((e) => <ExperimentCard key={String(e.id)} exp={e} />)
          )}
        </div>
        <div className="min-w-0">
          <CreateForm />
        </div>
      </div>
    </div>
  )
}
