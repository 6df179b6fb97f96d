import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { COUNTERS, COUNTERS_BY_NAME, compareOids } from '../src/counters.ts'

describe('counter catalogue', () => {
  it('has the object counts of AMAVIS-MIB: 296 stats, 31 proc, 4 mta', () => {
    const by = (g: string) => COUNTERS.filter((c) => c.group === g).length
    assert.equal(by('amavisStats'), 296)
    assert.equal(by('amavisProc'), 31)
    assert.equal(by('amavisMta'), 4)
  })
  it('has unique OIDs in SNMP order', () => {
    const oids = COUNTERS.map((c) => c.oid)
    assert.equal(new Set(oids).size, oids.length)
    for (let i = 1; i < oids.length; i++) assert.ok(compareOids(oids[i - 1], oids[i]) < 0, oids[i])
  })
  const samples: Array<[string, string, string, string]> = [
    ['1.1.3.0', 'sysUpTime', 'sysUpTime', 'TimeTicks'],
    ['1.2.1.0', 'InMsgs', 'inMsgs', 'Counter32'],
    ['1.3.1.0', 'InMsgsSize', 'inMsgsSize', 'Counter64'],
    ['1.8.11.0', 'QuarMsgsVirus', 'quarVirusMsgs', 'Counter32'],
    ['1.9.2.0', 'QuarMsgsSizeArch', 'quarArchMsgsSize', 'Counter64'],
    ['1.10.9.2.0', 'ContentVirusMsgsInbound', 'contentVirusMsgsInbound', 'Counter32'],
    ['1.16.1.0', 'TimeElapsedTotal', 'timeElapsedTotal', 'TimeInterval'],
    ['1.19.1.0', 'InMsgsStatusAccepted', 'inMsgsStatusAcceptedAll', 'Counter32'],
    ['1.20.2.0', 'InMsgsStatusRelayedUntaggedInbound', 'inMsgsStatusRelayedUntaggedInbound', 'Counter32'],
    ['2.1.1.0', 'ProcGone', 'procGone', 'Counter32'],
    ['2.2.1.0', 'ProcBusy0', 'procBusy0', 'Gauge32'],
    ['2.2.22.0', 'ProcBusy21', 'procBusy30h', 'Gauge32'],
    ['3.1.4.0', 'MtaQueueEntriesDeferred', 'mtaQueueEntriesDeferred', 'Gauge32'],
  ]
  for (const [rel, name, mib, syntax] of samples) {
    it(`maps ${rel} to ${name} (${mib}, ${syntax})`, () => {
      const c = COUNTERS.find((x) => x.relOid === rel)
      assert.ok(c, rel)
      assert.equal(c.name, name)
      assert.equal(c.mibName, mib)
      assert.equal(c.syntax, syntax)
      assert.equal(c.oid, `1.3.6.1.4.1.15312.2.1.${rel}`)
    })
  }
  it('serves the InMsgsStatus{Accepted,…} names at two OIDs each', () => {
    assert.deepEqual(
      COUNTERS_BY_NAME.get('InMsgsStatusRejected')!.map((c) => c.relOid),
      ['1.2.12.0', '1.25.1.0'],
    )
  })
})
