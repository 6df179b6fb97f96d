// CURVE between hosts: a remote filter host's children and outer subscribers must present the
// server key; plaintext peers are not heard.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Publisher, Subscriber, curveKeyPair } from 'zeromq'
import { freePort, tmpDir } from '../../../test/harness/index.ts'
import { startCollector, syncBus, testConfig, text, waitFor } from '../helpers.ts'

for (const forwarder of ['js', 'native'] as const)
  test(`accepts a remote host and an outer subscriber over CURVE and ignores plaintext peers (${forwarder})`, async (t) => {
    const dir = await tmpDir(t, 'collector-curve')
    const server = curveKeyPair()
    const [farPort, outerPort] = [await freePort(), await freePort()]
    const env = testConfig(
      dir,
      {
        zmq: {
          inner: [`ipc://${join(dir, 'inner.sock')}`],
          outer: `tcp://127.0.0.1:${outerPort}`,
          snmp: `ipc://${join(dir, 'snmp.sock')}`,
          events: `ipc://${join(dir, 'events.sock')}`,
        },
      },
      {
        forwarder,
        curve: { server_secret_key: server.secretKey, server_public_key: server.publicKey },
        hosts: [{ name: 'far', endpoint: `tcp://127.0.0.1:${farPort}` }],
      },
    )
    const c = await startCollector(t, env)
    const client = curveKeyPair()
    const curveOpts = {
      curveServerKey: server.publicKey,
      curvePublicKey: client.publicKey,
      curveSecretKey: client.secretKey,
    }
    const remote = new Publisher({ linger: 0, ...curveOpts })
    remote.connect(`tcp://127.0.0.1:${farPort}`)
    const plain = new Publisher({ linger: 0 })
    plain.connect(`tcp://127.0.0.1:${farPort}`)
    const sub = new Subscriber({ linger: 0, receiveTimeout: 15000, ...curveOpts })
    sub.connect(`tcp://127.0.0.1:${outerPort}`)
    sub.subscribe('')
    const plainSub = new Subscriber({ linger: 0, receiveTimeout: 300 })
    plainSub.connect(`tcp://127.0.0.1:${outerPort}`)
    plainSub.subscribe('')
    t.after(() => {
      for (const s of [remote, plain, sub, plainSub]) s.close()
    })
    await syncBus(remote, sub)
    await plain.send('am.st 777 1700000100.000 A')
    await remote.send('am.st 4242 1700000100.000 V 04242-01')
    assert.deepEqual(text(await sub.receive()), ['am.st 4242 1700000100.000 V 04242-01'])
    await waitFor(() => c.internals.table.rows().some((r) => r.pid === 4242), 'remote row')
    const rows = c.internals.table.rows()
    assert.deepEqual(
      rows.map((r) => [r.host, r.pid]),
      [['far', 4242]],
    )
    await assert.rejects(plainSub.receive(), { code: 'EAGAIN' }, 'a plaintext subscriber hears nothing')
  })
