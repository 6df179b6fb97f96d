// DKIM interop: Vigil's signatures verified by Perl's Mail::DKIM (Debian libmail-dkim-perl) and by
// the real spamd's DKIM plugin (DKIM_VALID, DKIM_VALID_AU), Mail::DKIM's and a real amavisd's
// signatures verified by Vigil. Every key comes from a real NSD on loopback (test/harness/dns.ts).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sendMail, startDns, startSmtpSink, startSpamd, tmpDir } from '../harness/index.ts'
import { MESSAGE, forwarded, makeKey, runMessage, txtRecord } from '../../filter-core/test/dkim/helpers.ts'
import { startAmavisd } from './amavis.ts'
import { startTestFilter } from '../../filter-core/test/helpers.ts'

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url))
const rsa = makeKey('rsa')
const amv = makeKey('rsa')

async function setup(t: import('node:test').TestContext) {
  const dir = await tmpDir(t, 'dkim-interop')
  chmodSync(dir, 0o755) // amavisd reads its key as the amavis user
  const keyFile = join(dir, 'vigil.pem')
  const amvFile = join(dir, 'amavis.pem')
  writeFileSync(keyFile, rsa.privatePem, { mode: 0o644 })
  writeFileSync(amvFile, amv.privatePem, { mode: 0o644 })
  const dns = await startDns(t, {
    zones: {
      'example.com': [
        { name: 'vig._domainkey', type: 'TXT', data: txtRecord(rsa) },
        { name: 'amv._domainkey', type: 'TXT', data: txtRecord(amv) },
      ],
    },
  })
  const filter = {
    dns: { servers: [dns.server], timeout_ms: 1000, tries: 1 },
    enable_dkim_signing: true,
    dkim_keys: [{ domain: 'example.com', selector: 'vig', key_file: keyFile }],
  }
  return { dns, filter, keyFile, amvFile }
}

test(
  'Vigil signs: Mail::DKIM says pass, and the real spamd scores DKIM_VALID and DKIM_VALID_AU',
  { timeout: 180_000 },
  async (t) => {
    const { dns, filter } = await setup(t)
    const signed = await forwarded(await runMessage(MESSAGE, filter, { clientIp: '10.0.0.5' }))
    const perl = spawnSync('perl', [here('./dkim-verify.pl'), '127.0.0.1', String(dns.port)], {
      input: signed,
      timeout: 30_000,
    })
    assert.match(
      perl.stdout.toString(),
      /^pass d=example\.com s=vig a=rsa-sha256 c=relaxed\/simple /,
      perl.stderr.toString(),
    )
    const spamd = await startSpamd(t, { network: true, config: ['dns_available yes', `dns_server ${dns.server}`] })
    const r = await spamd.check(signed)
    for (const s of ['DKIM_SIGNED', 'DKIM_VALID', 'DKIM_VALID_AU'])
      assert.ok(r.symbols.includes(s), `${s} in ${r.symbols}`)
    // The same message with its body changed: the plugin sees the signature but not valid.
    const bad = await spamd.check(Buffer.from(signed.toString().replace('see you.', 'send money.')))
    assert.ok(bad.symbols.includes('DKIM_SIGNED') && !bad.symbols.includes('DKIM_VALID'), String(bad.symbols))
  },
)

test(
  'Mail::DKIM signs: Vigil verifies pass (relaxed/simple and simple/simple); tampered: fail',
  { timeout: 60_000 },
  async (t) => {
    const { dns, filter, keyFile } = await setup(t)
    for (const method of ['relaxed/simple', 'simple/simple']) {
      const perl = spawnSync('perl', [here('./dkim-sign.pl'), keyFile, 'example.com', 'vig', method], {
        input: MESSAGE,
        timeout: 30_000,
      })
      assert.equal(perl.status, 0, perl.stderr.toString())
      const r = await runMessage(perl.stdout, filter)
      assert.deepEqual(r.event.dkim_valid_sig, ['example.com'], method)
      assert.equal(r.event.dkim_author_sig, 'example.com')
      const bad = await runMessage(Buffer.from(perl.stdout.toString().replace('see you.', 'send money.')), filter)
      assert.equal(bad.event.dkim_valid_sig, undefined)
    }
    assert.ok(dns.process.running())
  },
)

test('a real amavisd signs originating mail: Vigil verifies pass', { timeout: 180_000 }, async (t) => {
  const { filter, amvFile } = await setup(t)
  const sink = await startSmtpSink(t)
  const amavis = await startAmavisd(t, {
    name: 'interop-amavisd-dkim',
    myhostname: 'mx.example.com',
    forwardPort: sink.port,
    conf: ['$enable_dkim_signing = 1;', `dkim_key('example.com', 'amv', '${amvFile}');`, '$originating = 1;'],
  })
  const res = await sendMail({
    port: amavis.port,
    from: 'alice@example.com',
    to: ['bob@example.test'],
    data: MESSAGE.toString(),
  })
  assert.equal(res.accepted, true, String(res.transcript))
  const [msg] = await sink.waitForMessages(1, 60_000)
  assert.match(msg.data.toString(), /^DKIM-Signature:[^]*?\bs=amv\b/m, amavis.log().slice(-2000))
  const r = await runMessage(msg.dataCrlf, filter)
  assert.deepEqual(r.event.dkim_valid_sig, ['example.com'])
  assert.equal(r.event.dkim_author_sig, 'example.com')
})

test(
  'the real filter (worker processes): Mail::DKIM-signed mail gets dkim=pass, originating mail leaves signed',
  { timeout: 120_000 },
  async (t) => {
    const { dns, filter, keyFile } = await setup(t)
    const sink = await startSmtpSink(t)
    const f = await startTestFilter(t, {
      forwardPort: sink.port,
      filter: { ...filter, local_domains_maps: ['example.test'] },
    })
    const perl = spawnSync('perl', [here('./dkim-sign.pl'), keyFile, 'example.com', 'vig'], {
      input: MESSAGE,
      timeout: 30_000,
    })
    const inbound = await sendMail({
      port: f.port,
      from: 'alice@example.com',
      to: ['bob@example.test'],
      data: perl.stdout.toString(),
    })
    assert.equal(inbound.finalCode, 250, String(inbound.transcript))
    const out = await sendMail({
      port: f.port,
      from: 'alice@example.com',
      to: ['carol@example.net'],
      data: MESSAGE.toString(),
      xforward: { ADDR: '10.0.0.5' },
    })
    assert.equal(out.finalCode, 250, String(out.transcript))
    const msgs = await sink.waitForMessages(2, 60_000)
    const toBob = msgs.find((m) => m.rcpts.includes('bob@example.test'))!
    assert.match(
      toBob.data.toString(),
      /^Authentication-Results: filter\.test \(amavis\);\r?\n dkim=pass \(2048-bit key\)\r?\n header\.d=example\.com/m,
    )
    const toCarol = msgs.find((m) => m.rcpts.includes('carol@example.net'))!
    const v = spawnSync('perl', [here('./dkim-verify.pl'), '127.0.0.1', String(dns.port)], {
      input: toCarol.dataCrlf,
      timeout: 30_000,
    })
    assert.match(v.stdout.toString(), /^pass d=example\.com s=vig /, v.stderr.toString())
  },
)
