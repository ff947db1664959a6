import { fireEvent, screen, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { ADMIN_KEY_STORAGE } from './api/client'
import { AppRoutes } from './App'
import { models, decisions } from './test/fixtures'
import { mockApi, renderPage } from './test/utils'

describe('App shell', () => {
  it('has a labelled nav with every page and routes to /models', async () => {
    mockApi({ 'GET /ready': { ready: true, model_version: '3' }, 'GET /v1/models': models, 'GET /v1/models/decisions': decisions })
    renderPage(<AppRoutes />, { route: '/models' })
    const nav = screen.getByRole('navigation', { name: 'Main' })
    for (const name of ['Playground', 'Dashboard', 'Models', 'Experiments', 'Monitoring']) {
      expect(nav).toContainElement(screen.getByRole('link', { name }))
    }
    expect(screen.getByRole('link', { name: 'Models' })).toHaveAttribute('aria-current', 'page')
    expect(await screen.findByRole('heading', { level: 1, name: 'Models' })).toBeInTheDocument()
    expect(await screen.findByLabelText('API status: model v3')).toBeInTheDocument()
  })

  it('keeps the admin key from the settings popover in localStorage', async () => {
    mockApi({ 'GET /ready': { ready: true, model_version: '3' } })
    renderPage(<AppRoutes />, { route: '/nowhere' })
    expect(await screen.findByText('Page not found')).toBeInTheDocument()
    const button = screen.getByTestId('settings-button')
    expect(button).toHaveAttribute('aria-expanded', 'false')
    fireEvent.click(button)
    expect(button).toHaveAttribute('aria-expanded', 'true')
    const input = screen.getByTestId('admin-key-input')
    await waitFor(() => expect(input).toHaveFocus())
    fireEvent.change(input, { target: { value: ' my-key ' } })
    fireEvent.click(screen.getByTestId('admin-key-save'))
    expect(window.localStorage.getItem(ADMIN_KEY_STORAGE)).toBe('my-key')
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(button).toHaveAccessibleName('Settings (admin key set)')
    fireEvent.click(button)
    fireEvent.keyDown(document, { key: 'Escape' })
    expect(screen.queryByRole('dialog')).toBeNull()
  })
})
