#!/usr/bin/env node
/**
 * Fail when src/api/schema.d.ts is not what openapi-typescript generates from
 * src/api/openapi.json (the committed OpenAPI schema of the server).
 *
 *   node scripts/check-api-types.mjs     (run by `npm run typecheck`)
 *
 * The generator writes to a temporary file, which is compared with the committed
 * one. On a difference it prints the first differing line and the command that
 * regenerates the types (`npm run gen:api`), and exits 1.
 * tests/api/test_openapi_contract.py checks the other half: that openapi.json is
 * what the server describes.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const web = join(dirname(fileURLToPath(import.meta.url)), '..')
const TYPES = join(web, 'src', 'api', 'schema.d.ts')
const GENERATOR = join(web, 'node_modules', 'openapi-typescript', 'bin', 'cli.js')
// the generator's arguments are those of `npm run gen:api`, with the output sent elsewhere
const GEN_API = JSON.parse(readFileSync(join(web, 'package.json'), 'utf8')).scripts['gen:api'].split(/\s+/)

const dir = mkdtempSync(join(tmpdir(), 'recloop-api-types-'))
try {
  const fresh = join(dir, 'schema.d.ts')
  const args = GEN_API.slice(1).map((a, i, all) => (all[i - 1] === '-o' ? fresh : a))
  execFileSync(process.execPath, [GENERATOR, ...args], { cwd: web, stdio: ['ignore', 'ignore', 'inherit'] })
  const want = readFileSync(fresh, 'utf8').split('\n')
  let have
  try {
    have = readFileSync(TYPES, 'utf8').split('\n')
  } catch {
    console.error('src/api/schema.d.ts is missing: run `npm run gen:api` in web/')
    process.exit(1)
  }
  const at = want.findIndex((line, i) => line !== have[i])
  if (at >= 0 || have.length !== want.length) {
    const line = at >= 0 ? at : Math.min(have.length, want.length)
    console.error(
      `src/api/schema.d.ts is stale against src/api/openapi.json (first difference at line ${line + 1}:\n` +
        `  committed: ${JSON.stringify(have[line] ?? '<end of file>')}\n` +
        `  generated: ${JSON.stringify(want[line] ?? '<end of file>')})\n` +
        'regenerate it: `npm run gen:api` in web/ (after `python scripts/openapi.py` if the server changed)',
    )
    process.exit(1)
  }
  console.log('ok: src/api/schema.d.ts matches src/api/openapi.json')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
