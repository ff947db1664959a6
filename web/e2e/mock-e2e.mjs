#!/usr/bin/env node
/**
 * Run e2e/run.mjs against e2e/mock-server.mjs on a free port (build web/dist first).
 *   npm run build && npm run e2e:mock
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startMockServer } from './mock-server.mjs'

const here = dirname(fileURLToPath(import.meta.url))
if (!existsSync(join(here, '..', 'dist', 'index.html'))) {
  console.error('web/dist is missing: run `npm run build` first')
  process.exit(1)
}
const server = await startMockServer({ port: 0 })
const { port } = server.address()
const base = `http://127.0.0.1:${port}`
console.log(`mock server on ${base}`)
const child = spawn(process.execPath, [join(here, 'run.mjs')], {
  stdio: 'inherit',
  env: { ...process.env, E2E_BASE_URL: base },
})
child.on('exit', (code) => {
  server.close()
  process.exit(code ?? 1)
})
