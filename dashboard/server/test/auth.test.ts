// Users and security of the dashboard server through fastify inject (no collector needed):
// scrypt hashes, login/logout, 401 without a session, CSRF 403, 429 after failed logins, roles,
// saved searches, user management, security headers, the first-start admin password.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { createLogger } from '@vigil/protocol'
import { buildDashboardApp, ensureFirstAdmin } from '../src/app.ts'
import { dashboardConfigSchema } from '../src/config.ts'
import { createUserStore, type UserStore } from '../src/auth/users.ts'
import { dashboardDbPath } from '../src/auth/db.ts'
import { hashPassword, verifyPassword } from '../src/auth/password.ts'
import { freePort, tmpDir } from '../../../test/harness/index.ts'
import { buildWeb } from './helpers.ts'

const quiet = createLogger({ name: 'test', level: 'fatal' })

async function setup(t: import('node:test').TestContext, extra: Record<string, unknown> = {}) {
  const home = await tmpDir(t, 'vigil-auth-')
  const lines: string[] = []
  const log = createLogger({ name: 'dash', level: 'info', write: (l) => lines.push(l) })
  const users = createUserStore(home, { scryptLogN: 10 })
  t.after(() => users.close())
  await users.add('ann', 'admin', 'admin-password-1')
  await users.add('vic', 'viewer', 'viewer-password-1')
  const cfg = dashboardConfigSchema.parse({
    collector_http: `127.0.0.1:${await freePort()}`,
    upstream_timeout_secs: 1,
    web_dir: await buildWeb(),
    ...extra,
    auth: { scrypt_log_n: 10, ...((extra.auth as object) ?? {}) },
  })
  const app = await buildDashboardApp(cfg, log, users)
  t.after(() => app.close())
  return { app, users, home, lines }
}

const cookieOf = (r: LightMyRequestResponse) => r.cookies.map((c) => `${c.name}=${c.value}`).join('; ')

async function loginAs(app: FastifyInstance, name: string, password: string) {
  const r = await app.inject({ method: 'POST', url: '/api/login', payload: { name, password } })
  assert.equal(r.statusCode, 200, r.body)
  return { cookie: cookieOf(r), csrf: r.json().csrf as string, body: r.json(), res: r }
}

test('scrypt hashes: stored format and parameters, NFC, verify uses the stored cost', async () => {
  const h = await hashPassword('caf\u00e9-pass', 10)
  assert.match(h, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/)
  assert.equal(await verifyPassword('cafe\u0301-pass', h), true, 'NFC: decomposed é matches')
  assert.equal(await verifyPassword('cafe-pass', h), false)
  assert.equal(await verifyPassword('x', 'garbage'), false)
  const strong = await hashPassword('p', 17)
  assert.match(strong, /^scrypt\$131072\$8\$1\$/, 'the default cost is N=2^17')
  assert.equal(await verifyPassword('p', strong), true)
})

test('login, /api/me, logout; 401 without a session; cookie flags', async (t) => {
  const { app, lines } = await setup(t)
  for (const url of ['/api/me', '/api/status', '/api/search', '/api/stream', '/metrics', '/api/users', '/api/nope']) {
    const r = await app.inject({ url })
    assert.equal(r.statusCode, 401, url)
    assert.equal(r.json().code, 'UNAUTHORIZED')
  }
  const bad = await app.inject({ method: 'POST', url: '/api/login', payload: { name: 'ann', password: 'nope-nope' } })
  assert.equal(bad.statusCode, 401)
  assert.ok(
    lines.some((l) => /login failed/i.test(l) && l.includes('ann')),
    'the failed login is logged',
  )
  assert.ok(!lines.some((l) => l.includes('nope-nope')), 'never the password')
  const unknown = await app.inject({ method: 'POST', url: '/api/login', payload: { name: 'zed', password: 'x' } })
  assert.equal(unknown.statusCode, 401)

  const { cookie, csrf, body, res } = await loginAs(app, 'ann', 'admin-password-1')
  assert.deepEqual(body.user, { name: 'ann', role: 'admin' })
  assert.equal(body.raw_subjects, true)
  const c = res.cookies.find((x) => x.name === 'vigil_session')!
  assert.equal(c.httpOnly, true)
  assert.equal(c.sameSite, 'Strict')
  assert.equal(c.secure, undefined)
  assert.ok((c.maxAge ?? 0) > 0 || (c.expires && c.expires.getTime() > Date.now()), 'an idle timeout')
  const me = await app.inject({ url: '/api/me', headers: { cookie } })
  assert.equal(me.statusCode, 200)
  assert.equal(me.json().user.name, 'ann')
  assert.ok(me.json().csrf)

  const out = await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie, 'x-csrf-token': csrf } })
  assert.equal(out.statusCode, 200)
  assert.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401, 'the session is gone')
})

