// @vigil/snmp-agent: the AgentX subagent serving AMAVIS-MIB.
export { createSnmpAgent, type SnmpAgent } from './app.ts'
export { snmpAgentConfigSchema, type SnmpAgentConfig } from './config.ts'
export { parseAgentxAddress, formatAgentxAddress, type AgentxAddress } from './agentx/address.ts'
