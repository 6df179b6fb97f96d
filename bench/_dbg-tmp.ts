import { fork } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { startRedis, createScope, tmpDir, freePort } from '../test/harness/index.ts'
const scope = createScope()
const server = await startRedis(scope)
const home = await tmpDir(scope, 'dbg-')
const child = fork('/work/main/bench/_pipeline-collector.ts', ['--home', home, '--outer', `tcp://127.0.0.1:${await freePort()}`, '--snmp', `tcp://127.0.0.1:${await freePort()}`, '--redis', server.server], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
await new Promise((r) => child.once('message', r))
await new Promise((r) => setTimeout(r, 3000))
for (const t of readdirSync(`/proc/${child.pid}/task`)) console.log(t, readFileSync(`/proc/${child.pid}/task/${t}/comm`, 'utf8').trim(), readFileSync(`/proc/${child.pid}/task/${t}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13).join(' '))
child.send('stop'); await new Promise((r) => child.once('exit', r)); await scope.close()
