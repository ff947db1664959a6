import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { api } from '../api/client'
import type { ModelVersion, ModelsResponse, PromotionResponse, RetrainDecision, Version } from '../api/types'
import { ConfirmDialog } from '../components/ConfirmDialog'
import { setSwapTarget, useServing } from '../components/swap'
import { useAdminKey } from '../components/useAdminKey'
import { Badge, Button, Card, Empty, ErrorState, Loading, TableWrap, cx, stackTable, td, th } from '../components/ui'
import { fmtDateTime, fmtMetric, fmtSignedPct, metricNames, relChangePct, versionLabel } from '../lib/format'
import { DELTA_CLASS, PRIMARY_METRIC, deltaTone, lowerIsBetter, orderMetrics } from '../lib/metrics'

/** Whether `v` is the champion of the registry listing. */
export function isChampion(models: ModelsResponse, v: ModelVersion): boolean {
  if (models.champion != null) return String(models.champion) === String(v.version)
  return (v.aliases ?? []).includes('champion')
}

/**
 * Why rollback is impossible, or null when it may work. The registry walks
 * back its champion history; with no champion or a single version there is
 * nothing to go back to.
 */
export function rollbackBlocker(models: ModelsResponse): string | null {
  const champ = models.versions.find((v) => isChampion(models, v))
  if (!champ) return 'No champion to roll back.'
  if (models.versions.length < 2) return `Nothing to roll back to: v${String(champ.version)} is the only version.`
  return null
}

function AdminHint() {
  const [key] = useAdminKey()
  if (key) return null
  return (
    <p className="text-xs text-amber-800" data-testid="admin-hint">
      Promote and rollback need the admin key — set it under Settings (top right).
    </p>
  )
}

function SwapStatus({ result }: { result: PromotionResponse | null }) {
  const { serving, pending } = useServing()
  if (pending)
    return (
      <div role="status" data-testid="swap-status" className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900">
        <span aria-hidden="true" className="mr-1 inline-block h-2 w-2 animate-pulse rounded-full bg-amber-500" />
        Swapping to <strong>v{pending}</strong>… the server still serves {versionLabel(serving)} until it picks up the
        new champion on its next registry poll.
      </div>
    )
  if (!result) return null
  return (
    <div role="status" data-testid="swap-status" className="rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm text-emerald-900">
      Now serving <strong>{versionLabel(serving ?? result.champion)}</strong>
      {result.previous != null && <> (was {versionLabel(result.previous)})</>}.
    </div>
  )
}

/** A metric value with its change against the champion, coloured by direction. */
function MetricCell({ name, value, base }: { name: string; value: number | undefined; base: number | undefined }) {
  const pct = relChangePct(base, value)
  return (
    <>
      {fmtMetric(value)}
      {pct !== null && pct !== 0 && (
        <span className={cx('ml-1 text-xs', DELTA_CLASS[deltaTone(name, pct)])} data-testid="metric-delta">
          {fmtSignedPct(pct)}
        </span>
      )}
    </>
  )
}

type Pending = { kind: 'promote'; version: Version } | { kind: 'rollback' } | null

