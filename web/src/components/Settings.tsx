import { useEffect, useId, useRef, useState } from 'react'
import { useAdminKey } from './useAdminKey'
import { Button, inputCls } from './ui'

/** Settings popover of the nav bar: the admin key sent as X-Admin-Key (kept in localStorage). */
export function SettingsPopover() {
  const [open, setOpen] = useState(false)
  const [key, setKey] = useAdminKey()
  const [draft, setDraft] = useState(key)
  const [show, setShow] = useState(false)
  const panelId = useId()
  const inputId = useId()
  const root = useRef<HTMLDivElement>(null)
  const trigger = useRef<HTMLButtonElement>(null)
  const input = useRef<HTMLInputElement>(null)

  useEffect(() => {
    if (!open) return
    setDraft(key)
    input.current?.focus()
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false)
        trigger.current?.focus()
      }
    }
    const onClick = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false)
    }
    document.addEventListener('keydown', onKey)
    document.addEventListener('mousedown', onClick)
    return () => {
      document.removeEventListener('keydown', onKey)
      document.removeEventListener('mousedown', onClick)
    }
  }, [open])

  const save = (value: string) => {
    setKey(value.trim())
    setOpen(false)
    trigger.current?.focus()
  }

  return (
    <div className="relative" ref={root}>
      <Button
        ref={trigger}
        variant="nav"
        aria-haspopup="dialog"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={`Settings (admin key ${key ? 'set' : 'not set'})`}
        onClick={() => setOpen((o) => !o)}
        data-testid="settings-button"
      >
        <span aria-hidden="true">⚙</span>
        <span className="hidden sm:inline">Settings</span>
        <span
          aria-hidden="true"
          className={`ml-1 inline-block h-2 w-2 rounded-full ${key ? 'bg-emerald-500' : 'bg-slate-300'}`}
        />
      </Button>
      {open && (
        <div
          id={panelId}
          role="dialog"
          aria-label="Settings"
          className="absolute right-0 z-30 mt-2 w-[min(20rem,calc(100vw-1.5rem))] rounded-lg border border-slate-200 bg-white p-4 text-slate-800 shadow-lg"
        >
          <form
            onSubmit={(e) => {
              e.preventDefault()
              save(draft)
            }}
          >
            <label htmlFor={inputId} className="block text-sm font-medium">
              Admin API key
            </label>
            <p className="mt-0.5 text-xs text-slate-500">
              Sent as <code>X-Admin-Key</code> for promote, rollback and experiment changes. Stored in this
              browser only.
            </p>
            <div className="mt-2 flex gap-2">
              <input
                id={inputId}
                ref={input}
                type={show ? 'text' : 'password'}
                autoComplete="off"
                value={draft}
                onChange={(e) => setDraft(e.target.value)}
                className={`${inputCls} min-w-0 flex-1`}
                data-testid="admin-key-input"
              />
              <Button size="sm" onClick={() => setShow((s) => !s)} aria-pressed={show} aria-label="Show key">
                {show ? 'Hide' : 'Show'}
              </Button>
            </div>
            <div className="mt-3 flex justify-end gap-2">
              <Button size="sm" variant="danger" onClick={() => save('')} disabled={!key && !draft}>
                Clear
              </Button>
              <Button size="sm" variant="primary" type="submit" data-testid="admin-key-save">
                Save
              </Button>
            </div>
          </form>
        </div>
      )}
    </div>
  )
}
