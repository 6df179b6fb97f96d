// AM.PDP release/requeue requests: checked as amavis checks them, then re-sent from a real
// quarantine directory to a real smtp-sink.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { CC, commonConfigSchema } from '@vigil/protocol'
import { startSmtpSink, tmpDir } from '../../../test/harness/index.ts'
import { filterConfigSchema } from '../../src/config.ts'
import { createQuarantine } from '../../src/quarantine/index.ts'
import { addAttribute, protoDecode, type AmpdpRequest } from '../../src/ampdp/codec.ts'
import {
  checkQuarantineRequest,
  handleQuarantineRequest,
  secretMatches,
  unquoteAddress,
} from '../../src/ampdp/release.ts'

const request = (attrs: Array<[string, string]>): AmpdpRequest => {
  const r: AmpdpRequest = new Map()
  for (const [k, v] of attrs) addAttribute(r, k, v)
  return r
}
const cfg = (o: Record<string, unknown> = {}) => filterConfigSchema.parse(o)

/** A (mail_id, secret_id) pair made by amavis's own generate_mail_id. */
function amavisMailId(): { mailId: string; secretId: string } {
  const out = execFileSync(
    '/usr/bin/perl',
    [
      '-T',
      '-e',
      'use Amavis::Util qw(generate_mail_id add_entropy); add_entropy(time, $$, rand()); print join(" ", generate_mail_id())',
    ],
    { encoding: 'utf8' },
  )
  const [mailId, secretId] = out.trim().split(' ')
  return { mailId, secretId }
}

describe('secretMatches', () => {
  it('accepts the secret_id amavis made for a mail_id and refuses any other', () => {
    for (let i = 0; i < 5; i++) {
      const { mailId, secretId } = amavisMailId()
      assert.equal(secretMatches(secretId, mailId), true, `${secretId} → ${mailId}`)
      assert.equal(secretMatches(secretId, mailId.slice(1) + 'A'), false)
    }
    assert.equal(secretMatches('AAAAAAAAAAAA', amavisMailId().mailId), false)
  })
})

describe('checkQuarantineRequest', () => {
  const dir = '/q'
  const id = 'Ab3_x-YZ09kq'
  const cases: Array<[what: string, attrs: Array<[string, string]>, o: Record<string, unknown>, refused: string]> = [
    ['no request', [['mail_id', id]], {}, "Missing 'request' field"],
    ['a policy request', [['request', 'smtpd_access_policy']], {}, "Unsupported request 'smtpd_access_policy'"],
    ['no mail_id', [['request', 'release']], {}, "Missing 'mail_id' field"],
    [
      'a bad mail_id',
      [
        ['request', 'release'],
        ['mail_id', 'a/b'],
      ],
      {},
      "Invalid mail_id 'a/b'",
    ],
    [
      'no secret_id',
      [
        ['request', 'release'],
        ['mail_id', id],
      ],
      { auth_required_release: true },
      'Secret_id is required, but missing',
    ],
    [
      'a wrong secret_id',
      [
        ['request', 'release'],
        ['mail_id', id],
        ['secret_id', 'AAAAAAAAAAAA'],
      ],
      { auth_required_release: false },
      `Secret_id AAAAAAAAAAAA does not match mail_id ${id}`,
    ],
    [
      'an SQL quarantine',
      [
        ['request', 'release'],
        ['mail_id', id],
        ['quar_type', 'Q'],
      ],
      {},
      'SQL quarantine code not enabled (3)',
    ],
    [
      'an unsafe file',
      [
        ['request', 'release'],
        ['mail_id', id],
        ['mail_file', '../etc/passwd'],
      ],
      {},
      "Unsafe filename '../etc/passwd'",
    ],
    [
      'a dot-dot file',
      [
        ['request', 'release'],
        ['mail_id', id],
        ['mail_file', 'a/../../x'],
      ],
      {},
      "Unsafe filename 'a/../../x'",
    ],
    [
      'a file of another mail_id',
      [
        ['request', 'release'],
        ['mail_id', id],
        ['mail_file', 'b/banned-BBBBBBBBBBBB.gz'],
      ],
      {},
      `Stored quarantine ID 'BBBBBBBBBBBB' does not match requested ID '${id}'`,
    ],
  ]
  for (const [what, attrs, o, refused] of cases)
    it(`refuses ${what}: "${refused}"`, () =>
      assert.deepEqual(checkQuarantineRequest(request(attrs), cfg({ auth_required_release: false, ...o }), dir), {
        refused,
      }))

  it('takes the mail_id from the file name when amavisd-release split an id starting with - into the prefix', () => {
    const c = checkQuarantineRequest(
      request([
        ['request', 'requeue'],
        ['mail_id', 'banned--bc3_x-YZ09k'],
        ['mail_file', 'x/banned--bc3_x-YZ09k.gz'],
        ['sender', '<s@example.org>'],
        ['recipient', '<"a b"@example.test>'],
        ['recipient', 'c@example.test'],
        ['requested_by', '<admin@example.test>'],
      ]),
      cfg({ auth_required_release: false }),
      dir,
    )
    assert.deepEqual(c, {
      type: 'requeue',
      mailId: '-bc3_x-YZ09k',
      fname: '/q/x/banned--bc3_x-YZ09k.gz',
      sender: 's@example.org',
      recipients: ['a b@example.test', 'c@example.test'],
      requestedBy: 'admin@example.test',
    })
  })

  it('names the file amavis would open when there is no mail_file', () => {
    const c = checkQuarantineRequest(
      request([
        ['request', 'RELEASE'],
        ['mail_id', id],
        ['quar_type', 'Z'],
      ]),
      cfg({ auth_required_release: false }),
      dir,
    )
    assert.equal('fname' in c && c.fname, `/q/A/${id}.gz`)
  })

  it('unquotes addresses as unquote_rfc2821_local', () => {
    assert.equal(unquoteAddress('<"a\\"b"@x>'), 'a"b@x')
    assert.equal(unquoteAddress('<>'), '')
    assert.equal(unquoteAddress('plain@x'), 'plain@x')
  })
})

