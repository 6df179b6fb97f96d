import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Reply } from 'zeromq'
import { createLogger } from '@vigil/protocol'
import { createResponderClient, parseResponderReply } from '../src/responder-client.ts'

const log = createLogger({ name: 't', write: () => {} })

describe('snmp-responder REQ client', () => {
  it('parses name, type and a value that may contain spaces, stopping at a frame of another channel', () => {
    const r = parseResponderReply('am.snmp', [
      'am.snmp InMsgs C32 12',
      'am.snmp sysDescr STR amavis-2.13.0 (20230106)',
      'am.snmp sysContact STR ',
      'am.snmp Undefined ? ?',
      'am.nanny ProcAll G32 3',
      'am.snmp LateOne C32 1',
    ])
    assert.deepEqual(Object.fromEntries(r.values), {
      InMsgs: { type: 'C32', value: '12' },
      sysDescr: { type: 'STR', value: 'amavis-2.13.0 (20230106)' },
      sysContact: { type: 'STR', value: '' },
      Undefined: { type: '?', value: '?' },
    })
    assert.equal(r.ignored, 2)
  })

  it('recreates its REQ socket after a timeout so the next query is answered', async (t) => {
    const rep = new Reply({ linger: 0 })
    await rep.bind('tcp://127.0.0.1:*')
    const endpoint = rep.lastEndpoint!
    const client = createResponderClient({ endpoint, timeoutMs: 300, log })
    t.after(() => {
      client.close()
      rep.close()
    })
    let n = 0
    ;(async () => {
      try {
        for await (const [msg] of rep) {
          n++
          // The first request is never answered (as amavis's responder does for an early am.nanny?).
          if (n === 1) {
            rep.close()
            return
          }
          await rep.send([`am.snmp InMsgs C32 ${n}`])
        }
      } catch {}
    })()
    await assert.rejects(client.query('am.snmp'), { code: 'VIGIL_ERR_RESPONDER_TIMEOUT' })
    const rep2 = new Reply({ linger: 0 })
    await rep2.bind(endpoint)
    t.after(() => rep2.close())
    ;(async () => {
      try {
        for await (const [msg] of rep2) await rep2.send([`am.snmp InMsgs C32 42`, `am.snmp Echo STR ${msg.toString()}`])
      } catch {}
    })()
    const r = await client.query('am.snmp')
    assert.equal(r.values.get('InMsgs')?.value, '42')
    assert.equal(r.values.get('Echo')?.value, 'am.snmp?')
  })
})
