// Fuzzed configurations (issue #12, Deliver 7): a bounded, seeded set of mutations of a valid
// vigil.yaml — values swapped for values of other types, networks, regexps and bank names broken,
// keys dropped or invented. Each either loads or fails with one ConfigError listing problems; never
// another exception. What loads must also build the filter's per-recipient lookups and answer a
// lookup without throwing: a value that passes check-config never crash-loops a worker.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { createSettingsLookup } from '@vigil/filter-core/pipeline/settings.ts'
import { normalizeListeners } from '@vigil/filter-core/config.ts'
import { ConfigError, loadConfig } from '../../src/config/load.ts'

const COUNT = 300

const BASE = {
  myhostname: 'fuzz.example',
  filter: {
    listen: ['127.0.0.1:10024', { address: '127.0.0.1:10026', policy_bank: 'ORIGINATING' }],
    mynetworks: ['127.0.0.0/8', '::1/128', '!10.1.2.3', '10.0.0.0/8'],
    policy_banks: { ORIGINATING: { originating: true }, MYNETS: { spam_kill_level_maps: [{ '.': 9 }] } },
    local_domains_maps: ['example.com', '.example.net'],
    spam_lovers_maps: [{ 'lover@example.com': true }, { regexp: [['/^fan-(.*)@example\\.com$/i', true]] }],
    spam_tag2_level_maps: [{ '.example.com': 5.5 }, 6.31],
    bypass_virus_checks_maps: [['!nobypass@example.com', '.']],
    forward_method: 'smtp:[127.0.0.1]:10025',
  },
  collector: { http_listen: '127.0.0.1:0' },
}

function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ODD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1e308,
  '',
  'x',
  '10.0.0.0/33',
  '::/129',
  '/(unclosed/',
  '!',
  'NOPE',
  true,
  [],
  [null],
  {},
  { '': null },
  [[]],
  'smtp:nowhere',
  '\u0000',
  '.'.repeat(300),
]

/** Every [path, container] pair of a plain JSON-ish tree. */
function slots(node: unknown, path: (string | number)[] = []): { path: (string | number)[]; parent: unknown }[] {
  const out: { path: (string | number)[]; parent: unknown }[] = []
  if (Array.isArray(node))
    node.forEach((v, i) => out.push({ path: [...path, i], parent: node }, ...slots(v, [...path, i])))
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) out.push({ path: [...path, k], parent: node }, ...slots(v, [...path, k]))
  return out
}

function mutate(r: () => number): unknown {
  const doc = structuredClone(BASE) as Record<string, unknown>
  const n = 1 + Math.floor(r() * 3)
  for (let k = 0; k < n; k++) {
    const all = slots(doc)
    const { path, parent } = all[Math.floor(r() * all.length)]
    const key = path[path.length - 1]
    const p = parent as Record<string | number, unknown>
    const what = r()
    if (what < 0.7) p[key] = structuredClone(ODD_VALUES[Math.floor(r() * ODD_VALUES.length)])
    else if (what < 0.85 && !Array.isArray(p)) delete p[key]
    else if (!Array.isArray(p)) p[`${String(key)}_x`] = 1
    else p[key] = [p[key], p[key]]
  }
  return doc
}

test(`${COUNT} fuzzed configurations: loaded or one ConfigError, and what loads builds the filter's lookups`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-fuzz-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const r = rng(20261204)
  let loaded = 0
  let rejected = 0
  for (let i = 0; i < COUNT; i++) {
    const doc = mutate(r)
    const file = join(dir, `c${i}.yaml`)
    writeFileSync(file, stringify(doc))
    let cfg
    try {
      cfg = (await loadConfig(['--config', file, '--home', dir], {})).config
    } catch (err) {
      assert.ok(err instanceof ConfigError, `config ${i} threw ${String(err)}:\n${stringify(doc)}`)
      assert.ok(err.problems.length > 0)
      rejected++
      continue
    }
    loaded++
    try {
      normalizeListeners(cfg.filter)
      const lookup = createSettingsLookup(cfg.filter)
      for (const rcpt of ['lover@example.com', 'fan-a@example.com', 'x@example.net', '<>', '']) {
        lookup.settingsFor(rcpt)
        lookup.isLocal(rcpt)
        lookup.senderListing(rcpt, ['a@b.c'])
      }
      for (const ip of ['10.1.2.3', '::1', '192.0.2.1', 'not-an-ip', undefined]) lookup.isMyNetwork(ip)
      lookup.withBanks(lookup.banksFor('ORIGINATING', '10.1.2.4')).settingsFor('lover@example.com')
    } catch (err) {
      assert.fail(`config ${i} passed check-config but its lookups threw ${(err as Error).stack}:\n${stringify(doc)}`)
    }
  }
  // Both outcomes were exercised, or the fuzzer tells nothing.
  assert.ok(loaded > 20, `loaded ${loaded}`)
  assert.ok(rejected > 20, `rejected ${rejected}`)
})
