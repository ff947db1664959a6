import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { api } from '../api/client'
import type { ModelVersion, ModelsResponse, PromotionResponse, RetrainDecision, Version } from '../api/types'
import { useAdminKey } from '../components/useAdminKey'
import { Badge, Button, Card, Empty, ErrorState, Loading, TableWrap, cx, td, th } from '../components/ui'
import { fmtDateTime, fmtMetric, fmtSignedPct, metricNames, relChangePct, versionLabel } from '../lib/format'

/** Whether `v` is the champion of the registry listing. */
export function isChampion(models: ModelsResponse, v: ModelVersion): boolean {
  if (models.champion != null) return String(models.champion) === String(v.version)
  return (v.aliases ?? []).includes('champion')
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

function PromotionResult({ result }: { result: PromotionResponse }) {
  return (
    <div role="status" className="rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm text-emerald-900">
      Champion is now <strong>{versionLabel(result.champion)}</strong>
      {result.previous != null && <> (was {versionLabel(result.previous)})</>}.
    </div>
  )
}

function VersionsTable({ data }: { data: ModelsResponse }) {
  const qc = useQueryClient()
  const [confirm, setConfirm] = useState<Version | null>(null)
  const done = () => {
    setConfirm(null)
    void qc.invalidateQueries({ queryKey: ['models'] })
    void qc.invalidateQueries({ queryKey: ['ready'] })
    void qc.invalidateQueries({ queryKey: ['offline'] })
  }
  const promote = useMutation({ mutationFn: (v: Version) => api.promote(v), onSettled: done })
  const rollback = useMutation({ mutationFn: () => api.rollback(), onSettled: done })
  const names = metricNames(...data.versions.map((v) => v.metrics))
  const last = promote.isSuccess || promote.isError ? promote : rollback
  const busy = promote.isPending || rollback.isPending

  return (
    <Card
      title="Model versions"
      aria-label="Model versions"
      actions={
        <Button
          variant="danger"
          size="sm"
          onClick={() => {
            promote.reset()
            rollback.mutate()
          }}
          disabled={busy}
          data-testid="rollback-button"
        >
          ↶ Roll back champion
        </Button>
      }
    >
      <div className="mb-3 flex flex-col gap-2">
        <AdminHint />
        {last.isError && <ErrorState error={last.error} title="Model change failed" />}
        {last.isSuccess && last.data && <PromotionResult result={last.data} />}
      </div>
      {data.versions.length === 0 ? (
        <Empty>No model versions registered yet. Train one with the CLI.</Empty>
      ) : (
        <TableWrap label="Model versions and metrics">
          <table className="w-full text-sm" data-testid="models-table">
            <thead>
              <tr>
                <th className={th} scope="col">
                  Version
                </th>
                <th className={th} scope="col">
                  Created
                </th>
                {names.map((m) => (
                  <th key={m} className={cx(th, 'text-right normal-case')} scope="col">
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
                const champ = isChampion(data, v)
                const others = (v.aliases ?? []).filter((a) => a !== 'champion')
                return (
                  <tr
                    key={String(v.version)}
                    data-testid="model-row"
                    data-version={String(v.version)}
                    className={champ ? 'bg-amber-50' : undefined}
                    aria-current={champ ? 'true' : undefined}
                  >
                    <th scope="row" className={cx(td, 'whitespace-nowrap text-left font-semibold')}>
                      <div className="flex flex-wrap items-center gap-1">
                        {versionLabel(v.version)}
                        {champ && (
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
                    <td className={cx(td, 'whitespace-nowrap text-slate-600')}>{fmtDateTime(v.created_at)}</td>
                    {names.map((m) => (
                      <td key={m} className={cx(td, 'text-right font-mono tabular-nums')} data-testid="metric-cell">
                        {fmtMetric(v.metrics?.[m])}
                      </td>
                    ))}
                    <td className={cx(td, 'whitespace-nowrap text-right')}>
                      {!champ &&
                        (confirm === v.version ? (
                          <span className="inline-flex gap-1">
                            <Button
                              size="sm"
                              variant="primary"
                              disabled={busy}
                              onClick={() => {
                                rollback.reset()
                                promote.mutate(v.version)
                              }}
                              aria-label={`Confirm promoting version ${v.version}`}
                            >
                              Confirm
                            </Button>
                            <Button size="sm" onClick={() => setConfirm(null)}>
                              Cancel
                            </Button>
                          </span>
                        ) : (
                          <Button
                            size="sm"
                            disabled={busy}
                            onClick={() => setConfirm(v.version)}
                            aria-label={`Promote version ${v.version} to champion`}
                            data-testid="promote-button"
                          >
                            Promote
                          </Button>
                        ))}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
    </Card>
  )
}

function MetricChanges({ d }: { d: RetrainDecision }) {
  const champ = d.champion?.metrics ?? {}
  const chall = d.challenger?.metrics ?? {}
  const names = metricNames(champ, chall)
  if (!names.length) return <span className="text-slate-500">—</span>
  return (
    <ul className="flex flex-col gap-0.5">
      {names.map((m) => {
        const pct = relChangePct(champ[m], chall[m])
        return (
          <li key={m} className="whitespace-nowrap text-xs">
            <span className="text-slate-600">{m}</span>{' '}
            <span className="font-mono">
              {fmtMetric(champ[m])} → {fmtMetric(chall[m])}
            </span>{' '}
            {pct !== null && (
              <span
                data-testid="metric-change"
                className={cx('font-semibold', pct > 0 ? 'text-emerald-700' : pct < 0 ? 'text-red-700' : 'text-slate-600')}
              >
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
  else if (q.data.decisions.length === 0) body = <Empty>No retraining decisions yet.</Empty>
  else
    body = (
      <TableWrap label="Retraining decisions">
        <table className="w-full text-sm" data-testid="decisions-table">
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
                <td className={cx(td, 'whitespace-nowrap text-slate-600')}>{fmtDateTime(d.created_at)}</td>
                <td className={td}>
                  <Badge tone={d.decision === 'promoted' ? 'green' : 'gray'}>{d.decision}</Badge>
                </td>
                <td className={cx(td, 'whitespace-nowrap')}>
                  {versionLabel(d.champion?.version)} → {versionLabel(d.challenger?.version)}
                </td>
                <td className={td}>
                  <MetricChanges d={d} />
                </td>
                <td className={cx(td, 'min-w-48 text-slate-700')}>{d.reason}</td>
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
