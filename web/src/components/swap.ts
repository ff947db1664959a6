/**
 * The model version the server was just told to serve (promote / rollback)
 * and has not reported yet. The server picks up a new champion on its next
 * registry poll, so `/ready` keeps the old version for a while; until it
 * reports the target, the header and the Models page say "swapping to vN…"
 * and `/ready` is polled every second.
 */
import { useQuery } from '@tanstack/react-query'
import { useEffect, useSyncExternalStore } from 'react'
import { api } from '../api/client'

let target: string | null = null
const listeners = new Set<() => void>()

export function setSwapTarget(v: string | null): void {
  target = v
  for (const l of listeners) l()
}

export function getSwapTarget(): string | null {
  return target
}

function subscribe(l: () => void): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}

export const SWAP_POLL_MS = 1000
const IDLE_POLL_MS = 10_000

/** `/ready` (shared query) plus the pending swap target; clears the target once served. */
export function useServing() {
  const pending = useSyncExternalStore(subscribe, getSwapTarget, getSwapTarget)
  const ready = useQuery({
    queryKey: ['ready'],
    queryFn: ({ signal }) => api.ready(signal),
    refetchInterval: pending ? SWAP_POLL_MS : IDLE_POLL_MS,
    retry: false,
  })
  const serving = ready.data?.model_version != null ? String(ready.data.model_version) : null
  useEffect(() => {
    if (pending && serving === pending) setSwapTarget(null)
  }, [pending, serving])
  return { ready, serving, pending: pending && serving !== pending ? pending : null }
}