test('sessions live in SQLite: a new app on the same database knows them; deleting a user ends them', async (t) => {
  const { app, users } = await setup(t)
  const { cookie } = await loginAs(app, 'vic', 'viewer-password-1')
  const cfg = dashboardConfigSchema.parse({ web_dir: await buildWeb(), auth: { scrypt_log_n: 10 } })
  const app2 = await buildDashboardApp(cfg, quiet, users)
  t.after(() => app2.close())
  assert.equal((await app2.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200)
  users.remove('vic')
  assert.equal((await app2.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401)
})

test('unsafe methods need the x-csrf-token header (403)', async (t) => {
  const { app } = await setup(t)
  const { cookie, csrf } = await loginAs(app, 'ann', 'admin-password-1')
  const payload = { name: 'mine', hash: '#/discover?q=a' }
  const no = await app.inject({ method: 'POST', url: '/api/saved-searches', headers: { cookie }, payload })
  assert.equal(no.statusCode, 403)
  const wrong = await app.inject({
    method: 'POST',
    url: '/api/saved-searches',
    headers: { cookie, 'x-csrf-token': 'x' + csrf.slice(1) },
    payload,
  })
  assert.equal(wrong.statusCode, 403)
  const other = await loginAs(app, 'vic', 'viewer-password-1')
  const foreign = await app.inject({
    method: 'POST',
    url: '/api/saved-searches',
    headers: { cookie, 'x-csrf-token': other.csrf },
    payload,
  })
  assert.equal(foreign.statusCode, 403, "another session's token does not do")
  const ok = await app.inject({
    method: 'POST',
    url: '/api/saved-searches',
    headers: { cookie, 'x-csrf-token': csrf },
    payload,
  })
  assert.equal(ok.statusCode, 201)
  const logout = await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie } })
  assert.equal(logout.statusCode, 403)
})

test('429 with retry-after after N failed logins, per address and per user name', async (t) => {
  const { app } = await setup(t, { auth: { login_max_failures: 3, login_window_secs: 60 } })
  const attempt = (name: string, password: string, ip = '10.0.0.1') =>
    app.inject({ method: 'POST', url: '/api/login', payload: { name, password }, remoteAddress: ip })
  for (let i = 0; i < 3; i++) assert.equal((await attempt('ann', 'bad-password')).statusCode, 401)
  const limited = await attempt('ann', 'admin-password-1')
  assert.equal(limited.statusCode, 429, 'even the right password, once limited')
  assert.ok(Number(limited.headers['retry-after']) > 0)
  assert.ok(limited.json().retry_after_secs > 0)
  // Per user name: the same name from other addresses is limited too…
  assert.equal((await attempt('ann', 'admin-password-1', '10.0.0.2')).statusCode, 429)
  // …while another user from a fresh address logs in.
  assert.equal((await attempt('vic', 'viewer-password-1', '10.0.0.3')).statusCode, 200)
  // Per address: one address trying many names.
  for (const n of ['x1', 'x2', 'x3']) await attempt(n, 'bad-password', '10.0.0.9')
  assert.equal((await attempt('vic', 'viewer-password-1', '10.0.0.9')).statusCode, 429)
})

test('roles: a viewer gets 403 on the user management API; an admin manages users', async (t) => {
  const { app, users } = await setup(t)
  const v = await loginAs(app, 'vic', 'viewer-password-1')
  assert.equal(v.body.raw_subjects, false)
  const vh = { cookie: v.cookie, 'x-csrf-token': v.csrf }
  assert.equal((await app.inject({ url: '/api/users', headers: vh })).statusCode, 403)
  const add = { name: 'eve', role: 'admin', password: 'eve-password-1' }
  assert.equal((await app.inject({ method: 'POST', url: '/api/users', headers: vh, payload: add })).statusCode, 403)
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/users/ann', headers: vh })).statusCode, 403)
  assert.equal(
    (
      await app.inject({
        method: 'POST',
        url: '/api/users/ann/password',
        headers: vh,
        payload: { password: 'x'.repeat(9) },
      })
    ).statusCode,
    403,
  )
  assert.equal(users.get('eve'), undefined)

  const a = await loginAs(app, 'ann', 'admin-password-1')
  const ah = { cookie: a.cookie, 'x-csrf-token': a.csrf }
  const list = await app.inject({ url: '/api/users', headers: ah })
  assert.deepEqual(
    list.json().users.map((u: { name: string; role: string }) => [u.name, u.role]),
    [
      ['ann', 'admin'],
      ['vic', 'viewer'],
    ],
  )
  assert.ok(!list.body.includes('scrypt$'), 'no hashes in the answer')
  const added = await app.inject({
    method: 'POST',
    url: '/api/users',
    headers: ah,
    payload: { ...add, role: 'viewer' },
  })
  assert.equal(added.statusCode, 201)
  assert.equal((await app.inject({ method: 'POST', url: '/api/users', headers: ah, payload: add })).statusCode, 409)
  assert.equal(
    (await app.inject({ method: 'POST', url: '/api/users', headers: ah, payload: { ...add, name: 'x y' } })).statusCode,
    400,
  )
  const reset = await app.inject({
    method: 'POST',
    url: '/api/users/vic/password',
    headers: ah,
    payload: { password: 'new-viewer-pass' },
  })
  assert.equal(reset.statusCode, 200)
  assert.equal(
    (await app.inject({ url: '/api/me', headers: { cookie: v.cookie } })).statusCode,
    401,
    'reset ends sessions',
  )
  await loginAs(app, 'vic', 'new-viewer-pass')
  assert.equal(
    (await app.inject({ method: 'DELETE', url: '/api/users/ann', headers: ah })).statusCode,
    400,
    'not yourself',
  )
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/users/eve', headers: ah })).statusCode, 200)
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/users/eve', headers: ah })).statusCode, 404)
})

