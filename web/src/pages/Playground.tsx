import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useId, useMemo, useRef, useState } from 'react'
import { useSearchParams } from 'react-router'
import { ApiError, api, newEventId, newUserId } from '../api/client'
import type { EventType, EventsResponse, Item, RecItem, RecommendationParams, Recommendations } from '../api/types'
import { Badge, Button, Card, Empty, ErrorState, Loading, cx, errorText, inputCls } from '../components/ui'
import { type Change, type ListDiff, diffLists } from '../lib/diff'
import { DASH, fmtDateTime, fmtMs, fmtNum } from '../lib/format'
import { mergeGenres } from '../lib/genres'
import { useDebounced } from '../lib/useDebounced'

const NEW_USER = '__new__'
const CUSTOM_USER = '__custom__'

interface Filters {
  k: number
  genres: string[]
  excludeGenres: string[]
  yearMin: string
  yearMax: string
  excludeSeen: boolean
}

const DEFAULT_FILTERS: Filters = {
  k: 10,
  genres: [],
  excludeGenres: [],
  yearMin: '',
  yearMax: '',
  excludeSeen: true,
}

function parseYear(s: string): number | null {
  if (!/^\d{4}$/.test(s.trim())) return null
  return Number(s)
}

function toParams(f: Filters): RecommendationParams {
  return {
    k: f.k,
    genres: f.genres,
    exclude_genres: f.excludeGenres,
    year_min: parseYear(f.yearMin),
    year_max: parseYear(f.yearMax),
    exclude_seen: f.excludeSeen,
  }
}

/** The outcome of the last feedback action: what changed in the list and how long it took. */
interface Update {
  diff: ListDiff<RecItem>
  requestId: string
  updateMs: number
  serverMs: number
  action: string
}

interface LogEntry {
  id: string
  text: string
  ok: boolean
}

type SendFn = (item: Item, type: EventType, value: number | null, requestId: string | null) => void

const SOURCE_TONE: Record<string, 'indigo' | 'blue' | 'violet' | 'green' | 'amber' | 'gray'> = {
  ease: 'indigo',
  itemknn: 'blue',
  sequence: 'violet',
  als: 'green',
  popular: 'amber',
  trending: 'amber',
}

function ChangeMarker({ change }: { change: Change | undefined }) {
  if (!change || change.kind === 'same') return null
  if (change.kind === 'new')
    return (
      <Badge tone="green" data-testid="change-new" aria-label="new in the list">
        new
      </Badge>
    )
  if (change.kind === 'up')
    return (
      <Badge tone="green" data-testid="change-up" aria-label={`moved up ${change.by} from #${change.from}`}>
        ▲{change.by}
      </Badge>
    )
  return (
    <Badge tone="red" data-testid="change-down" aria-label={`moved down ${change.by} from #${change.from}`}>
      ▼{change.by}
    </Badge>
  )
}

function ItemActions({
  item,
  requestId,
  onSend,
  busy,
}: {
  item: Item
  requestId: string | null
  onSend: SendFn
  busy: boolean
}) {
  const t = item.title
  return (
    <div className="flex flex-wrap items-center gap-1" role="group" aria-label={`Feedback on ${t}`}>
      <Button size="sm" onClick={() => onSend(item, 'view', null, requestId)} disabled={busy} aria-label={`View ${t}`} data-testid="view-button">
        View
      </Button>
      <Button
        size="sm"
        variant="good"
        onClick={() => onSend(item, 'like', null, requestId)}
        disabled={busy}
        aria-label={`Like ${t}`}
        data-testid="like-button"
      >
        Like
      </Button>
      <Button
        size="sm"
        variant="danger"
        onClick={() => onSend(item, 'dislike', null, requestId)}
        disabled={busy}
        aria-label={`Dislike ${t}`}
        data-testid="dislike-button"
      >
        Dislike
      </Button>
      <span className="ml-1 inline-flex items-center gap-0.5" role="group" aria-label={`Rate ${t}`}>
        <span className="mr-0.5 text-xs text-slate-500" aria-hidden="true">
          Rate
        </span>
        {[1, 2, 3, 4, 5].map((v) => (
          <button
            key={v}
            type="button"
            disabled={busy}
            onClick={() => onSend(item, 'rate', v, requestId)}
            aria-label={`Rate ${t} ${v} of 5`}
            data-testid={`rate-${v}`}
            className="h-8 w-7 rounded border border-slate-300 bg-white text-xs font-medium text-amber-700 hover:bg-amber-50 disabled:opacity-50"
          >
            {v}★
          </button>
        ))}
      </span>
    </div>
  )
}

