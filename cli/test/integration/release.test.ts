// `vigil release` against a real quarantine file and a real Postfix smtp-sink as the next hop.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { it } from 'node:test'
import { CC } from '@vigil/protocol'
import { startSmtpSink, tmpDir } from '../../../test/harness/index.ts'
import { runCli } from '../../src/cli.ts'

const QUARANTINE = new URL('../../../filter-core/src/quarantine/index.ts', import.meta.url)

it('vigil release re-sends a quarantined message to the next hop with its original envelope', async (t) => {
  if (!existsSync(QUARANTINE) || !existsSync(new URL('../../../filter-core/src/tools/release.ts', import.meta.url)))
    return t.skip('filter-core quarantine or release not built yet')
  const { createQuarantine } = (await import(
    QUARANTINE.href
  )) as typeof import('@vigil/filter-core/quarantine/index.ts')
  const dir = await tmpDir(t, 'cli-release')
  const sink = await startSmtpSink(t)
  const home = join(dir, 'home')
  const config = join(dir, 'vigil.yaml')
  writeFileSync(config, `home: ${home}\nfilter:\n  forward_method: 'smtp:[127.0.0.1]:${sink.port}'\n`)
  const mailId = 'Ab3_dE-f9xYz'
  await createQuarantine({ dir: join(home, 'quarantine') }).store(
    mailId,
    Buffer.from('From: s@example.org\r\nTo: r@example.com\r\nSubject: held\r\n\r\nheld body\r\n'),
    { ccat: CC.SPAM, sender: 's@example.org', recipients: ['r@example.com'] },
  )

  let stdout = ''
  let stderr = ''
  const code = await runCli(['release', mailId, '--config', config], {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env: {},
    cwd: dir,
    proc: new EventEmitter(),
  })
  assert.equal(code, 0, stderr)
  assert.match(stdout, new RegExp(`^release ${mailId} from <s@example\\.org> to <r@example\\.com>\\n250 `))
  const [mail] = await sink.waitForMessages(1)
  assert.equal(mail.mailFrom, 's@example.org')
  assert.deepEqual(mail.rcpts, ['r@example.com'])
  assert.equal(mail.header('x-quarantine-id'), `<${mailId}>`)
  assert.equal(mail.header('x-envelope-from'), undefined)
  assert.equal(mail.header('subject'), 'held')
})
