import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatAgentxAddress, parseAgentxAddress } from '../../src/agentx/address.ts'

describe('agentXSocket specs', () => {
  const ok: Array<[string, ReturnType<typeof parseAgentxAddress>]> = [
    ['tcp6:localhost:705', { kind: 'tcp', host: 'localhost', port: 705, family: 6 }],
    ['tcp:127.0.0.1:7705', { kind: 'tcp', host: '127.0.0.1', port: 7705, family: 0 }],
    ['tcp:[::1]:7705', { kind: 'tcp', host: '::1', port: 7705, family: 6 }],
    ['localhost:705', { kind: 'tcp', host: 'localhost', port: 705, family: 0 }],
    ['705', { kind: 'tcp', host: 'localhost', port: 705, family: 0 }],
    ['unix:/var/agentx/master', { kind: 'unix', path: '/var/agentx/master' }],
    ['/var/agentx/master', { kind: 'unix', path: '/var/agentx/master' }],
  ]
  for (const [spec, want] of ok) it(`parses ${spec}`, () => assert.deepEqual(parseAgentxAddress(spec), want))
  for (const spec of ['udp:127.0.0.1:705', 'tcp:host', 'tcp:host:99999', 'unix:', 'tcp::705'])
    it(`rejects ${spec} with a RangeError`, () => assert.throws(() => parseAgentxAddress(spec), RangeError))
  it('formats addresses back as agentXSocket specs', () => {
    assert.equal(formatAgentxAddress(parseAgentxAddress('tcp:[::1]:7705')), 'tcp6:[::1]:7705')
    assert.equal(formatAgentxAddress(parseAgentxAddress('/run/agentx')), 'unix:/run/agentx')
  })
})
