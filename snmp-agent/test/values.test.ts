import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { COUNTERS_BY_NAME } from '@vigil/protocol'
import { parseOid, VarType } from '../src/agentx/pdu.ts'
import { msToCentiseconds, parseWireInteger, toVarBind, upTimeTicks } from '../src/values.ts'

const def = (name: string) => COUNTERS_BY_NAME.get(name)![0]
const vb = (name: string, type: string | undefined, value = '', now = 0) =>
  toVarBind(def(name), parseOid(def(name).oid), type === undefined ? undefined : { type, value }, now)

describe('responder value → AgentX varbind', () => {
  const cases: Array<[string, string | undefined, string, number, unknown]> = [
    ['InMsgs', 'C32', '1234', VarType.Counter32, 1234],
    ['InMsgs', 'C32', String(2 ** 32 + 5), VarType.Counter32, 5],
    ['InMsgs', 'C32', '4294967295', VarType.Counter32, 4294967295],
    ['InMsgs', undefined, '', VarType.Counter32, 0],
    ['InMsgs', '?', '?', VarType.Counter32, 0],
    ['InMsgsSize', 'C64', '9007199254740993', VarType.Counter64, 9007199254740993n],
    ['InMsgsSize', 'C64', '18446744073709551617', VarType.Counter64, 1n],
    ['InMsgsSize', 'C64', '1.5e+3', VarType.Counter64, 1500n],
    ['ProcBusy', 'G32', '3', VarType.Gauge32, 3],
    ['ProcBusy', 'G32', '-3', VarType.Gauge32, 0],
    ['ProcBusy', 'G32', String(2 ** 40), VarType.Gauge32, 2 ** 32 - 1],
    ['sysServices', 'INT', '64', VarType.Integer, 64],
    ['TimeElapsedTotal', 'C32', '1954', VarType.Integer, 195],
    ['TimeElapsedTotal', 'C32', '1955', VarType.Integer, 196],
    ['TimeElapsedTotal', 'C32', '4', VarType.Integer, 0],
    ['TimeElapsedTotal', 'C32', '5', VarType.Integer, 1],
    ['MtaQueueEntriesDeferred', 'G32', '17', VarType.Gauge32, 17],
  ]
  for (const [name, type, value, wantType, want] of cases)
    it(`serves ${name} ${type ?? '(absent)'} ${value} as type ${wantType} value ${String(want)}`, () => {
      const v = vb(name, type, value)
      assert.equal(v.type, wantType)
      assert.equal(v.value, want)
    })

  it('serves sysName as the UTF-8 octets of the string', () => {
    const v = vb('sysName', 'STR', 'Grüße aus Köln')
    assert.equal(v.type, VarType.OctetString)
    assert.deepEqual(v.value, Buffer.from('Grüße aus Köln', 'utf8'))
    assert.deepEqual(vb('sysContact', undefined).value, Buffer.alloc(0))
  })

  it('serves sysObjectID as an OBJECT IDENTIFIER, and an unusable one as the null OID', () => {
    assert.deepEqual(vb('sysObjectID', 'OID', '1.3.6.1.4.1.15312.2').value, parseOid('1.3.6.1.4.1.15312.2'))
    assert.deepEqual(vb('sysObjectID', 'OID', 'not.an.oid').value, [])
  })

  it('turns sysUpTime INT <unix start> into TimeTicks since then', () => {
    const v = vb('sysUpTime', 'INT', '1700000000', 1700000100_250)
    assert.deepEqual([v.type, v.value], [VarType.TimeTicks, 10025])
    assert.equal(upTimeTicks(1700000000n, 1699999999_000), 0)
  })

  it('rounds TimeElapsed milliseconds to centiseconds as int((ms+5)/10) and wraps at 2^31', () => {
    assert.equal(msToCentiseconds(14n), 1)
    assert.equal(msToCentiseconds(15n), 2)
    assert.equal(msToCentiseconds(2n ** 31n * 10n + 20n), 2)
  })

  it('parses wire integers exactly and rejects non-numbers', () => {
    assert.equal(parseWireInteger('18446744073709551615'), 2n ** 64n - 1n)
    assert.equal(parseWireInteger(' 12 '), 12n)
    for (const bad of ['', '?', 'abc', '1e', 'Infinity']) assert.equal(parseWireInteger(bad), undefined)
  })
})
