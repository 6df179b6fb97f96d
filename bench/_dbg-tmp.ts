import { fork } from 'node:child_process'
import { Redis } from 'ioredis'
import { startRedis, createScope, tmpDir, freePort } from '../test/harness/index.ts'
import { generateEvents } from './_pipeline-events.ts'
const scope = createScope()
const server = await startRedis(scope)
const redis = new Redis({ host: server.host, port: server.port })
const home = await tmpDir(scope, 'dbg-')
const child = fork('/work/main/bench/_pipeline-collector.ts', ['--home', home, '--outer', `tcp://127.0.0.1:${await freePort()}`, '--snmp', `tcp://127.0.0.1:${await freePort()}`, '--redis', server.server], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
await new Promise((r) => child.once('message', r))
const items = generateEvents({ count: 20000, startMs: Date.now() - 3600e3, endMs: Date.now() })
for (let i = 0; i < items.length; i += 1000) await redis.rpush('amavis-log', ...items.slice(i, i + 1000))
for (let s = 0; s < 30; s++) {
  await new Promise((r) => setTimeout(r, 1000))
  console.log(s, await redis.llen('amavis-log'), await redis.hgetall('amavis-log:stats'), await redis.keys('amavis-log*'))
}
child.send('stop'); await new Promise((r) => child.once('exit', r)); redis.disconnect(); await scope.close()
