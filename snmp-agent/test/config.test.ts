import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { commonConfigSchema, createLogger } from '@vigil/protocol'
import { createSnmpAgent } from '../src/app.ts'
import { snmpAgentConfigSchema } from '../src/config.ts'

describe('snmp_agent config section', () => {
  it("defaults to disabled, amavis's tcp6:localhost:705 master and amavis's cache TTLs", () => {
    const c = snmpAgentConfigSchema.parse({})
    assert.equal(c.enabled, false)
    assert.equal(c.agentx_socket, 'tcp6:localhost:705')
    assert.equal(c.postfix_queue_directory, '')
    assert.deepEqual([c.stats_cache_ttl_secs, c.proc_cache_ttl_secs, c.mta_cache_ttl_secs], [4, 4, 18])
    assert.deepEqual([c.fast_poll_gap_secs, c.fast_poll_extend_secs, c.mta_count_deadline_secs], [1.5, 4, 5])
    assert.equal(c.reconnect_interval_secs, 1)
  })

  it('reports every bad key at once, with its path', () => {
    const r = snmpAgentConfigSchema.safeParse({ agentx_socket: '', stats_cache_ttl_secs: -1, agentx: 'x' })
    assert.equal(r.success, false)
    const paths = r.error!.issues.map((i) => i.path.join('.') || i.message).sort()
    assert.equal(paths.length, 3, JSON.stringify(r.error!.issues))
  })

  it('refuses an agentx_socket that is not a stream socket spec, in the schema and in the factory', () => {
    const r = snmpAgentConfigSchema.safeParse({ agentx_socket: 'udp:127.0.0.1:705' })
    assert.equal(r.success, false)
    assert.match(r.error!.issues[0].message, /stream sockets only.*expected tcp:HOST:PORT/)
    const log = createLogger({ name: 't', write: () => {} })
    const bad = { ...snmpAgentConfigSchema.parse({}), agentx_socket: 'udp:127.0.0.1:705' }
    assert.throws(() => createSnmpAgent(commonConfigSchema.parse({}), bad, { log }), RangeError)
  })

  it('describes where it connects before and after start', () => {
    const log = createLogger({ name: 't', write: () => {} })
    const agent = createSnmpAgent(
      commonConfigSchema.parse({}),
      snmpAgentConfigSchema.parse({ agentx_socket: 'unix:/run/agentx/master' }),
      { log },
    )
    const lines = agent.describe().join('\n')
    assert.match(lines, /unix:\/run\/agentx\/master/)
    assert.match(lines, /tcp:\/\/127\.0\.0\.1:23233/)
  })
})
