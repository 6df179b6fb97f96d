// Interop, issue #13 points 3–4: a REAL amavisd-new 2.13 (@storage_redis_dsn, pen pals on) and
// Vigil's filter-core/src/redis/ on the same private redis-server. amavisd sends anna@ (local,
// originating through MYNETS) → bob@; Vigil's pen-pals query for bob's reply (In-Reply-To the
// Message-ID anna sent) finds the mail_id amavisd wrote, under the key layout amavisd wrote; and
// the scripts amavisd loaded are byte for byte Vigil's (SCRIPT EXISTS on Vigil's SHA1s).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { sendMail, startRedis, startSmtpSink, waitFor } from '../harness/index.ts'
import { LUA_SHA, createRedisStorage } from '@vigil/filter-core/redis/storage.ts'
import { assertAmavisInstalled, startAmavisd } from './amavis.ts'

test(
  'Vigil finds the pen pals a real amavisd saved, under amavisd’s keys and scripts',
  { timeout: 120_000 },
  async (t) => {
    assertAmavisInstalled()
    const redis = await startRedis(t)
    const sink = await startSmtpSink(t)
    const am = await startAmavisd(t, {
      name: 'interop-penpals',
      myhostname: 'real-amavisd.interop.test',
      forwardPort: sink.port,
      conf: [
        `@storage_redis_dsn = ({ server => '${redis.server}' });`,
        '$originating = 1; # every client originates here (the default conf has no MYNETS client policy)',
        "@local_domains_maps = (['.local.example']); $penpals_bonus_score = 8;",
      ],
    })
    const data =
      'From: anna@local.example\r\nTo: bob@remote.example\r\nSubject: lunch\r\n' +
      'Message-ID: <lunch-1@local.example>\r\n\r\nTomorrow?\r\n'
    const r = await sendMail({
      port: am.port,
      from: 'anna@local.example',
      to: ['bob@remote.example'],
      data,
      timeoutMs: 30_000,
    })
    assert.equal(r.finalCode, 250, r.replies.join('\n'))
    const c = new Redis({ host: redis.host, port: redis.port })
    t.after(() => c.disconnect())
    await waitFor(async () => (await c.get('m:<lunch-1@local.example>')) !== null, {
      timeoutMs: 30_000,
      what:
        'amavisd log:\n' +
        am
          .log()
          .split('\n')
          .filter((l) => /redis|penpal|MYNETS|Passed|ORIGINATING/i.test(l))
          .slice(-15)
          .join('\n'),
    })
    const sid = await c.get('a:anna@local.example')
    const rid = await c.get('a:bob@remote.example')
    assert.ok(sid && rid, 'amavisd mapped both addresses to ids')
    const mailId = await c.get(`sr:${sid}:${rid}`)
    assert.ok(mailId, 'amavisd wrote sr:<sender_id>:<recip_id>')
    assert.equal(await c.get(`sm:${sid}::${await c.get('m:<lunch-1@local.example>')}`), mailId)
    assert.ok(Number(await c.hget(mailId, 'time')) > 0, 'the <mail_id> hash has its rx time')
    assert.deepEqual(await c.script('EXISTS', ...Object.values(LUA_SHA)), [1, 1, 1, 1])

    const answers = await createRedisStorage(c).queryPenpals({
      now: Date.now() / 1000,
      nonce: 'VigilReply01',
      sender: 'bob@remote.example',
      recipients: ['anna@local.example'],
      messageIds: ['<lunch-1@local.example>'],
    })
    assert.equal(answers[0].mailId, mailId)
    assert.ok(answers[0].rxTime! > 0)
  },
)
