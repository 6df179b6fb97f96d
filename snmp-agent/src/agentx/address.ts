// AgentX master address, written as net-snmp's agentXSocket / amavis's $agentx_sock_specs:
// `tcp6:localhost:705`, `tcp:127.0.0.1:705`, `tcp:[::1]:705`, `unix:/path`, a bare `/path`,
// or `host:port` (TCP).

export type AgentxAddress =
  { kind: 'tcp'; host: string; port: number; family: 0 | 4 | 6 } | { kind: 'unix'; path: string }

/** Parses an agentXSocket spec. Throws RangeError naming the problem for anything else. */
export function parseAgentxAddress(spec: string): AgentxAddress {
  const s = spec.trim()
  if (s.startsWith('/')) return { kind: 'unix', path: s }
  const m = /^(tcp6|tcp|unix|udp6|udp):(.*)$/i.exec(s)
  const transport = m ? m[1].toLowerCase() : 'tcp'
  const rest = m ? m[2] : s
  if (transport === 'udp' || transport === 'udp6')
    throw new RangeError(`AgentX runs over stream sockets only, not ${transport}: ${spec}`)
  if (transport === 'unix') {
    if (!rest) throw new RangeError(`missing socket path in ${spec}`)
    return { kind: 'unix', path: rest }
  }
  let host: string
  let portStr: string
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(rest)
  if (v6) {
    host = v6[1]
    portStr = v6[2]
  } else {
    const i = rest.lastIndexOf(':')
    if (i < 0) {
      // net-snmp accepts a bare port ("705") meaning localhost.
      if (/^\d+$/.test(rest)) {
        host = 'localhost'
        portStr = rest
      } else throw new RangeError(`missing port in ${spec}`)
    } else {
      host = rest.slice(0, i)
      portStr = rest.slice(i + 1)
    }
  }
  if (!/^\d{1,5}$/.test(portStr) || Number(portStr) < 1 || Number(portStr) > 65535)
    throw new RangeError(`bad port in ${spec}`)
  if (!host) throw new RangeError(`missing host in ${spec}`)
  return { kind: 'tcp', host, port: Number(portStr), family: transport === 'tcp6' ? 6 : v6 ? 6 : 0 }
}

export function formatAgentxAddress(a: AgentxAddress): string {
  if (a.kind === 'unix') return `unix:${a.path}`
  const host = a.host.includes(':') ? `[${a.host}]` : a.host
  return `${a.family === 6 ? 'tcp6' : 'tcp'}:${host}:${a.port}`
}
