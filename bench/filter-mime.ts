// MIME decoding cost: parseMessage (headers, multipart tree, base64/QP decoding, zip unpacking,
// magic-byte type detection) + checkBanned + checkHeaders on a ~100 KiB multipart message,
// against a baseline of Buffer.indexOf scans over the same bytes in the same run. Also, bounded
// to a few messages, what forking file(1) once per part costs (as amavis does), for scale.
//   node --import tsx bench/filter-mime.ts [--seconds 3]
import { spawnSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { parseMessage } from '../filter-core/src/mime/parse.ts'
import { checkBanned, compileBannedRules, DEFAULT_BANNED_RULES } from '../filter-core/src/checks/banned.ts'
import { checkHeaders } from '../filter-core/src/checks/headers.ts'
import { buildZip } from '../filter-core/src/mime/zip-writer.ts'

const { values } = parseArgs({ options: { seconds: { type: 'string' } } })
const SECONDS = Math.min(30, Number(values.seconds ?? 3))

const zip = (files: { name: string; data: Buffer }[]) => buildZip(files.map((f) => ({ ...f, deflate: true })))

function buildMessage(): Buffer {
  let seed = 1
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed)
  const words = ['release', 'schedule', 'meeting', 'invoice', 'Grüße', 'report', 'quarter', 'numbers', 'café', 'plan']
  const text = (n: number) => Array.from({ length: n }, () => words[rnd() % words.length]).join(' ')
  const wrap = (s: string) => s.replace(/(.{1,72})(\s|$)/g, '$1\n')
  const qp = (s: string) =>
    Buffer.from(s)
      .toString('latin1')
      .replace(/[^\x20-\x7e\n]|=/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
  const b64 = (b: Buffer) => b.toString('base64').replace(/.{1,76}/g, '$&\n')
  const binary = Buffer.alloc(30_000)
  for (let i = 0; i < binary.length; i++) binary[i] = rnd() % 256
  binary.write('%PDF-1.4\n', 0, 'latin1')
  const archive = zip([
    { name: 'docs/readme.txt', data: Buffer.from(wrap(text(1500))) },
    { name: 'docs/data.csv', data: Buffer.from('a,b,c\n1,2,3\n'.repeat(800)) },
    {
      name: 'img/logo.png',
      data: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), binary.subarray(0, 4000)]),
    },
  ])
  const head =
    'Received: from mail.example.com (mail.example.com [192.0.2.10]:41831)\n\tby mx1.example.net (Postfix) with ESMTPS id 4Xyz\n' +
    'From: Alice <alice@example.com>\nTo: Bob <bob@example.net>\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n' +
    'Message-ID: <bench@example.com>\nSubject: =?UTF-8?B?UXVhcnRlcmx5IHJlcG9ydCDigqw=?=\nMIME-Version: 1.0\n' +
    'Content-Type: multipart/mixed; boundary="mix"\n\n'
  const body = [
    '--mix\nContent-Type: multipart/alternative; boundary="alt"\n\n',
    `--alt\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${qp(wrap(text(2500)))}\n`,
    `--alt\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${qp('<html><body><p>' + wrap(text(2500)) + '</p></body></html>')}\n`,
    '--alt--\n',
    `--mix\nContent-Type: application/pdf; name="report.pdf"\nContent-Disposition: attachment; filename="report.pdf"\nContent-Transfer-Encoding: base64\n\n${b64(binary)}`,
    `--mix\nContent-Type: application/zip; name="data.zip"\nContent-Disposition: attachment; filename*=UTF-8''donn%C3%A9es.zip\nContent-Transfer-Encoding: base64\n\n${b64(archive)}`,
    '--mix--\n',
  ].join('')
  return Buffer.from(head + body)
}

function timeLoop(fn: () => void): { perSec: number; iterations: number } {
  for (let i = 0; i < 20; i++) fn() // warm-up
  const end = performance.now() + SECONDS * 1000
  let n = 0
  const start = performance.now()
  while (performance.now() < end) {
    fn()
    n++
  }
  return { perSec: n / ((performance.now() - start) / 1000), iterations: n }
}

const msg = Buffer.from(buildMessage().toString('latin1').replace(/\n/g, '\r\n'), 'latin1')
const rules = compileBannedRules(DEFAULT_BANNED_RULES)
const sample = parseMessage(msg)
const parts = (function count(p: typeof sample.root): number {
  return 1 + p.children.reduce((s, c) => s + count(c), 0)
})(sample.root)
console.log(`message: ${msg.length} bytes, ${parts} parts (${sample.leaves.length} leaves incl. zip members)`)
if (checkBanned(sample, rules).banned || checkHeaders(sample, msg).bad) throw new Error('bench message should be clean')

const needles = ['\r\n--mix', '\r\n--alt', 'Content-Type:', 'filename=', '\r\n\r\n'].map((s) => Buffer.from(s))
const baseline = timeLoop(() => {
  let hits = 0
  for (const needle of needles) for (let i = msg.indexOf(needle); i !== -1; i = msg.indexOf(needle, i + 1)) hits++
  if (hits === 0) throw new Error('baseline found nothing')
})
const full = timeLoop(() => {
  const m = parseMessage(msg)
  checkBanned(m, rules)
  checkHeaders(m, msg)
})
const parseOnly = timeLoop(() => parseMessage(msg))

const mb = msg.length / 1024 / 1024
const row = (name: string, r: { perSec: number }) =>
  console.log(
    `${name.padEnd(44)} ${r.perSec.toFixed(0).padStart(8)} msgs/s ${(r.perSec * mb).toFixed(1).padStart(8)} MiB/s  ` +
      `${(baseline.perSec / r.perSec).toFixed(1).padStart(6)}x baseline time`,
  )
row('baseline: Buffer.indexOf x5 needles', baseline)
row('parseMessage', parseOnly)
row('parseMessage + checkBanned + checkHeaders', full)

// For scale: amavis runs file(1) on every part. Bounded to 5 messages.
const file = spawnSync('file', ['--version'])
if (file.status === 0) {
  const leaves = sample.leaves.filter((l) => l.content)
  const t0 = performance.now()
  const N = 5
  for (let i = 0; i < N; i++) for (const l of leaves) spawnSync('file', ['-b', '-'], { input: l.content })
  const perSec = N / ((performance.now() - t0) / 1000)
  row(`reference: fork file(1) per leaf (${leaves.length}/msg)`, { perSec })
  console.log(
    `ratio: in-process detection+decode is ${(full.perSec / perSec).toFixed(0)}x faster than forking file(1) per part`,
  )
} else console.log('file(1) not installed: fork comparison skipped')
