// A private OpenLDAP slapd (Debian's slapd 2.5) from a private slapd.conf: core, cosine,
// inetorgperson and the amavis schema Debian's amavisd-new ships (/etc/ldap/schema/amavis.schema),
// one mdb database in a temp dir, listening on ldap://127.0.0.1:PORT only. The system's
// /etc/ldap/slapd.d is never read. Entries are added with Debian's ldapadd (ldap-utils).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { freePort } from './ports.ts'
import { runCommand, spawnService, type ServiceProcess } from './process.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

export const AMAVIS_LDAP_SCHEMA = '/etc/ldap/schema/amavis.schema'

export interface SlapdInstance {
  host: string
  port: number
  /** ldap://127.0.0.1:PORT */
  url: string
  /** dc=example,dc=com */
  suffix: string
  /** The root DN (cn=admin,<suffix>) and its password. */
  rootDn: string
  rootPassword: string
  dir: string
  pid: number
  process: ServiceProcess
  /** Adds LDIF entries as the root DN (ldapadd -x); throws with ldapadd's message on failure. */
  add(ldif: string): Promise<void>
  /** ldapsearch -x -LLL as the root DN; resolves with the LDIF output. */
  search(base: string, filter: string, attrs?: string[]): Promise<string>
  stop(): Promise<void>
}

export async function startSlapd(t: Owner | null, opts: { suffix?: string } = {}): Promise<SlapdInstance> {
  const scope = childScope(t)
  const dir = await tmpDir(scope, 'slapd')
  const dbDir = join(dir, 'db')
  await mkdir(dbDir)
  const host = '127.0.0.1'
  const port = await freePort(host)
  const url = `ldap://${host}:${port}`
  const suffix = opts.suffix ?? 'dc=example,dc=com'
  const rootDn = `cn=admin,${suffix}`
  const rootPassword = 'vigil-test'
  const conf = join(dir, 'slapd.conf')
  writeFileSync(
    conf,
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      `include ${AMAVIS_LDAP_SCHEMA}`,
      `pidfile ${join(dir, 'slapd.pid')}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'database mdb',
      'maxsize 67108864',
      `suffix "${suffix}"`,
      `rootdn "${rootDn}"`,
      `rootpw ${rootPassword}`,
      `directory ${dbDir}`,
      'index objectClass eq',
      'index mail eq',
      '',
    ].join('\n'),
  )
  const ldapArgs = ['-x', '-H', url, '-D', rootDn, '-w', rootPassword]
  const proc = await spawnService({
    t: scope,
    name: 'slapd',
    cmd: 'slapd',
    // -d: stay in the foreground (debug level 0 logs nothing but start-up errors).
    args: ['-d', '0', '-f', conf, '-h', `${url}/`],
    cwd: dir,
    logFile: join(dir, 'slapd.log'),
    pkg: 'slapd',
    readyTimeoutMs: 20_000,
    ready: async () =>
      (
        await runCommand('ldapsearch', [...ldapArgs, '-b', '', '-s', 'base', '-LLL', 'objectClass=*'], {
          timeoutMs: 2000,
          pkg: 'ldap-utils',
        })
      ).code === 0,
  }).catch(async (err: unknown) => {
    await scope.close().catch(() => {})
    throw err
  })
  const add = async (ldif: string) => {
    const r = await runCommand('ldapadd', ldapArgs, { input: ldif, timeoutMs: 10_000, pkg: 'ldap-utils' })
    if (r.code !== 0) throw new Error(`ldapadd: ${(r.stderr || r.stdout).trim()}`)
  }
  const dc = /^dc=([^,]+)/.exec(suffix)?.[1] ?? 'example'
  await add(`dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\no: ${dc}\ndc: ${dc}\n`).catch(
    async (err: unknown) => {
      await scope.close().catch(() => {})
      throw err
    },
  )
  return {
    host,
    port,
    url,
    suffix,
    rootDn,
    rootPassword,
    dir,
    pid: proc.pid,
    process: proc,
    add,
    async search(base, filter, attrs = []) {
      const r = await runCommand('ldapsearch', [...ldapArgs, '-LLL', '-b', base, filter, ...attrs], {
        timeoutMs: 10_000,
        pkg: 'ldap-utils',
      })
      if (r.code !== 0 && r.code !== 32) throw new Error(`ldapsearch: ${r.stderr.trim()}`)
      return r.stdout
    },
    stop: () => scope.close(),
  }
}
