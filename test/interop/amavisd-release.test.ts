// Debian's REAL amavisd-release (and its requeue form, the same script named amavisd-requeue)
// against Vigil's AM.PDP listeners: a banned mail Vigil quarantined is released to a private
// smtp-sink over the unix socket (the talk's AM.PDP-SOCK bank) and over loopback TCP
// (AM.PDP-INET), requeued to requeue_method, and an unknown mail_id gets amavis's Failure reply.
//
// amavisd-release has its socket hard-coded in a USER CONFIGURABLE block; the test copies it into
// a temp dir and rewrites exactly the `$socketname = ...;` assignment (it fails if that line is
// not found). The copy runs as `perl -T <copy> ...` (the script is tainted). It exits 0 whatever
// the answer and prints every `setreply` value on stderr: that is what the test asserts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, mimeWithAttachment, sendMail, startSmtpSink, tmpDir } from '../harness/index.ts'
import { startFilterStack } from '../../filter-core/test/helpers.ts'

const AMAVISD_RELEASE = '/usr/sbin/amavisd-release'

/** Copies amavisd-release to `dir/name` with `$socketname` set to `socket`; returns the copy's path. */
function privateRelease(dir: string, name: string, socket: string): string {
  const src = readFileSync(AMAVISD_RELEASE, 'utf8')
  const re = /^ {2}\$socketname = .*;$/m
  assert.match(src, re, 'amavisd-release has no `$socketname = ...;` line: its USER CONFIGURABLE block changed')
  const copy = join(dir, name)
  writeFileSync(
    copy,
    src.replace(re, () => `  $socketname = '${socket}';`),
    { mode: 0o755 },
  )
  return copy
}

function run(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/usr/bin/perl', ['-T', script, ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

test('real amavisd-release releases and requeues a message Vigil quarantined, over the unix and the TCP AM.PDP listener', async (t) => {
  assert.ok(
    existsSync(AMAVISD_RELEASE),
    `needs ${AMAVISD_RELEASE} (Debian package amavisd-new); run scripts/provision.sh`,
  )
  const [sink, requeueSink] = await Promise.all([startSmtpSink(t), startSmtpSink(t)])
  const sockDir = await tmpDir(t, 'ampdp-')
  const sock = join(sockDir, 'amavisd.sock')
  const [smtpPort, pdpPort] = [await freePort(), await freePort()]
  const { pull, home } = await startFilterStack(t, {
    events: true,
    forwardPort: sink.port,
    listen: [
      `127.0.0.1:${smtpPort}`,
      { address: `unix:${sock}`, protocol: 'AM.PDP' },
      { address: `127.0.0.1:${pdpPort}`, protocol: 'ampdp' },
    ],
    filter: {
      max_servers: 1,
      final_banned_destiny: 'D_DISCARD',
      // Vigil's mail_ids carry no secret_id (docs/adr/0010-am-pdp.md).
      auth_required_release: false,
      requeue_method: `smtp:[127.0.0.1]:${requeueSink.port}`,
    },
  })
  const r = await sendMail({
    port: smtpPort,
    from: 'sender@example.org',
    to: ['rcpt@example.test', 'second@example.test'],
    data: mimeWithAttachment({
      subject: 'tool',
      filename: 'tool.exe',
      attachment: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100)]),
    }),
  })
  assert.equal(r.finalCode, 250, r.finalReply?.raw)
  assert.match(r.finalReply!.raw, /discarded/)
  const [ev] = (await pull.waitFor(1, 20000)) as Record<string, any>[]
  assert.equal(ev.quar_type, 'Z')
  assert.match(ev.quarantine, /^.\/banned-[A-Za-z0-9_-]{12}\.gz$/)
  const mailId = ev.mail_id as string
  assert.equal(await sink.count(), 0, 'nothing reached the sink before the release')

  // 1. Unix socket, the file name as amavis logs it (`quarantine: X/banned-ID.gz`).
  const unixRelease = privateRelease(sockDir, 'amavisd-release', sock)
  const rel = await run(unixRelease, [ev.quarantine])
  assert.equal(rel.code, 0, rel.stderr)
  const okLine = new RegExp(
    `^250 2\\.0\\.0 from MTA\\(smtp:\\[127\\.0\\.0\\.1\\]:${sink.port}\\): 250 2\\.0\\.0 Ok(: queued as \\S+)?$`,
  )
  const relLines = rel.stderr.trimEnd().split('\n')
  assert.equal(relLines.length, 2, rel.stderr)
  for (const l of relLines) assert.match(l, okLine)
  const [released] = await sink.waitForMessages(1, 10000)
  assert.equal(released.mailFrom, 'sender@example.org')
  assert.deepEqual(released.rcpts, ['rcpt@example.test', 'second@example.test'])
  assert.equal(released.header('subject'), 'tool')
  assert.equal(released.header('x-envelope-from'), undefined)
  assert.equal(released.header('x-quarantine-id'), `<${mailId}>`)
  assert.equal(released.header('resent-from'), '"Content-filter at filter.test" <postmaster@filter.test>')
  assert.equal(released.header('resent-to'), 'undisclosed-recipients:;')

  // 2. TCP (AM.PDP-INET): the bare mail_id and an alternative recipient (the secret_id argument is
  //    skipped because it looks like an address, as amavisd-release does).
  const inetRelease = privateRelease(sockDir, 'amavisd-release-inet', `127.0.0.1:${pdpPort}`)
  const alt = await run(inetRelease, [mailId, 'other@example.test'])
  assert.equal(alt.code, 0, alt.stderr)
  assert.match(alt.stderr.trimEnd(), okLine)
  const second = (await sink.waitForMessages(2, 10000))[1]
  assert.equal(second.mailFrom, 'sender@example.org')
  assert.deepEqual(second.rcpts, ['other@example.test'])
  assert.equal(second.header('resent-to'), '<other@example.test>')

  // 3. The same script named amavisd-requeue sends request=requeue: it goes to requeue_method.
  const requeue = privateRelease(sockDir, 'amavisd-requeue', sock)
  const rq = await run(requeue, [ev.quarantine])
  assert.equal(rq.code, 0, rq.stderr)
  assert.match(
    rq.stderr.split('\n')[0],
    new RegExp(`^250 2\\.0\\.0 from MTA\\(smtp:\\[127\\.0\\.0\\.1\\]:${requeueSink.port}\\): `),
  )
  const [requeued] = await requeueSink.waitForMessages(1, 10000)
  assert.deepEqual(requeued.rcpts, ['rcpt@example.test', 'second@example.test'])
  assert.equal(await sink.count(), 2, 'requeue did not go to the release sink')

  // 4. An unknown mail_id: amavis's Failure reply for a missing quarantine file, nothing sent.
  const unknown = await run(unixRelease, ['AAAAAAAAAAAA'])
  assert.equal(unknown.code, 0, unknown.stderr)
  assert.equal(
    unknown.stderr.trimEnd(),
    `450 4.5.0 Failure: File ${join(home, 'quarantine', 'AAAAAAAAAAAA')} does not exist`,
  )
  const badFile = await run(unixRelease, ['spam-AAAAAAAAAAAA.gz'])
  assert.equal(
    badFile.stderr.trimEnd(),
    `450 4.5.0 Failure: File ${join(home, 'quarantine', 'spam-AAAAAAAAAAAA.gz')} does not exist`,
  )
  assert.equal(await sink.count(), 2)
})