function Genres({ genres }: { genres: string[] }) {
  if (!genres.length) return null
  return (
    <ul className="flex flex-wrap gap-1" aria-label="Genres">
      {genres.map((g) => (
        <li key={g} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">
          {g}
        </li>
      ))}
    </ul>
  )
}

function RecRow({
  item,
  rank,
  change,
  requestId,
  onSend,
  busy,
}: {
  item: RecItem
  rank: number
  change: Change | undefined
  requestId: string
  onSend: SendFn
  busy: boolean
}) {
  return (
    <li
      data-testid="rec-item"
      data-item-id={item.item_id}
      className={cx(
        'flex flex-col gap-2 border-b border-slate-100 px-1 py-3 last:border-0 md:flex-row md:items-center',
        change?.kind === 'new' && 'bg-emerald-50/60',
      )}
    >
      <div className="flex items-center gap-2 md:w-20 md:flex-col md:items-start">
        <span className="text-lg font-semibold tabular-nums text-slate-400">#{rank}</span>
        <ChangeMarker change={change} />
      </div>
      <div className="min-w-0 flex-1">
        <div className="font-medium text-slate-900">
          {item.title} {item.year != null && <span className="font-normal text-slate-500">({item.year})</span>}
        </div>
        <div className="mt-1 flex flex-wrap items-center gap-2">
          <Genres genres={item.genres} />
        </div>
        {item.reason && <p className="mt-1 text-sm italic text-slate-600">{item.reason}</p>}
        <div className="mt-1 flex flex-wrap items-center gap-2 text-xs text-slate-500">
          <span>
            score <span className="font-mono text-slate-700">{fmtNum(item.score)}</span>
          </span>
          <Badge tone={SOURCE_TONE[item.source] ?? 'gray'}>{item.source}</Badge>
        </div>
      </div>
      <ItemActions item={item} requestId={requestId} onSend={onSend} busy={busy} />
    </li>
  )
}

function UserPicker({ userId, onChange }: { userId: string; onChange: (id: string) => void }) {
  const users = useQuery({ queryKey: ['users', 50], queryFn: ({ signal }) => api.users(50, signal) })
  const [typed, setTyped] = useState('')
  const selectId = useId()
  const inputId = useId()
  const list = users.data?.users ?? []
  const inList = list.some((u) => u.user_id === userId)
  const value = userId ? (inList ? userId : CUSTOM_USER) : ''

  return (
    <div className="flex flex-col gap-3">
      <div className="flex flex-wrap items-end gap-3">
        <div className="flex min-w-0 flex-col gap-1">
          <label htmlFor={selectId} className="text-sm font-medium text-slate-700">
            MovieLens user
          </label>
          <select
            id={selectId}
            data-testid="user-select"
            className={cx(inputCls, 'w-64 max-w-full')}
            value={value}
            onChange={(e) => {
              const v = e.target.value
              if (v === NEW_USER) onChange(newUserId())
              else if (v && v !== CUSTOM_USER) onChange(v)
            }}
            aria-describedby={users.isError ? `${selectId}-err` : undefined}
          >
            <option value="" disabled>
              {users.isPending ? 'Loading users…' : 'Pick a user…'}
            </option>
            {list.map((u) => (
              <option key={u.user_id} value={u.user_id}>
                User {u.user_id} ({u.events} events)
              </option>
            ))}
            {value === CUSTOM_USER && <option value={CUSTOM_USER}>{userId}</option>}
            <option value={NEW_USER}>+ New user (cold start)</option>
          </select>
        </div>
        <form
          className="flex items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault()
            if (typed.trim()) onChange(typed.trim())
          }}
        >
          <div className="flex flex-col gap-1">
            <label htmlFor={inputId} className="text-sm font-medium text-slate-700">
              or any user id
            </label>
            <input
              id={inputId}
              data-testid="user-id-input"
              className={cx(inputCls, 'w-36')}
              value={typed}
              placeholder="e.g. 1"
              onChange={(e) => setTyped(e.target.value)}
            />
          </div>
          <Button type="submit" disabled={!typed.trim()} data-testid="user-id-load">
            Load
          </Button>
        </form>
        <Button onClick={() => onChange(newUserId())} data-testid="new-user-button">
          New user
        </Button>
      </div>
      {users.isError && (
        <p id={`${selectId}-err`} className="text-sm text-red-700" role="alert">
          Could not load users: {errorText(users.error)}
        </p>
      )}
      {users.isSuccess && list.length === 0 && (
        <p className="text-sm text-slate-600">No MovieLens users yet — start with a new user.</p>
      )}
    </div>
  )
}

