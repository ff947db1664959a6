import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { Suspense, lazy, useState, type ReactNode } from 'react'
import { BrowserRouter, Link, Route, Routes } from 'react-router'
import { ApiError } from './api/client'
import { Layout } from './components/Layout'
import { Loading } from './components/ui'
import { Playground } from './pages/Playground'

// Chart-heavy pages load on demand so the playground stays small.
const Dashboard = lazy(() => import('./pages/Dashboard').then((m) => ({ default: m.Dashboard })))
const Models = lazy(() => import('./pages/Models').then((m) => ({ default: m.Models })))
const Experiments = lazy(() => import('./pages/Experiments').then((m) => ({ default: m.Experiments })))
const Monitoring = lazy(() => import('./pages/Monitoring').then((m) => ({ default: m.Monitoring })))

function Page({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading label="Loading page…" />}>{children}</Suspense>
}

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // 4xx answers will not change by retrying; network errors and 5xx get two more tries.
        retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
        staleTime: 2_000,
      },
      mutations: { retry: false },
    },
  })
}

function NotFound() {
  return (
    <div className="flex flex-col items-start gap-2">
      <h1 className="text-xl font-bold">Page not found</h1>
      <Link to="/" className="rounded text-indigo-700 underline">
        Back to the playground
      </Link>
    </div>
  )
}

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Playground />} />
        <Route path="dashboard" element={<Page><Dashboard /></Page>} />
        <Route path="models" element={<Page><Models /></Page>} />
        <Route path="experiments" element={<Page><Experiments /></Page>} />
        <Route path="monitoring" element={<Page><Monitoring /></Page>} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  )
}

export function Providers({ children, client }: { children: ReactNode; client?: QueryClient }) {
  const [qc] = useState(() => client ?? makeQueryClient())
  return <QueryClientProvider client={qc}>{children}</QueryClientProvider>
}

export default function App() {
  return (
    <Providers>
      <BrowserRouter>
        <AppRoutes />
      </BrowserRouter>
    </Providers>
  )
}
