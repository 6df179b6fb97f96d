// `vigil dkim genkey`/`showkeys` (tools/dkim-keys.ts): the printed TXT record, published by a real
// NSD, lets Perl's Mail::DKIM verify what Vigil signs with the generated key.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startDns, tmpDir } from '../../../test/harness/index.ts'
import { filterConfigSchema } from '../../src/config.ts'
import { genkey, showkeys } from '../../src/tools/dkim-keys.ts'
import { MESSAGE, forwarded, runMessage } from './helpers.ts'

const PERL_VERIFY = fileURLToPath(new URL('../../../test/interop/dkim-verify.pl', import.meta.url))

/** The record's text from the `( "…" "…" )` strings amavisd showkeys prints. */
const recordOf = (out: string) => [...out.split('TXT (')[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('')

for (const type of ['rsa', 'ed25519'] as const)
  test(`genkey (${type}) prints the showkeys record; published, it verifies Vigil's signatures`, async (t) => {
    const dir = await tmpDir(t, 'genkey')
    const keyFile = join(dir, 'k.pem')
    const out = genkey('Example.com', 'g1', { type, keyFile })
    assert.match(out, new RegExp(`^; key#1 ${type === 'rsa' ? 2048 : 256} bits, s=g1, d=example\\.com, ${keyFile}\\n`))
    assert.match(out, /\ng1\._domainkey\.example\.com\.\t3600 TXT \(\n {2}"v=DKIM1; (k=ed25519; )?p="\n/)
    assert.equal(statSync(keyFile).mode & 0o777, 0o600)
    assert.throws(() => genkey('example.com', 'g1', { type, keyFile }), /already exists/)
    const dns = await startDns(t, {
      zones: { 'example.com': [{ name: 'g1._domainkey', type: 'TXT', data: recordOf(out) }] },
    })
    const filter = {
      dns: { servers: [dns.server], timeout_ms: 500, tries: 1 },
      enable_dkim_signing: true,
      dkim_keys: [{ domain: 'example.com', selector: 'g1', key_file: keyFile }],
      dkim_signature_options_bysender_maps: type === 'rsa' ? [] : [{ '.': { a: 'ed25519-sha256' } }],
    }
    const signed = await forwarded(await runMessage(MESSAGE, filter, { clientIp: '10.0.0.5' }))
    assert.deepEqual((await runMessage(signed, filter)).event.dkim_valid_sig, ['example.com'])
    if (type === 'rsa') {
      // Debian's Mail::DKIM has no Ed25519 without CryptX; RSA is checked by it too.
      const r = spawnSync('perl', [PERL_VERIFY, '127.0.0.1', String(dns.port)], { input: signed, timeout: 20_000 })
      assert.match(r.stdout.toString(), /^pass d=example\.com s=g1 /)
    }
    const cfg = filterConfigSchema.parse(filter)
    assert.equal(showkeys(cfg).split('\n').slice(0, -1).join('\n'), out.split('\n\n')[0])
    assert.equal(showkeys(cfg, ['other.example']), 'No DKIM private keys match the selection list.\n')
    assert.ok(existsSync(keyFile))
  })
