#!/usr/bin/env node
/**
 * Check that every endpoint the web client calls exists in the backend's
 * OpenAPI schema.
 *
 *   node scripts/check-openapi.mjs http://127.0.0.1:8000/openapi.json
 *   node scripts/check-openapi.mjs path/to/openapi.json
 *   node scripts/check-openapi.mjs URL --ignore /health,/ready   (skip some paths)
 *
 * The endpoints come from src/api/endpoints.json (client.ts builds every URL
 * from it). Path parameter names may differ ({id} matches {experiment_id}).
 * Exit 0 when all are present, 1 with a list of the missing ones, 2 when the
 * schema cannot be read.
 */
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const ENDPOINTS_FILE = join(here, '..', 'src', 'api', 'endpoints.json')

/** `/v1/users/{user_id}` -> `/v1/users/{}`, without a trailing slash. */
export function normalizePath(p) {
  const s = p.replace(/\{[^}]*\}/g, '{}')
  return s.length > 1 ? s.replace(/\/+$/, '') : s
}

/** Endpoints ({name, method, path}) missing from an OpenAPI document. */
export function missingEndpoints(schema, endpoints) {
  const have = new Map()
  for (const [path, item] of Object.entries(schema?.paths ?? {})) {
    const methods = new Set(
      Object.keys(item ?? {})
        .map((m) => m.toUpperCase())
        .filter((m) => ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].includes(m)),
    )
    const key = normalizePath(path)
    have.set(key, new Set([...(have.get(key) ?? []), ...methods]))
  }
  const missing = []
  for (const ep of endpoints) {
    const methods = have.get(normalizePath(ep.path))
    if (!methods) missing.push({ ...ep, why: 'path not in schema' })
    else if (!methods.has(ep.method)) missing.push({ ...ep, why: `path exists but not for ${ep.method} (has ${[...methods].join(', ') || 'no methods'})` })
  }
  return missing
}

async function loadSchema(src) {
  if (/^https?:\/\//i.test(src)) {
    const res = await fetch(src, { headers: { Accept: 'application/json' } })
    if (!res.ok) throw new Error(`GET ${src} answered ${res.status} ${res.statusText}`)
    return res.json()
  }
  return JSON.parse(await readFile(src, 'utf8'))
}

async function main() {
  const args = process.argv.slice(2)
  const ignoreAt = args.indexOf('--ignore')
  const ignore = new Set(
    ignoreAt >= 0 ? (args.splice(ignoreAt, 2)[1] ?? '').split(',').filter(Boolean).map(normalizePath) : [],
  )
  const src = args[0] ?? process.env.OPENAPI_URL
  if (!src || src === '-h' || src === '--help') {
    console.error('usage: node scripts/check-openapi.mjs <url-or-file of openapi.json> [--ignore /path,/path]')
    process.exit(2)
  }
  let schema
  try {
    schema = await loadSchema(src)
  } catch (err) {
    console.error(`cannot read the OpenAPI schema from ${src}: ${err.message}`)
    process.exit(2)
  }
  if (!schema || typeof schema.paths !== 'object') {
    console.error(`${src} is not an OpenAPI document (no "paths")`)
    process.exit(2)
  }
  const file = JSON.parse(await readFile(ENDPOINTS_FILE, 'utf8'))
  const endpoints = Object.entries(file.endpoints)
    .map(([name, ep]) => ({ name, ...ep }))
    .filter((ep) => !ignore.has(normalizePath(ep.path)))
  const missing = missingEndpoints(schema, endpoints)
  if (missing.length) {
    console.error(`${missing.length} of ${endpoints.length} endpoints used by the web client are missing from ${src}:`)
    for (const m of missing) console.error(`  ${m.method.padEnd(5)} ${m.path}  (${m.name}: ${m.why})`)
    process.exit(1)
  }
  console.log(`ok: all ${endpoints.length} endpoints used by the web client are in ${src}`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main()