async function quarantined(t: TestContext, mailId: string) {
  const home = await tmpDir(t, 'ampdp-rel-')
  const dir = join(home, 'quarantine')
  const q = createQuarantine({ dir })
  const raw = Buffer.from('From: a@example.org\r\nSubject: held\r\n\r\nbody\r\n')
  const stored = await q.store(mailId, raw, {
    ccat: CC.BANNED,
    sender: 'orig@example.org',
    recipients: ['r1@example.test', 'r2@example.test'],
  })
  return { home, dir, q, stored }
}

describe('handleQuarantineRequest', () => {
  it('releases with the requested secret_id, sender and recipients to release_method, and adds Resent-* fields', async (t) => {
    const sink = await startSmtpSink(t)
    const { mailId, secretId } = amavisMailId()
    const { home, dir, q, stored } = await quarantined(t, mailId)
    const common = commonConfigSchema.parse({ home, myhostname: 'filter.test' })
    const res = await handleQuarantineRequest(
      request([
        ['request', 'release'],
        ['mail_id', mailId],
        ['secret_id', secretId],
        ['mail_file', stored.location],
        ['sender', '<new@example.org>'],
        ['recipient', '<only@example.test>'],
        ['requested_by', '<admin@example.test>'],
      ]),
      {
        common,
        cfg: cfg({ notify_method: 'smtp:[127.0.0.1]:9', release_method: `smtp:[127.0.0.1]:${sink.port}` }),
        quarantine: q,
        quarantineDir: dir,
        now: () => new Date(Date.UTC(2026, 11, 4, 12, 0, 0)),
      },
    )
    assert.equal(res.outcome, 'released', res.lines.join('\n'))
    assert.equal(res.lines.length, 1)
    assert.equal(protoDecode(res.lines[0]), `setreply=250 2.0.0 from MTA(smtp:[127.0.0.1]:${sink.port}): 250 2.0.0 Ok`)
    const [m] = await sink.waitForMessages(1, 10000)
    assert.equal(m.mailFrom, 'new@example.org')
    assert.deepEqual(m.rcpts, ['only@example.test'])
    assert.equal(m.header('subject'), 'held')
    assert.equal(m.header('resent-from'), '<admin@example.test>')
    assert.equal(m.header('resent-sender'), '"Content-filter at filter.test" <postmaster@filter.test>')
    assert.equal(m.header('resent-to'), '<only@example.test>')
    assert.equal(m.header('resent-date'), 'Fri, 04 Dec 2026 12:00:00 +0000')
    assert.match(m.header('resent-message-id') ?? '', new RegExp(`^<${mailId}-[A-Za-z0-9_-]{12}@filter\\.test>$`))
    assert.equal(m.header('x-envelope-to'), undefined)
  })

  it("passes the next hop's refusal on per recipient", async (t) => {
    const sink = await startSmtpSink(t, { reject: '.' })
    const mailId = 'Rj3ct1dMa1l0'
    const { home, dir, q } = await quarantined(t, mailId)
    const res = await handleQuarantineRequest(
      request([
        ['request', 'release'],
        ['mail_id', mailId],
      ]),
      {
        common: commonConfigSchema.parse({ home, myhostname: 'filter.test' }),
        cfg: cfg({ auth_required_release: false, notify_method: `smtp:[127.0.0.1]:${sink.port}` }),
        quarantine: q,
        quarantineDir: dir,
      },
    )
    assert.equal(res.outcome, 'failed')
    assert.equal(res.lines.length, 2)
    for (const l of res.lines)
      assert.match(
        protoDecode(l),
        new RegExp(`^setreply=5\\d\\d 5\\.\\d+\\.\\d+ from MTA\\(smtp:\\[127\\.0\\.0\\.1\\]:${sink.port}\\): 5`),
      )
    assert.equal(await sink.count(), 0)
  })

  it('refuses an unknown mail_id with "File … does not exist" and sends nothing', async (t) => {
    const { home, dir, q } = await quarantined(t, 'KnownMa1l1d0')
    const res = await handleQuarantineRequest(
      request([
        ['request', 'release'],
        ['mail_id', 'UnknownMa1l0'],
      ]),
      {
        common: commonConfigSchema.parse({ home, myhostname: 'filter.test' }),
        cfg: cfg({ auth_required_release: false }),
        quarantine: q,
        quarantineDir: dir,
      },
    )
    assert.equal(res.outcome, 'refused')
    assert.deepEqual(res.lines.map(protoDecode), [
      `setreply=450 4.5.0 Failure: File ${dir}/U/UnknownMa1l0 does not exist`,
      'return_value=tempfail',
      'exit_code=75',
    ])
  })
})
