import '@testing-library/jest-dom/vitest'
import { cleanup } from '@testing-library/react'
import { afterEach, vi } from 'vitest'
import { setSwapTarget } from '../components/swap'
import { clearSamples } from '../lib/samples'

// jsdom lacks ResizeObserver (Recharts' ResponsiveContainer uses it).
class ResizeObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
}
if (!('ResizeObserver' in globalThis)) {
  ;(globalThis as unknown as { ResizeObserver: typeof ResizeObserverStub }).ResizeObserver = ResizeObserverStub
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
  window.localStorage.clear()
  window.sessionStorage.clear()
  clearSamples()
  setSwapTarget(null)
})

// jsdom has no layout, so Recharts' ResponsiveContainer would measure 0x0 and
// render nothing; give charts a fixed size in tests instead.
vi.mock('recharts', async (importOriginal) => {
  const mod = await importOriginal<typeof import('recharts')>()
  const { cloneElement, createElement, isValidElement } = await import('react')
  function ResponsiveContainer({ children }: { children: unknown }) {
    const child = isValidElement(children)
      ? cloneElement(children as React.ReactElement<{ width?: number; height?: number }>, { width: 640, height: 240 })
      : (children as React.ReactNode)
    return createElement('div', { style: { width: 640, height: 240 } }, child)
  }
  return { ...mod, ResponsiveContainer }
})
