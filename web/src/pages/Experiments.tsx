import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useId, useState } from 'react'
import { api } from '../api/client'
import type { Experiment, ExperimentCreate, ExperimentResults, ExperimentVariant } from '../api/types'
import { useAdminKey } from '../components/useAdminKey'
import { Badge, Button, Card, Empty, ErrorState, Loading, TableWrap, cx, inputCls, td, th } from '../components/ui'
import { DASH, fmtDateTime, fmtInt, fmtInterval, fmtP, fmtPct, isNum, pText } from '../lib/format'

/** A relative lift (fraction) as a signed percentage: 0.052 -> "+5.2%". */
export function fmtLift(x: unknown): string {
  if (!isNum(x)) return DASH
  return `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`
}

function decisionTone(d: string): 'green' | 'gray' | 'blue' {
  if (d.startsWith('winner')) return 'green'
  if (d === 'running') return 'blue'
  return 'gray'
}

function Results({ exp }: { exp: Experiment }) {
  const q = useQuery({
    queryKey: ['experiments', String(exp.id), 'results'],
    queryFn: ({ signal }) => api.experimentResults(exp.id, signal),
    refetchInterval: exp.status === 'running' ? 5000 : false,
  })
  if (q.isPending) return <Loading label="Loading results…" />
  if (q.isError)
    return <ErrorState error={q.error} title="Could not load results" onRetry={() => q.refetch()} />
  const r: ExperimentResults = q.data
  const total = r.variants.reduce((s, v) => s + (v.exposures ?? 0), 0)
  return (
    <div className="flex flex-col gap-3">
      {r.srm?.mismatch && (
        <div
          role="alert"
          data-testid="srm-warning"
          className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900"
        >
          <strong>Sample ratio mismatch</strong> ({pText(r.srm.p_value)}): exposures do not match the
          configured weights, so assignment or logging is broken and these results are not trustworthy.
        </div>
      )}
      {total === 0 ? (
        <Empty>No exposures yet — request recommendations to put users into variants.</Empty>
      ) : (
        <TableWrap label={`Results of ${r.name}`}>
          <table className="w-full text-sm" data-testid="results-table">
            <thead>
              <tr>
                <th className={th} scope="col">Variant</th>
                <th className={th} scope="col">Model</th>
                <th className={cx(th, 'text-right')} scope="col">Exposures</th>
                <th className={cx(th, 'text-right')} scope="col">Successes</th>
                <th className={cx(th, 'text-right')} scope="col">Rate</th>
                <th className={cx(th, 'text-right')} scope="col">95% CI</th>
              </tr>
            </thead>
            <tbody>
              {r.variants.map((v) => (
                <tr key={v.name}>
                  <th scope="row" className={cx(td, 'text-left font-medium')}>{v.name}</th>
                  <td className={td}>{v.model}</td>
                  <td className={cx(td, 'text-right tabular-nums')}>{fmtInt(v.exposures)}</td>
                  <td className={cx(td, 'text-right tabular-nums')}>{fmtInt(v.successes)}</td>
                  <td className={cx(td, 'text-right font-mono tabular-nums')}>{fmtPct(v.rate, 2)}</td>
                  <td className={cx(td, 'whitespace-nowrap text-right font-mono tabular-nums')}>
                    {fmtInterval(v.ci, (x) => fmtPct(x, 2))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <dl className="grid grid-cols-2 gap-x-4 gap-y-2 text-sm sm:grid-cols-3 lg:grid-cols-6">
        <div>
          <dt className="text-xs uppercase tracking-wide text-slate-500">Lift</dt>
          <dd className="font-mono" data-testid="lift">{fmtLift(r.lift)}</dd>
        </div>
        <div>
          <dt className="text-xs uppercase tracking-wide text-slate-500">Lift 95% CI</dt>
          <dd className="whitespace-nowrap font-mono">{fmtInterval(r.lift_ci, fmtLift)}</dd>
        </div>
        <div>
          <dt className="text-xs uppercase tracking-wide text-slate-500">p-value</dt>
          <dd className="font-mono">{fmtP(r.p_value)}</dd>
        </div>
        <div>
          <dt className="text-xs uppercase tracking-wide text-slate-500">Sequential test</dt>
          <dd data-testid="sequential-status">
            {r.sequential?.reject ? (
              <Badge tone="green">boundary crossed</Badge>
            ) : (
              <Badge tone="blue">continue</Badge>
            )}{' '}
            <span className="whitespace-nowrap font-mono text-xs">{pText(r.sequential?.p_value)}</span>
          </dd>
        </div>
        <div>
          <dt className="text-xs uppercase tracking-wide text-slate-500">SRM check</dt>
          <dd data-testid="srm-status">
            {r.srm?.mismatch ? <Badge tone="red">mismatch</Badge> : <Badge tone="green">ok</Badge>}{' '}
            <span className="whitespace-nowrap font-mono text-xs">{pText(r.srm?.p_value)}</span>
          </dd>
        </div>
        <div>
          <dt className="text-xs uppercase tracking-wide text-slate-500">Decision</dt>
          <dd>
            <Badge tone={decisionTone(r.decision ?? '')} data-testid="decision">{r.decision ?? DASH}</Badge>
          </dd>
        </div>
      </dl>
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
          {exp.name}
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
          <Button
            size="sm"
            variant="danger"
            onClick={() => setConfirm(true)}
            aria-label={`Stop experiment ${exp.name}`}
            data-testid="stop-button"
          >
            ■ Stop
          </Button>
        ))
      }
    >
      <div className="mb-3 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600">
        <span>id {String(exp.id)}</span>
        <span>created {fmtDateTime(exp.created_at)}</span>
        <span>primary metric {exp.primary_metric}</span>
        <span>
          split{' '}
          {exp.variants.map((v) => `${v.name} → ${v.model} (${Math.round((v.weight / totalW) * 100)}%)`).join(' · ')}
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

const EMPTY_VARIANTS: ExperimentVariant[] = [
  { name: 'A', model: 'champion', weight: 0.5 },
  { name: 'B', model: 'popular', weight: 0.5 },
]

/** Problems of a create-experiment form, or [] when it can be sent. */
export function validateExperiment(body: ExperimentCreate): string[] {
  const errs: string[] = []
  if (!body.name.trim()) errs.push('Give the experiment a name.')
  if (!body.primary_metric.trim()) errs.push('Choose a primary metric.')
  const names = body.variants.map((v) => v.name.trim())
  if (names.some((n) => !n)) errs.push('Every variant needs a name.')
  if (new Set(names).size !== names.length) errs.push('Variant names must differ.')
  if (body.variants.some((v) => !v.model.trim())) errs.push('Every variant needs a model.')
  if (body.variants.some((v) => !(v.weight > 0))) errs.push('Weights must be positive numbers.')
  return errs
}

function CreateForm() {
  const qc = useQueryClient()
  const [adminKey] = useAdminKey()
  const [name, setName] = useState('')
  const [metric, setMetric] = useState('ctr')
  const [variants, setVariants] = useState<(Omit<ExperimentVariant, 'weight'> & { weight: string })[]>(
    EMPTY_VARIANTS.map((v) => ({ ...v, weight: String(v.weight) })),
  )
  const [errors, setErrors] = useState<string[]>([])
  const models = useQuery({ queryKey: ['models'], queryFn: ({ signal }) => api.models(signal) })
  const listId = useId()
  const nameId = useId()
  const metricId = useId()
  const create = useMutation({
    mutationFn: (body: ExperimentCreate) => api.createExperiment(body),
    onSuccess: () => {
      setName('')
      void qc.invalidateQueries({ queryKey: ['experiments'] })
    },
  })
  const set = (i: number, patch: Partial<(typeof variants)[number]>) =>
    setVariants((vs) => vs.map((v, j) => (j === i ? { ...v, ...patch } : v)))

  return (
    <Card title="New experiment" aria-label="Create an experiment">
      <form
        className="flex flex-col gap-3"
        data-testid="create-experiment-form"
        onSubmit={(e) => {
          e.preventDefault()
          const body: ExperimentCreate = {
            name: name.trim(),
            primary_metric: metric.trim(),
            variants: variants.map((v) => ({ name: v.name.trim(), model: v.model.trim(), weight: Number(v.weight) })),
          }
          const errs = validateExperiment(body)
          setErrors(errs)
          if (!errs.length) create.mutate(body)
        }}
        noValidate
      >
        <datalist id={listId}>
          <option value="champion" />
          <option value="popular" />
          {(models.data?.versions ?? []).map((v) => (
            <option key={String(v.version)} value={String(v.version)} />
          ))}
        </datalist>
        <div className="flex flex-wrap gap-3">
          <div className="flex min-w-0 flex-1 flex-col gap-1">
            <label htmlFor={nameId} className="text-sm font-medium text-slate-700">
              Name
            </label>
            <input id={nameId} data-testid="experiment-name" className={inputCls} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. ease-vs-popular" required />
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor={metricId} className="text-sm font-medium text-slate-700">
              Primary metric
            </label>
            <input id={metricId} className={cx(inputCls, 'w-32')} value={metric} onChange={(e) => setMetric(e.target.value)} />
          </div>
        </div>
        {variants.map((v, i) => (
          <fieldset key={i} className="flex flex-wrap items-end gap-3 rounded-md border border-slate-200 p-3">
            <legend className="px-1 text-sm font-medium text-slate-700">Variant {i + 1}</legend>
            <label className="flex flex-col gap-1 text-sm">
              <span className="text-slate-600">Name</span>
              <input className={cx(inputCls, 'w-20')} value={v.name} onChange={(e) => set(i, { name: e.target.value })} />
            </label>
            <label className="flex flex-col gap-1 text-sm">
              <span className="text-slate-600">Model</span>
              <input
                className={cx(inputCls, 'w-32')}
                list={listId}
                value={v.model}
                onChange={(e) => set(i, { model: e.target.value })}
                aria-describedby={`${listId}-hint`}
              />
            </label>
            <label className="flex flex-col gap-1 text-sm">
              <span className="text-slate-600">Weight</span>
              <input
                className={cx(inputCls, 'w-20')}
                type="number"
                min="0"
                step="0.05"
                value={v.weight}
                onChange={(e) => set(i, { weight: e.target.value })}
              />
            </label>
          </fieldset>
        ))}
        <p id={`${listId}-hint`} className="text-xs text-slate-500">
          Model: <code>champion</code>, <code>popular</code> or a version number.
        </p>
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
        <div className="flex items-center gap-3">
          <Button type="submit" variant="primary" disabled={create.isPending}>
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
        <p className="text-sm text-slate-600">A/B tests between models, with sequential testing and SRM checks.</p>
      </div>
      <div className="grid gap-4 xl:grid-cols-3">
        <div className="flex flex-col gap-4 xl:col-span-2">
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
        <div>
          <CreateForm />
        </div>
      </div>
    </div>
  )
}