test('saved searches are per user', async (t) => {
  const { app } = await setup(t)
  const a = await loginAs(app, 'ann', 'admin-password-1')
  const v = await loginAs(app, 'vic', 'viewer-password-1')
  const ah = { cookie: a.cookie, 'x-csrf-token': a.csrf }
  const saved = await app.inject({
    method: 'POST',
    url: '/api/saved-searches',
    headers: ah,
    payload: { name: 'Rejects', hash: '#/discover?q=action:REJECT' },
  })
  assert.equal(saved.statusCode, 201)
  const s = saved.json()
  assert.equal(s.name, 'Rejects')
  assert.equal(typeof s.id, 'string')
  assert.ok(s.created_ms > 0)
  assert.deepEqual((await app.inject({ url: '/api/saved-searches', headers: ah })).json(), { searches: [s] })
  const vh = { cookie: v.cookie, 'x-csrf-token': v.csrf }
  assert.deepEqual((await app.inject({ url: '/api/saved-searches', headers: vh })).json(), { searches: [] })
  assert.equal(
    (await app.inject({ method: 'DELETE', url: `/api/saved-searches/${s.id}`, headers: vh })).statusCode,
    404,
  )
  assert.equal(
    (await app.inject({ method: 'POST', url: '/api/saved-searches', headers: ah, payload: { name: '', hash: 'x' } }))
      .statusCode,
    400,
  )
  assert.equal(
    (await app.inject({ method: 'DELETE', url: `/api/saved-searches/${s.id}`, headers: ah })).statusCode,
    200,
  )
  assert.deepEqual((await app.inject({ url: '/api/saved-searches', headers: ah })).json(), { searches: [] })
})

test('strict CSP with a per-response style nonce, published in index.html; nosniff; no referrer', async (t) => {
  const { app } = await setup(t)
  const one = await app.inject({ url: '/' })
  const two = await app.inject({ url: '/' })
  for (const r of [one, two, await app.inject({ url: '/api/me' }), await app.inject({ url: '/nope.js' })]) {
    const csp = String(r.headers['content-security-policy'])
    assert.match(csp, /default-src 'self'/)
    assert.match(csp, /script-src 'self'(;|$)/)
    assert.match(csp, /style-src 'self' 'nonce-[A-Za-z0-9+/=]+'/)
    assert.match(csp, /frame-ancestors 'none'/)
    assert.match(csp, /object-src 'none'/)
    assert.match(csp, /base-uri 'none'/)
    assert.doesNotMatch(csp, /unsafe/)
    assert.equal(r.headers['x-content-type-options'], 'nosniff')
    assert.equal(r.headers['referrer-policy'], 'no-referrer')
  }
  const nonce = (r: LightMyRequestResponse) => /'nonce-([^']+)'/.exec(String(r.headers['content-security-policy']))![1]
  assert.notEqual(nonce(one), nonce(two), 'a new nonce per answer')
  assert.ok(one.body.includes(`<meta name="csp-nonce" content="${nonce(one)}">`))
  assert.match(one.body, /<link rel="stylesheet"[^>]* href="\/assets\//, "Vite's CSS is a <link>")
})

test('first start: an admin password is generated, stored hashed, logged once; the database is 0600', async (t) => {
  const home = await tmpDir(t, 'vigil-first-')
  const lines: string[] = []
  const log = createLogger({ name: 'dash', level: 'info', write: (l) => lines.push(l) })
  const users: UserStore = createUserStore(home, { scryptLogN: 10 })
  t.after(() => users.close())
  const pw = await ensureFirstAdmin(users, log)
  assert.ok(pw && pw.length >= 16)
  assert.deepEqual(
    users.list().map((u) => [u.name, u.role]),
    [['admin', 'admin']],
  )
  assert.ok((await users.verify('admin', pw)) !== undefined)
  assert.equal(lines.filter((l) => l.includes(pw)).length, 1, 'printed once')
  const row = users.db.prepare("SELECT hash FROM users WHERE name = 'admin'").get() as { hash: string }
  assert.match(row.hash, /^scrypt\$/)
  assert.ok(!row.hash.includes(pw))
  assert.equal(await ensureFirstAdmin(users, log), undefined, 'not again once users exist')
  assert.equal(lines.filter((l) => l.includes(pw)).length, 1)
  assert.equal(statSync(dashboardDbPath(home)).mode & 0o777, 0o600)
})