function GenreChecks({
  legend,
  genres,
  selected,
  disabled,
  onToggle,
  tone,
}: {
  legend: string
  genres: string[]
  selected: string[]
  disabled: string[]
  onToggle: (g: string) => void
  tone: 'include' | 'exclude'
}) {
  return (
    <fieldset>
      <legend className="mb-1 text-sm font-medium text-slate-700">{legend}</legend>
      <div className="flex flex-wrap gap-1.5">
        {genres.map((g) => {
          const on = selected.includes(g)
          return (
            <label
              key={g}
              className={cx(
                'inline-flex cursor-pointer items-center gap-1 rounded-full border px-2 py-0.5 text-xs',
                on
                  ? tone === 'include'
                    ? 'border-indigo-500 bg-indigo-50 text-indigo-800'
                    : 'border-red-400 bg-red-50 text-red-800'
                  : 'border-slate-300 bg-white text-slate-700',
                disabled.includes(g) && 'cursor-not-allowed opacity-40',
              )}
            >
              <input
                type="checkbox"
                className="h-3.5 w-3.5"
                checked={on}
                disabled={disabled.includes(g)}
                onChange={() => onToggle(g)}
              />
              {g}
            </label>
          )
        })}
      </div>
    </fieldset>
  )
}

function FiltersPanel({
  filters,
  setFilters,
  genres,
}: {
  filters: Filters
  setFilters: (f: Filters) => void
  genres: string[]
}) {
  const ids = { min: useId(), max: useId(), k: useId(), seen: useId() }
  const toggle = (key: 'genres' | 'excludeGenres', g: string) => {
    const cur = filters[key]
    setFilters({ ...filters, [key]: cur.includes(g) ? cur.filter((x) => x !== g) : [...cur, g] })
  }
  const minBad = filters.yearMin !== '' && parseYear(filters.yearMin) === null
  const maxBad = filters.yearMax !== '' && parseYear(filters.yearMax) === null
  const active =
    filters.genres.length + filters.excludeGenres.length + (filters.yearMin ? 1 : 0) + (filters.yearMax ? 1 : 0)
  return (
    <div className="flex flex-col gap-3">
      <div className="flex flex-wrap items-end gap-3">
        <div className="flex flex-col gap-1">
          <label htmlFor={ids.min} className="text-sm font-medium text-slate-700">
            Year from
          </label>
          <input
            id={ids.min}
            inputMode="numeric"
            placeholder="1990"
            className={cx(inputCls, 'w-24', minBad && 'border-red-500')}
            value={filters.yearMin}
            aria-invalid={minBad}
            onChange={(e) => setFilters({ ...filters, yearMin: e.target.value })}
            data-testid="year-min"
          />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={ids.max} className="text-sm font-medium text-slate-700">
            Year to
          </label>
          <input
            id={ids.max}
            inputMode="numeric"
            placeholder="1998"
            className={cx(inputCls, 'w-24', maxBad && 'border-red-500')}
            value={filters.yearMax}
            aria-invalid={maxBad}
            onChange={(e) => setFilters({ ...filters, yearMax: e.target.value })}
            data-testid="year-max"
          />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={ids.k} className="text-sm font-medium text-slate-700">
            Top-k
          </label>
          <select
            id={ids.k}
            className={cx(inputCls, 'w-20')}
            value={filters.k}
            onChange={(e) => setFilters({ ...filters, k: Number(e.target.value) })}
          >
            {[5, 10, 20, 50].map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <label htmlFor={ids.seen} className="flex min-h-9 items-center gap-2 text-sm text-slate-700">
          <input
            id={ids.seen}
            type="checkbox"
            checked={filters.excludeSeen}
            onChange={(e) => setFilters({ ...filters, excludeSeen: e.target.checked })}
          />
          Hide items already seen
        </label>
        <Button size="sm" onClick={() => setFilters(DEFAULT_FILTERS)} disabled={!active && filters.excludeSeen && filters.k === 10}>
          Reset filters
        </Button>
      </div>
      {(minBad || maxBad) && <p className="text-xs text-red-700">Years need four digits, e.g. 1995.</p>}
      <details className="group" open={filters.genres.length + filters.excludeGenres.length > 0}>
        <summary className="cursor-pointer select-none rounded text-sm font-medium text-indigo-700">
          Genres
          {filters.genres.length > 0 && ` · include ${filters.genres.join(', ')}`}
          {filters.excludeGenres.length > 0 && ` · exclude ${filters.excludeGenres.join(', ')}`}
        </summary>
        <div className="mt-2 flex flex-col gap-3">
          <GenreChecks
            legend="Include only these genres"
            genres={genres}
            selected={filters.genres}
            disabled={filters.excludeGenres}
            onToggle={(g) => toggle('genres', g)}
            tone="include"
          />
          <GenreChecks
            legend="Exclude these genres"
            genres={genres}
            selected={filters.excludeGenres}
            disabled={filters.genres}
            onToggle={(g) => toggle('excludeGenres', g)}
            tone="exclude"
          />
        </div>
      </details>
    </div>
  )
}

function UserProfileCard({ userId }: { userId: string }) {
  const q = useQuery({
    queryKey: ['user', userId],
    queryFn: ({ signal }) => api.user(userId, signal),
    retry: false,
  })
  let body
  if (q.isPending) body = <Loading label="Loading profile…" />
  else if (q.isError && q.error instanceof ApiError && q.error.status === 404)
    body = <Empty>No history yet for this user.</Empty>
  else if (q.isError) body = <ErrorState error={q.error} title="Could not load the user" onRetry={() => q.refetch()} />
  else {
    const p = q.data
    const counts = Object.entries(p.counts_by_type ?? {}).filter(([, n]) => (n ?? 0) > 0)
    body = (
      <div className="flex flex-col gap-3 text-sm">
        <div className="flex flex-wrap gap-2">
          <Badge tone={p.known ? 'indigo' : 'amber'}>{p.known ? 'known user' : 'cold-start user'}</Badge>
          {p.demographics && (
            <span className="text-slate-600">
              {[
                p.demographics.age != null ? `age ${p.demographics.age}` : null,
                p.demographics.gender,
                p.demographics.occupation,
              ]
                .filter(Boolean)
                .join(' · ')}
            </span>
          )}
        </div>
        {counts.length > 0 ? (
          <ul className="flex flex-wrap gap-1" aria-label="Events by type">
            {counts.map(([t, n]) => (
              <li key={t}>
                <Badge>
                  {t}: {n}
                </Badge>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-slate-600">No events yet.</p>
        )}
        {p.history.length > 0 && (
          <div>
            <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">Latest activity</h3>
            <ol className="flex flex-col gap-1">
              {p.history.slice(0, 8).map((h, i) => (
                <li key={`${h.item_id}-${h.timestamp}-${i}`} className="flex justify-between gap-2">
                  <span className="min-w-0 truncate" title={h.title}>
                    {h.title}
                  </span>
                  <span className="shrink-0 text-xs text-slate-500">
                    {h.type}
                    {h.value != null && h.type === 'rate' ? ` ${h.value}★` : ''} · {fmtDateTime(h.timestamp)}
                  </span>
                </li>
              ))}
            </ol>
          </div>
        )}
      </div>
    )
  }
  return (
    <Card title={`User ${userId}`} aria-label="User profile">
      {body}
    </Card>
  )
}

function CatalogSearch({ onSend, busy }: { onSend: SendFn; busy: boolean }) {
  const [query, setQuery] = useState('')
  const q = useDebounced(query.trim(), 300)
  const inputId = useId()
  const res = useQuery({
    queryKey: ['items', q],
    queryFn: ({ signal }) => api.items(q, 20, signal),
    placeholderData: keepPreviousData,
  })
  return (
    <Card title="Catalog search" aria-label="Catalog search">
      <form role="search" onSubmit={(e) => e.preventDefault()} className="mb-3">
        <label htmlFor={inputId} className="sr-only">
          Search movies by title
        </label>
        <input
          id={inputId}
          type="search"
          className={cx(inputCls, 'w-full')}
          placeholder="Search titles, e.g. toy story"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          data-testid="search-input"
        />
      </form>
      {res.isPending ? (
        <Loading label="Searching…" />
      ) : res.isError ? (
        <ErrorState error={res.error} title="Search failed" onRetry={() => res.refetch()} />
      ) : res.data.items.length === 0 ? (
        <Empty>No movies match “{q}”.</Empty>
      ) : (
        <>
          <p className="mb-1 text-xs text-slate-500">{q ? `Results for “${q}”` : 'Popular items'}</p>
          <ul
            className="-mr-2 flex max-h-72 flex-col overflow-y-auto pr-2 lg:max-h-[36rem]"
            data-testid="search-results"
            aria-busy={res.isFetching}
            aria-label="Search results"
            tabIndex={0}
          >
            {res.data.items.map((it) => (
              <li
                key={it.item_id}
                data-testid="search-item"
                data-item-id={it.item_id}
                className="flex flex-col gap-1.5 border-b border-slate-100 py-2 last:border-0"
              >
                <div className="text-sm font-medium">
                  {it.title} {it.year != null && <span className="font-normal text-slate-500">({it.year})</span>}
                </div>
                <Genres genres={it.genres} />
                <ItemActions item={it} requestId={null} onSend={onSend} busy={busy} />
              </li>
            ))}
          </ul>
        </>
      )}
    </Card>
  )
}

/**
 * Says so when the shown user is in a running experiment's variant: the list is
 * then that variant's model (maybe `popular`), not the champion's.
 */
export function ExperimentBanner({ current }: { current: Recommendations | undefined }) {
  const variant = current?.variant ?? null
  const exps = useQuery({
    queryKey: ['experiments'],
    queryFn: ({ signal }) => api.experiments(signal),
    enabled: variant !== null,
    staleTime: 30_000,
  })
  if (!variant || !current) return null
  const exp = exps.data?.experiments.find((e) => e.status === 'running' && e.variants.some((v) => v.name === variant))
  const v = exp?.variants.find((x) => x.name === variant)
  const total = exp?.variants.reduce((s, x) => s + (x.weight ?? 0), 0) ?? 0
  const control = exp?.variants[0]
  return (
    <div
      role="status"
      data-testid="experiment-banner"
      data-variant={variant}
      className="mb-2 rounded-md border border-violet-300 bg-violet-50 p-3 text-sm text-violet-900"
    >
      <strong>Experiment in progress.</strong> User {current.user_id} is in variant <strong>{variant}</strong>
      {v ? (
        <>
          {' '}
          of “{exp!.name}”, which serves <strong>{v.model === 'popular' ? 'popular (most popular unseen items, no model)' : v.model}</strong>
          {total > 0 && <> to about {Math.round((v.weight / total) * 100)}% of users</>}
          {control && control.name !== v.name && <> (baseline {control.name}: {control.model})</>}.
        </>
      ) : (
        '.'
      )}{' '}
      This list is that variant's, not necessarily the champion's; stop the experiment on the Experiments page to
      give everyone the champion.
    </div>
  )
}

function UpdateSummary({ update, current }: { update: Update | null; current: Recommendations | undefined }) {
  const live = update && current && update.requestId === current.request_id
  return (
    <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-sm text-slate-600" aria-live="polite">
      {current && (
        <span>
          server latency <strong className="tabular-nums text-slate-800" data-testid="server-latency">{fmtMs(current.latency_ms)}</strong>
        </span>
      )}
      {current && (
        <span>
          model <strong className="text-slate-800">{current.model_version ?? DASH}</strong>
          {current.variant && (
            <>
              {' '}
              · variant <strong className="text-slate-800">{current.variant}</strong>
            </>
          )}
        </span>
      )}
      {update && (
        <span>
          {update.action}: list updated in{' '}
          <strong className="tabular-nums text-indigo-700" data-testid="update-ms">
            {Math.round(update.updateMs)} ms
          </strong>{' '}
          (server {fmtMs(update.serverMs)})
          {live && !update.diff.changed && ' · no change in the list'}
        </span>
      )}
    </div>
  )
}

export function Playground() {
  const [params, setParams] = useSearchParams()
  const userId = params.get('user') ?? ''
  const [filters, setFilters] = useState<Filters>(DEFAULT_FILTERS)
  const [update, setUpdate] = useState<Update | null>(null)
  const [busy, setBusy] = useState(false)
  const [updates, setUpdates] = useState(0)
  const [actionError, setActionError] = useState<unknown>(null)
  const [log, setLog] = useState<LogEntry[]>([])
  const qc = useQueryClient()
  const users = useQuery({ queryKey: ['users', 50], queryFn: ({ signal }) => api.users(50, signal) })

  const setUser = (id: string) => {
    setParams(
      (p) => {
        const n = new URLSearchParams(p)
        n.set('user', id)
        return n
      },
      { replace: false },
    )
  }

  // Default to the most active MovieLens user when none is chosen.
  const firstUser = users.data?.users[0]?.user_id
  useEffect(() => {
    if (!userId && firstUser) {
      setParams(
        (p) => {
          const n = new URLSearchParams(p)
          n.set('user', firstUser)
          return n
        },
        { replace: true },
      )
    }
  }, [userId, firstUser, setParams])

  const recParams = useMemo(() => toParams(filters), [filters])
  const recs = useQuery({
    queryKey: ['recs', userId, recParams],
    queryFn: ({ signal }) => api.recommendations(userId, recParams, signal),
    enabled: userId !== '',
    placeholderData: (prev, prevQuery) => (prevQuery?.queryKey[1] === userId ? prev : undefined),
    refetchOnWindowFocus: false,
  })

  // A new user or new filters start a new comparison baseline.
  const baselineKey = JSON.stringify([userId, recParams])
  const lastBaseline = useRef(baselineKey)
  useEffect(() => {
    if (lastBaseline.current !== baselineKey) {
      lastBaseline.current = baselineKey
      setUpdate(null)
      setActionError(null)
    }
  }, [baselineKey])

  const send: SendFn = async (item, type, value, requestId) => {
    if (!userId || busy) return
    const t0 = performance.now()
    const before = recs.data?.items ?? []
    setBusy(true)
    setActionError(null)
    const label = `${type}${value != null ? ` ${value}★` : ''} “${item.title}”`
    try {
      const res: EventsResponse = await api.postEvents({
        event_id: newEventId(),
        user_id: userId,
        item_id: item.item_id,
        type,
        value: type === 'rate' ? value : null,
        timestamp: Date.now() / 1000,
        request_id: requestId,
      })
      const r = await recs.refetch()
      if (r.isError) throw r.error
      const t1 = performance.now()
      if (r.data) {
        setUpdate({
          diff: diffLists(before, r.data.items),
          requestId: r.data.request_id,
          updateMs: t1 - t0,
          serverMs: r.data.latency_ms,
          action: label,
        })
      }
      setUpdates((n) => n + 1)
      const status = res.results?.[0]?.status ?? (res.duplicates ? 'duplicate' : 'applied')
      setLog((l) => [{ id: newEventId(), text: `${label} → ${status} (${Math.round(t1 - t0)} ms)`, ok: true }, ...l].slice(0, 6))
      void qc.invalidateQueries({ queryKey: ['user', userId] })
    } catch (err) {
      setActionError(err)
      setLog((l) => [{ id: newEventId(), text: `${label} → failed: ${errorText(err)}`, ok: false }, ...l].slice(0, 6))
    } finally {
      setBusy(false)
    }
  }

  const data = recs.data
  const live = update && data && update.requestId === data.request_id ? update : null
  const genres = useMemo(() => mergeGenres(data?.items.flatMap((i) => i.genres)), [data])

  let list
  if (!userId) {
    list = users.isPending ? <Loading label="Loading users…" /> : <Empty>Pick a user or start a new one.</Empty>
  } else if (recs.isPending) {
    list = <Loading label="Loading recommendations…" />
  } else if (recs.isError && !data) {
    list = <ErrorState error={recs.error} title="Could not load recommendations" onRetry={() => recs.refetch()} />
  } else if (data && data.items.length === 0) {
    list = (
      <Empty>
        No recommendations for user {userId} with these filters. Try widening the genre or year filters.
      </Empty>
    )
  } else if (data) {
    list = (
      <ol
        data-testid="rec-list"
        data-user-id={userId}
        data-request-id={data.request_id}
        data-updates={updates}
        aria-busy={busy || recs.isFetching}
        aria-label={`Top ${data.items.length} recommendations for user ${userId}`}
        className={cx('flex flex-col transition-opacity', (busy || recs.isFetching) && 'opacity-70')}
      >
        {data.items.map((it, i) => (
          <RecRow
            key={it.item_id}
            item={it}
            rank={i + 1}
            change={live?.diff.changes.get(it.item_id)}
            requestId={data.request_id}
            onSend={send}
            busy={busy}
          />
        ))}
      </ol>
    )
  }

  return (
    <div className="flex flex-col gap-4">
      <div>
        <h1 className="text-xl font-bold text-slate-900">Playground</h1>
        <p className="text-sm text-slate-600">
          Give feedback and watch the recommendations update in real time.
        </p>
      </div>
      <Card aria-label="User and filters">
        <div className="flex flex-col gap-4">
          <UserPicker userId={userId} onChange={setUser} />
          <FiltersPanel filters={filters} setFilters={setFilters} genres={genres} />
        </div>
      </Card>
      <div className="grid gap-4 lg:grid-cols-3 lg:grid-rows-[auto_1fr]">
        <div className="order-2 flex min-w-0 flex-col gap-4 lg:order-none lg:col-span-2 lg:col-start-1 lg:row-span-2 lg:row-start-1">
          <Card
            title={userId ? `Top ${filters.k} for user ${userId}` : 'Recommendations'}
            actions={
              userId && (
                <Button size="sm" onClick={() => recs.refetch()} disabled={recs.isFetching} aria-label="Refresh recommendations">
                  ↻ Refresh
                </Button>
              )
            }
          >
            <ExperimentBanner current={data} />
            <div className="mb-2">
              <UpdateSummary update={update} current={data} />
            </div>
            {actionError != null && (
              <div className="mb-2">
                <ErrorState error={actionError} title="Feedback failed" />
              </div>
            )}
            {recs.isError && data && (
              <div className="mb-2">
                <ErrorState error={recs.error} title="Refresh failed (showing the last list)" onRetry={() => recs.refetch()} />
              </div>
            )}
            {list}
            {live && live.diff.removed.length > 0 && (
              <div data-testid="removed-list" className="mt-3 rounded-md border border-slate-200 bg-slate-50 p-3">
                <h3 className="text-sm font-semibold text-slate-700">Removed from the list</h3>
                <ul className="mt-1 flex flex-col gap-0.5 text-sm text-slate-600">
                  {live.diff.removed.map((r) => (
                    <li key={r.item.item_id} data-testid="removed-item" data-item-id={r.item.item_id}>
                      <span className="line-through">{r.item.title}</span>{' '}
                      <span className="text-xs text-slate-500">(was #{r.rank})</span>
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </Card>
          {log.length > 0 && (
            <Card title="Recent feedback" aria-label="Recent feedback">
              <ul className="flex flex-col gap-1 text-sm" data-testid="event-log">
                {log.map((e) => (
                  <li key={e.id} className={e.ok ? 'text-slate-700' : 'text-red-700'}>
                    {e.text}
                  </li>
                ))}
              </ul>
            </Card>
          )}
        </div>
        {/* phones: search right after the filters; wide screens: the right column under the profile */}
        <div className="order-1 min-w-0 lg:order-none lg:col-start-3 lg:row-start-2 lg:self-start">
          <CatalogSearch onSend={send} busy={busy || !userId} />
        </div>
        <div className="order-3 min-w-0 lg:order-none lg:col-start-3 lg:row-start-1 lg:self-start">
          {userId && <UserProfileCard userId={userId} />}
        </div>
      </div>
    </div>
  )
}
