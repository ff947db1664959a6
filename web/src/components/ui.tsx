import type { ComponentPropsWithRef, HTMLAttributes, ReactNode } from 'react'
import { ApiError } from '../api/client'
import './responsive.css'

export function cx(...parts: (string | false | null | undefined)[]): string {
  return parts.filter(Boolean).join(' ')
}

type Variant = 'primary' | 'secondary' | 'danger' | 'ghost' | 'good' | 'nav'

const VARIANTS: Record<Variant, string> = {
  primary: 'bg-indigo-600 text-white hover:bg-indigo-700 border-indigo-600',
  secondary: 'bg-white text-slate-800 hover:bg-slate-100 border-slate-300',
  danger: 'bg-white text-red-700 hover:bg-red-50 border-red-300',
  good: 'bg-white text-emerald-700 hover:bg-emerald-50 border-emerald-300',
  ghost: 'bg-transparent text-slate-700 hover:bg-slate-100 border-transparent',
  nav: 'bg-transparent text-slate-100 hover:bg-slate-800 border-transparent',
}

export function Button({
  variant = 'secondary',
  size = 'md',
  className,
  type = 'button',
  ...rest
}: ComponentPropsWithRef<'button'> & { variant?: Variant; size?: 'sm' | 'md' }) {
  return (
    <button
      type={type}
      className={cx(
        'inline-flex items-center justify-center gap-1 rounded-md border font-medium transition-colors',
        'disabled:cursor-not-allowed disabled:opacity-50',
        size === 'sm' ? 'min-h-8 px-2 py-1 text-xs' : 'min-h-9 px-3 py-1.5 text-sm',
        VARIANTS[variant],
        className,
      )}
      {...rest}
    />
  )
}

export function Card({
  title,
  actions,
  children,
  className,
  ...rest
}: {
  title?: ReactNode
  actions?: ReactNode
  children: ReactNode
  className?: string
} & Omit<HTMLAttributes<HTMLElement>, 'title'>) {
  return (
    <section
      className={cx('rounded-lg border border-slate-200 bg-white p-4 shadow-sm', className)}
      {...rest}
    >
      {(title || actions) && (
        <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
          {title && <h2 className="text-base font-semibold text-slate-800">{title}</h2>}
          {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  )
}

type Tone = 'gray' | 'green' | 'red' | 'amber' | 'indigo' | 'blue' | 'violet'
const TONES: Record<Tone, string> = {
  gray: 'bg-slate-100 text-slate-700 ring-slate-300',
  green: 'bg-emerald-50 text-emerald-800 ring-emerald-300',
  red: 'bg-red-50 text-red-800 ring-red-300',
  amber: 'bg-amber-50 text-amber-900 ring-amber-300',
  indigo: 'bg-indigo-50 text-indigo-800 ring-indigo-300',
  blue: 'bg-sky-50 text-sky-800 ring-sky-300',
  violet: 'bg-violet-50 text-violet-800 ring-violet-300',
}

export function Badge({
  tone = 'gray',
  children,
  className,
  ...rest
}: { tone?: Tone; children: ReactNode; className?: string } & HTMLAttributes<HTMLSpanElement>) {
  return (
    <span
      className={cx(
        'inline-flex items-center whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset',
        TONES[tone],
        className,
      )}
      {...rest}
    >
      {children}
    </span>
  )
}

export function Stat({
  label,
  value,
  hint,
  testId,
}: {
  label: string
  value: ReactNode
  hint?: ReactNode
  testId?: string
}) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-3 shadow-sm">
      <div className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</div>
      <div className="mt-1 text-2xl font-semibold tabular-nums text-slate-900" data-testid={testId}>
        {value}
      </div>
      {hint && <div className="mt-0.5 text-xs text-slate-500">{hint}</div>}
    </div>
  )
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div role="status" aria-live="polite" className="flex items-center gap-2 p-4 text-sm text-slate-600">
      <span
        aria-hidden="true"
        className="inline-block h-4 w-4 animate-spin rounded-full border-2 border-slate-300 border-t-indigo-600"
      />
      {label}
    </div>
  )
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <div className="rounded-md border border-dashed border-slate-300 p-4 text-center text-sm text-slate-600">
      {children}
    </div>
  )
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    return error.status ? `${error.status}: ${error.detail}` : error.detail
  }
  if (error instanceof Error) return error.message
  return String(error)
}

export function ErrorState({
  error,
  title = 'Something went wrong',
  onRetry,
}: {
  error: unknown
  title?: string
  onRetry?: () => void
}) {
  const forbidden = error instanceof ApiError && error.status === 403
  return (
    <div
      role="alert"
      data-testid="error-state"
      className="flex flex-wrap items-start justify-between gap-2 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900"
    >
      <div>
        <div className="font-semibold">{forbidden ? 'Forbidden (403): admin key missing or wrong' : title}</div>
        <div className="mt-0.5 break-words">{errorText(error)}</div>
        {forbidden && (
          <div className="mt-1 text-red-800">Set the admin key under Settings (top right) and try again.</div>
        )}
      </div>
      {onRetry && (
        <Button size="sm" variant="danger" onClick={onRetry}>
          Retry
        </Button>
      )}
    </div>
  )
}

/** A scrollable table wrapper for wide screens; on phones tables with class `stack` become cards. */
export function TableWrap({ children, label }: { children: ReactNode; label: string }) {
  return (
    <div className="-mx-1 overflow-x-auto px-1" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  )
}

export const th = 'whitespace-nowrap border-b border-slate-200 px-2 py-1.5 text-left text-xs font-semibold uppercase tracking-wide text-slate-500'
export const td = 'border-b border-slate-100 px-2 py-1.5 align-top'
/** Class of a data table that turns into a card list below 640 px (cells need `data-label`). */
export const stackTable = 'stack w-full text-sm'
export const inputCls =
  'min-h-9 rounded-md border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 placeholder:text-slate-400'
