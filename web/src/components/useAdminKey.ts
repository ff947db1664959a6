import { useSyncExternalStore } from 'react'
import { ADMIN_KEY_EVENT, ADMIN_KEY_STORAGE, getAdminKey, setAdminKey } from '../api/client'

function subscribe(cb: () => void): () => void {
  const onStorage = (e: StorageEvent) => {
    if (e.key === null || e.key === ADMIN_KEY_STORAGE) cb()
  }
  window.addEventListener(ADMIN_KEY_EVENT, cb)
  window.addEventListener('storage', onStorage)
  return () => {
    window.removeEventListener(ADMIN_KEY_EVENT, cb)
    window.removeEventListener('storage', onStorage)
  }
}

/** The admin key from localStorage, kept in sync across components and tabs. */
export function useAdminKey(): [string, (key: string) => void] {
  const key = useSyncExternalStore(subscribe, getAdminKey, () => '')
  return [key, setAdminKey]
}
