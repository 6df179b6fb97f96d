import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { startSnmpd } from './index.ts'

function tcpConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

test('startSnmpd runs a real snmpd whose walk returns the SNMPv2-MIB system group, over v2c and v3', async (t) => {
  const snmpd = await startSnmpd(t)
  const walk = await snmpd.snmpwalk(['1.3.6.1.2.1.1'])
  assert.match(walk, /^\.1\.3\.6\.1\.2\.1\.1\.1\.0 = STRING: "?Linux /m) // sysDescr
  assert.match(walk, /^\.1\.3\.6\.1\.2\.1\.1\.2\.0 = OID: \.1\.3\.6\.1\.4\.1\.8072\./m) // sysObjectID (net-snmp)
  assert.match(walk, /^\.1\.3\.6\.1\.2\.1\.1\.4\.0 = STRING: "?vigil-test@localhost"?$/m) // sysContact
  assert.match(walk, /^\.1\.3\.6\.1\.2\.1\.1\.5\.0 = STRING: "?vigil-harness"?$/m) // sysName
  const bulk = await snmpd.snmpbulkwalk(['1.3.6.1.2.1.1'])
  assert.equal(bulk.split('\n').filter((l) => l.startsWith('.1.3.6.1.2.1.1.4.0')).length, 1)
  assert.match(await snmpd.v3.snmpget(['1.3.6.1.2.1.1.5.0']), /STRING: "vigil-harness"/)
  // An unknown OID answers noSuchObject, and a wrong community gets no answer at all.
  assert.match(await snmpd.snmpget(['1.3.6.1.4.1.15312.2.1.1.1.0']), /No Such Object/)
  const bad = await snmpd.run('snmpget', [
    '-v2c',
    '-c',
    'wrong',
    '-t',
    '0.5',
    '-r',
    '0',
    `127.0.0.1:${snmpd.udpPort}`,
    '1.3.6.1.2.1.1.5.0',
  ])
  assert.notEqual(bad.code, 0)
  // The AgentX master socket accepts connections.
  assert.equal(snmpd.agentxAddress, `tcp:127.0.0.1:${snmpd.agentxPort}`)
  assert.equal(await tcpConnects('127.0.0.1', snmpd.agentxPort), true)
  // A restart while a (subagent) connection is open rebinds the same TCP AgentX port.
  const held = connect({ host: '127.0.0.1', port: snmpd.agentxPort })
  held.on('error', () => {})
  await new Promise((r) => held.once('connect', r))
  await snmpd.restart()
  held.destroy()
  assert.equal(await tcpConnects('127.0.0.1', snmpd.agentxPort), true)
  assert.match(await snmpd.snmpget(['1.3.6.1.2.1.1.3.0']), /Timeticks/)
})

test('restart() brings snmpd back on the same ports; a unix AgentX socket is supported', async (t) => {
  const snmpd = await startSnmpd(t, { agentx: 'unix' })
  assert.ok(snmpd.agentxSocketPath)
  assert.equal(snmpd.agentxAddress, `unix:${snmpd.agentxSocketPath}`)
  const firstPid = snmpd.pid
  await snmpd.kill()
  const down = await snmpd.run('snmpget', [
    '-v2c',
    '-c',
    'public',
    '-t',
    '0.5',
    '-r',
    '0',
    `127.0.0.1:${snmpd.udpPort}`,
    '1.3.6.1.2.1.1.5.0',
  ])
  assert.notEqual(down.code, 0)
  assert.match(down.stderr, /Timeout/)
  await snmpd.restart()
  assert.notEqual(snmpd.pid, firstPid)
  assert.match(await snmpd.snmpget(['1.3.6.1.2.1.1.5.0']), /vigil-harness/)
  assert.match(await snmpd.v3.snmpget(['1.3.6.1.2.1.1.5.0']), /vigil-harness/)
})