function VersionsTable({ data }: { data: ModelsResponse }) {
  const qc = useQueryClient()
  const [dialog, setDialog] = useState<Pending>(null)
  const [result, setResult] = useState<PromotionResponse | null>(null)
  const onSuccess = (res: PromotionResponse) => {
    setResult(res)
    setSwapTarget(String(res.champion))
  }
  const done = () => {
    setDialog(null)
    void qc.invalidateQueries({ queryKey: ['models'] })
    void qc.invalidateQueries({ queryKey: ['ready'] })
    void qc.invalidateQueries({ queryKey: ['offline'] })
  }
  const promote = useMutation({ mutationFn: (v: Version) => api.promote(v), onSuccess, onSettled: done })
  const rollback = useMutation({ mutationFn: () => api.rollback(), onSuccess, onSettled: done })
  const names = orderMetrics(metricNames(...data.versions.map((v) => v.metrics)))
  const last = promote.isError ? promote : rollback
  const busy = promote.isPending || rollback.isPending
  const blocker = rollbackBlocker(data)
  const champ = data.versions.find((v) => isChampion(data, v))

  return (
    <Card
      title="Model versions"
      aria-label="Model versions"
      actions={
        <Button
          variant="danger"
          size="sm"
          onClick={() => setDialog({ kind: 'rollback' })}
          disabled={busy || blocker !== null}
          title={blocker ?? 'Restore the previous champion'}
          data-testid="rollback-button"
        >
          ↶ Roll back champion
        </Button>
      }
    >
      <div className="mb-3 flex flex-col gap-2">
        <AdminHint />
        {blocker && (
          <p className="text-xs text-slate-500" data-testid="rollback-blocker">
            Rollback: {blocker}
          </p>
        )}
        {last.isError && <ErrorState error={last.error} title="Model change failed" />}
        <SwapStatus result={result} />
        <p className="text-xs text-slate-500">
          Offline P1 metrics; {PRIMARY_METRIC} decides promotions. Changes are against the champion
          {names.some(lowerIsBetter) ? ' (lower is better for latencies and times)' : ''}: green = better, red = worse.
        </p>
      </div>
      {data.versions.length === 0 ? (
        <Empty>No model versions registered yet — run <code className="font-mono">recloop train</code>.</Empty>
      ) : (
        <TableWrap label="Model versions and metrics">
          <table className={stackTable} data-testid="models-table">
            <thead>
              <tr>
                <th className={th} scope="col">
                  Version
                </th>
                <th className={th} scope="col">
                  Created
                </th>
                {names.map((m) => (
                  <th key={m} className={cx(th, 'text-right normal-case', m === PRIMARY_METRIC && 'text-slate-800')} scope="col">
                    {m}
                  </th>
                ))}
                <th className={th} scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.versions.map((v) => {
                const isChamp = isChampion(data, v)
                const others = (v.aliases ?? []).filter((a) => a !== 'champion')
                return (
                  <tr
                    key={String(v.version)}
                    data-testid="model-row"
                    data-version={String(v.version)}
                    className={isChamp ? 'bg-amber-50' : undefined}
                    aria-current={isChamp ? 'true' : undefined}
                  >
                    <th scope="row" className={cx(td, 'whitespace-nowrap text-left font-semibold')}>
                      <div className="flex flex-wrap items-center gap-1">
                        {versionLabel(v.version)}
                        {isChamp && (
                          <Badge tone="amber" data-testid="champion-badge">
                            ★ champion
                          </Badge>
                        )}
                        {others.map((a) => (
                          <Badge key={a} tone="blue">
                            {a}
                          </Badge>
                        ))}
                      </div>
                    </th>
                    <td data-label="Created" className={cx(td, 'whitespace-nowrap text-slate-600')}>
                      {fmtDateTime(v.created_at)}
                    </td>
                    {names.map((m) => (
                      <td
                        key={m}
                        data-label={m}
                        className={cx(td, 'whitespace-nowrap text-right font-mono tabular-nums', m === PRIMARY_METRIC && 'font-semibold')}
                        data-testid="metric-cell"
                      >
                        <MetricCell name={m} value={v.metrics?.[m]} base={isChamp ? undefined : champ?.metrics?.[m]} />
                      </td>
                    ))}
                    <td className={cx(td, 'whitespace-nowrap text-right')}>
                      {!isChamp && (
                        <Button
                          size="sm"
                          disabled={busy}
                          onClick={() => setDialog({ kind: 'promote', version: v.version })}
                          aria-label={`Promote version ${v.version} to champion`}
                          data-testid="promote-button"
                        >
                          Promote
                        </Button>
                      )}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
      <ConfirmDialog
        open={dialog?.kind === 'promote'}
        title={dialog?.kind === 'promote' ? `Promote v${String(dialog.version)} to champion?` : ''}
        confirmLabel={dialog?.kind === 'promote' ? `Promote v${String(dialog.version)}` : 'Promote'}
        tone="primary"
        busy={busy}
        onCancel={() => setDialog(null)}
        onConfirm={() => {
          if (dialog?.kind !== 'promote') return
          rollback.reset()
          promote.mutate(dialog.version)
        }}
      >
        Every user who is not in an experiment gets this version's lists once the server picks it up (seconds).
        {champ && <> The current champion {versionLabel(champ.version)} stays registered and can be restored with rollback.</>}
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog?.kind === 'rollback'}
        title="Roll back the champion?"
        confirmLabel="Roll back"
        busy={busy}
        onCancel={() => setDialog(null)}
        onConfirm={() => {
          promote.reset()
          rollback.mutate()
        }}
      >
        The registry restores the champion before {versionLabel(champ?.version)} (its promotion history), and the server
        swaps to it on its next poll. {versionLabel(champ?.version)} stays registered.
      </ConfirmDialog>
    </Card>
  )
}

function MetricChanges({ d }: { d: RetrainDecision }) {
  const champ = d.champion?.metrics ?? {}
  const chall = d.challenger?.metrics ?? {}
  const names = orderMetrics(metricNames(champ, chall))
  if (!names.length) return <span className="text-slate-500">—</span>
  return (
    <ul className="flex flex-col gap-0.5">
      {names.map((m) => {
        const pct = relChangePct(champ[m], chall[m])
        return (
          <li key={m} className="text-xs">
            <span className="text-slate-600">{m}</span>{' '}
            <span className="whitespace-nowrap font-mono">
              {fmtMetric(champ[m])} → {fmtMetric(chall[m])}
            </span>{' '}
            {pct !== null && (
              <span data-testid="metric-change" className={cx('font-semibold', DELTA_CLASS[deltaTone(m, pct)])}>
                ({fmtSignedPct(pct)})
              </span>
            )}
          </li>
        )
      })}
    </ul>
  )
}

function Decisions() {
  const q = useQuery({ queryKey: ['decisions'], queryFn: ({ signal }) => api.decisions(signal) })
  let body
  if (q.isPending) body = <Loading label="Loading decisions…" />
  else if (q.isError) body = <ErrorState error={q.error} title="Could not load decisions" onRetry={() => q.refetch()} />
  else if (q.data.decisions.length === 0)
    body = (
      <Empty>
        No retraining decisions yet — <code className="font-mono">recloop retrain</code> (or <code className="font-mono">recloop worker</code>) writes one per run.
      </Empty>
    )
  else
    body = (
      <TableWrap label="Retraining decisions">
        <table className={stackTable} data-testid="decisions-table">
          <thead>
            <tr>
              <th className={th} scope="col">When</th>
              <th className={th} scope="col">Decision</th>
              <th className={th} scope="col">Champion → challenger</th>
              <th className={th} scope="col">Metric changes</th>
              <th className={th} scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {q.data.decisions.map((d, i) => (
              <tr key={`${d.created_at}-${i}`}>
                <th scope="row" className={cx(td, 'whitespace-nowrap text-left font-normal text-slate-600')}>
                  {fmtDateTime(d.created_at)}
                </th>
                <td data-label="Decision" className={td}>
                  <Badge tone={d.decision === 'promoted' ? 'green' : 'gray'}>{d.decision}</Badge>
                </td>
                <td data-label="Versions" className={cx(td, 'whitespace-nowrap')}>
                  {versionLabel(d.champion?.version)} → {versionLabel(d.challenger?.version)}
                </td>
                <td data-label="Metric changes" className={cx(td, 'stack-full')}>
                  <MetricChanges d={d} />
                </td>
                <td data-label="Reason" className={cx(td, 'stack-full min-w-48 text-slate-700')}>
                  {d.reason}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    )
  return (
    <Card title="Retraining decisions" aria-label="Retraining decisions">
      {body}
    </Card>
  )
}

export function Models() {
  const q = useQuery({ queryKey: ['models'], queryFn: ({ signal }) => api.models(signal) })
  return (
    <div className="flex flex-col gap-4">
      <div>
        <h1 className="text-xl font-bold text-slate-900">Models</h1>
        <p className="text-sm text-slate-600">Registered versions, the serving champion and retraining decisions.</p>
      </div>
      {q.isPending ? (
        <Loading label="Loading models…" />
      ) : q.isError ? (
        <ErrorState error={q.error} title="Could not load models" onRetry={() => q.refetch()} />
      ) : (
        <VersionsTable data={q.data} />
      )}
      <Decisions />
    </div>
  )
}
