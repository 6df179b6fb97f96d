// Validates snmp-agent/mib/AMAVIS-MIB.txt with net-snmp's own MIB parser (snmptranslate), and with
// smilint when smitools is installed. Debian ships no IETF modules, so SNMPv2-SMI/SNMPv2-TC come
// from test/fixtures/mibs unless the real ones are in /usr/share/snmp/mibs.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { COUNTERS } from '@vigil/protocol'

const mibFile = fileURLToPath(new URL('../../mib/AMAVIS-MIB.txt', import.meta.url))
const fixtureDir = fileURLToPath(new URL('../fixtures/mibs', import.meta.url))
const systemDir = '/usr/share/snmp/mibs'
const mibDirs = existsSync(join(systemDir, 'SNMPv2-SMI.txt')) ? systemDir : fixtureDir

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, ...env }, timeout: 30000, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}
function snmptranslate(t: { after(fn: () => void): void }, args: string[]) {
  const persist = mkdtempSync(join(tmpdir(), 'vigil-mib-'))
  t.after(() => rmSync(persist, { recursive: true, force: true }))
  return run('snmptranslate', ['-PW', '-M', mibDirs, '-m', mibFile, ...args], {
    MIBS: '',
    SNMP_PERSISTENT_DIR: persist,
  })
}
const parserNoise = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.trim() && !/MACRO \(lines \d+\.\.\d+ parsed and ignored\)|^Created directory:/.test(l))
    .join('\n')

const TP_TYPE: Record<string, string> = {
  Counter32: 'Counter',
  Counter64: 'Counter64',
  Gauge32: 'Gauge',
  Integer32: 'Integer32',
  TimeTicks: 'TimeTicks',
  TimeInterval: 'INTEGER',
  DisplayString: 'String',
  'OBJECT IDENTIFIER': 'ObjID',
}

describe("AMAVIS-MIB under net-snmp's parser", () => {
  it('parses without warnings and maps every object name to the catalogue OID (snmptranslate -Tz)', async (t) => {
    const r = await snmptranslate(t, ['-Tz'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(parserNoise(r.stderr), '')
    const got = new Map([...r.stdout.matchAll(/^"([^"]+)"\s+"([\d.]+)"$/gm)].map((m) => [m[1], m[2]]))
    for (const c of COUNTERS) assert.equal(got.get(c.mibName), c.oid.replace(/\.0$/, ''), c.mibName)
  })

  it('shows every object read-only with its SYNTAX in the tree of amavis (snmptranslate -Tp -IR)', async (t) => {
    const r = await snmptranslate(t, ['-Tp', '-IR', 'amavis'])
    assert.equal(r.code, 0, r.stderr)
    const leaves = new Map([...r.stdout.matchAll(/-R--\s+(\S+)\s+(\w+)\(\d+\)/g)].map((m) => [m[2], m[1]]))
    assert.equal(leaves.size, COUNTERS.length)
    for (const c of COUNTERS) assert.equal(leaves.get(c.mibName), TP_TYPE[c.syntax], c.mibName)
  })

  it('resolves a symbolic instance to the OID the agent serves', async (t) => {
    const r = await snmptranslate(t, ['-On', 'AMAVIS-MIB::contentVirusMsgsInbound.0', 'AMAVIS-MIB::procBusy30h.0'])
    assert.deepEqual(r.stdout.split('\n').filter(Boolean), [
      '.1.3.6.1.4.1.15312.2.1.1.10.9.2.0',
      '.1.3.6.1.4.1.15312.2.1.2.2.22.0',
    ])
  })

  it('passes smilint at level 3 without errors when smitools is installed', async (t) => {
    const which = await run('sh', ['-c', 'command -v smilint'])
    if (which.code !== 0) {
      t.skip('smilint not installed (Debian package smitools)')
      return
    }
    const r = await run('smilint', [
      '-l',
      '3',
      '-p',
      join(mibDirs, 'SNMPv2-SMI.txt'),
      '-p',
      join(mibDirs, 'SNMPv2-TC.txt'),
      mibFile,
    ])
    assert.doesNotMatch(r.stdout + r.stderr, /error/i)
  })
})
