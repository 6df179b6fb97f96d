import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { ErrorCode } from '@vigil/protocol'
import { ConfigError, loadConfig } from '../../src/config/load.ts'
import { formatEffectiveConfig } from '../../src/config/print.ts'

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function writeYaml(t: TestContext, text: string): string {
  const file = join(scratch(t), 'vigil.yaml')
  writeFileSync(file, text)
  return file
}

async function problemsOf(
  file: string,
  env: Record<string, string> = {},
  argv: string[] = [],
): Promise<readonly string[]> {
  try {
    await loadConfig(['--config', file, ...argv], env)
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`)
    return err.problems
  }
  assert.fail('expected the configuration to be rejected')
}

describe('loadConfig validation', () => {
  const cases: Array<[name: string, yaml: string, expected: string | RegExp]> = [
    [
      'names an unknown key and suggests the close one',
      'log_levl: info\n',
      "log_levl: unknown key (did you mean 'log_level'?) (line 1)",
    ],
    [
      'names an unknown key inside a section',
      'home: /tmp\nfilter:\n  no_such_key: 1\n',
      'filter.no_such_key: unknown key (line 3)',
    ],
    ['rejects a wrong type', 'myhostname: [a, b]\n', 'myhostname: expected a non-empty string, got a list (line 1)'],
    [
      'rejects a value outside an enum',
      'log_level: loud\n',
      'log_level: expected one of fatal, error, warn, info, debug, trace, got "loud" (line 1)',
    ],
    [
      'rejects a bad ZMQ address',
      'zmq:\n  outer: localhost:23232\n',
      'zmq.outer: expected ipc://PATH or tcp://HOST:PORT, got "localhost:23232" (line 2)',
    ],
    [
      'rejects a non-positive limit',
      'redis_logging_queue_size_limit: 0\n',
      'redis_logging_queue_size_limit: expected a positive integer, got 0 (line 1)',
    ],
    [
      'points into lists',
      'storage_redis_dsn:\n  - server: 127.0.0.1:6379\n    db_id: -1\n',
      'storage_redis_dsn[0].db_id: expected a non-negative integer, got -1 (line 3)',
    ],
    ['rejects a document that is not a mapping', '- a\n- b\n', '(top level): expected a mapping of keys, got a list'],
    [
      'reports YAML syntax errors with line and column',
      'home: /tmp\nzmq: [1\nx: 2\n',
      /vigil\.yaml:3:1: YAML syntax error: /,
    ],
    [
      'reports duplicate keys with line and column',
      'home: /a\nhome: /b\n',
      /vigil\.yaml:2:1: YAML syntax error: Map keys must be unique/,
    ],
  ]
  for (const [name, yaml, expected] of cases)
    it(name, async (t) => {
      const problems = await problemsOf(writeYaml(t, yaml))
      assert.equal(problems.length, 1, problems.join('\n'))
      if (typeof expected === 'string') assert.equal(problems[0], expected)
      else assert.match(problems[0], expected)
    })

  it('lists every problem at once, in one error', async (t) => {
    const file = writeYaml(
      t,
      'log_levl: info\nmyhostname: 5\nzmq:\n  outer: nowhere\n  inner: [3]\nfilter:\n  bogus: 1\n',
    )
    const err = await loadConfig(['--config', file], {}).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ConfigError,
    )
    assert.equal(err.code, ErrorCode.CONFIG_INVALID)
    assert.deepEqual([...err.problems].sort(), [
      'filter.bogus: unknown key (line 7)',
      "log_levl: unknown key (did you mean 'log_level'?) (line 1)",
      'myhostname: expected a non-empty string, got 5 (line 2)',
      'zmq.inner[0]: expected a string, got 3 (line 5)',
      'zmq.outer: expected ipc://PATH or tcp://HOST:PORT, got "nowhere" (line 4)',
    ])
    assert.match(err.message, new RegExp(`^Invalid configuration ${file} \\(5 problems\\):\n  `))
  })

  it("finds the filter's start-up mistakes in one run: networks, maps, undefined banks, regexps", async (t) => {
    const file = writeYaml(
      t,
      [
        'filter:',
        '  mynetworks: [x, 10.0.0.0/33, "!192.168.0.0/16"]',
        '  listen:',
        '    - { address: "127.0.0.1:10026", policy_bank: ORIGINATING }',
        '    - { address: "127.0.0.1:10024", policy_bank: NOPE }',
        '  policy_banks:',
        '    ORIGINATING: { originating: true, spam_kill_level_maps: 5 }',
        '  spam_lovers_maps: [{ regexp: [["/(unclosed/", true]] }]',
        '',
      ].join('\n'),
    )
    const problems = await problemsOf(file)
    const at = (path: string) => problems.filter((p) => p.startsWith(path + ':'))
    assert.equal(at('filter.mynetworks[0]').length, 1, problems.join('\n'))
    assert.match(at('filter.mynetworks[1]')[0], /prefix length or mask.*\(line 2\)/)
    assert.equal(at('filter.mynetworks[2]').length, 0, 'a negated network is valid')
    assert.match(at('filter.listen[1].policy_bank')[0], /policy bank "NOPE" is not defined/)
    assert.equal(at('filter.listen[0].policy_bank').length, 0)
    assert.match(at('filter.policy_banks.ORIGINATING.spam_kill_level_maps')[0], /expected a list/)
    assert.match(at('filter.spam_lovers_maps[0].regexp[0][0]')[0], /bad regular expression.*Unterminated group/)
    assert.equal(problems.length, 5, problems.join('\n'))
  })

  it('says where an invalid override came from', async (t) => {
    const problems = await problemsOf(writeYaml(t, 'home: /tmp\n'), { VIGIL_LOG_LEVEL: 'loud' })
    assert.deepEqual(problems, [
      'log_level: expected one of fatal, error, warn, info, debug, trace, got "loud" (from VIGIL_LOG_LEVEL)',
    ])
  })

  it('fails with CONFIG_READ when the file cannot be read', async (t) => {
    const file = join(scratch(t), 'missing.yaml')
    await assert.rejects(loadConfig(['--config', file], {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.equal(err.code, ErrorCode.CONFIG_READ)
      assert.deepEqual(err.problems, [`${file}: cannot read the configuration file: no such file`])
      return true
    })
  })

  it('rejects an ipc endpoint longer than a unix socket path allows', async (t) => {
    const home = '/tmp/' + 'h'.repeat(120)
    const problems = await problemsOf(writeYaml(t, `home: ${home}\n`))
    assert.equal(problems.length, 2)
    assert.match(
      problems[0],
      /^zmq\.inner\[0\]: ipc socket path is \d+ bytes, longer than the 107-byte unix socket limit/,
    )
    assert.match(problems[1], /^zmq\.events: ipc socket path/)
  })
})

describe('loadConfig precedence and resolution', () => {
  const cases: Array<[name: string, env: Record<string, string>, argv: string[], home: string, level: string]> = [
    ['uses the file over the defaults', {}, [], '/srv/file-home', 'warn'],
    [
      'uses the environment over the file',
      { VIGIL_HOME: '/srv/env-home', VIGIL_LOG_LEVEL: 'debug' },
      [],
      '/srv/env-home',
      'debug',
    ],
    [
      'uses flags over the environment',
      { VIGIL_HOME: '/srv/env-home', VIGIL_LOG_LEVEL: 'debug' },
      ['--home', '/srv/flag-home', '--log-level', 'error'],
      '/srv/flag-home',
      'error',
    ],
    ['ignores empty environment variables', { VIGIL_HOME: '', VIGIL_LOG_LEVEL: '' }, [], '/srv/file-home', 'warn'],
  ]
  for (const [name, env, argv, home, level] of cases)
    it(name, async (t) => {
      const file = writeYaml(t, 'home: /srv/file-home\nlog_level: warn\n')
      const { config } = await loadConfig(['--config', file, ...argv], env)
      assert.equal(config.home, home)
      assert.equal(config.log_level, level)
    })

  it('falls back to built-in defaults without a file', async () => {
    const { config, source } = await loadConfig([], {})
    assert.equal(source.file, undefined)
    assert.equal(config.home, '/var/lib/vigil')
    assert.deepEqual(config.zmq.inner, ['ipc:///var/lib/vigil/amavisd-zmq.sock'])
    assert.equal(config.zmq.events, 'ipc:///var/lib/vigil/vigil-events.sock')
    assert.equal(config.zmq.outer, 'tcp://127.0.0.1:23232')
  })

  it('reads VIGIL_CONFIG, and --config wins over it', async (t) => {
    const a = writeYaml(t, 'myhostname: from-env.example\n')
    const b = writeYaml(t, 'myhostname: from-flag.example\n')
    assert.equal((await loadConfig([], { VIGIL_CONFIG: a })).config.myhostname, 'from-env.example')
    const both = await loadConfig(['--config', b], { VIGIL_CONFIG: a })
    assert.equal(both.config.myhostname, 'from-flag.example')
    assert.equal(both.source.file, b)
  })

  it('resolves a relative home against the working directory and derives the sockets from it', async (t) => {
    const cwd = scratch(t)
    const { config, source } = await loadConfig(['--home', 'var'], {}, { cwd })
    assert.equal(config.home, join(cwd, 'var'))
    assert.deepEqual(config.zmq.inner, [`ipc://${join(cwd, 'var', 'amavisd-zmq.sock')}`])
    assert.equal(config.zmq.events, `ipc://${join(cwd, 'var', 'vigil-events.sock')}`)
    assert.deepEqual(source.overrides, ['--home'])
  })

  it('keeps explicit socket endpoints', async (t) => {
    const file = writeYaml(t, 'zmq:\n  inner: [tcp://127.0.0.1:5555]\n  events: tcp://127.0.0.1:5556\n')
    const { config } = await loadConfig(['--config', file], {})
    assert.deepEqual(config.zmq.inner, ['tcp://127.0.0.1:5555'])
    assert.equal(config.zmq.events, 'tcp://127.0.0.1:5556')
  })

  it('accepts an empty file', async (t) => {
    const { config } = await loadConfig(['--config', writeYaml(t, '# nothing\n')], {})
    assert.equal(config.myhostname, 'localhost')
  })

  it('deep-freezes the result', async () => {
    const { config } = await loadConfig(['--home', '/tmp/vigil-frozen'], {})
    assert.ok(Object.isFrozen(config))
    assert.ok(Object.isFrozen(config.zmq))
    assert.ok(Object.isFrozen(config.zmq.inner))
    assert.throws(() => ((config.zmq.inner as string[])[0] = 'x'), TypeError)
  })
})

describe('print-config', () => {
  it('prints YAML that loads back to the same configuration', async (t) => {
    const file = writeYaml(
      t,
      'home: /srv/vigil\nmyhostname: mx.example\nlog_level: debug\nzmq:\n  outer: tcp://127.0.0.1:4000\n',
    )
    const first = await loadConfig(['--config', file], { VIGIL_LOG_LEVEL: 'warn' })
    const printed = formatEffectiveConfig(first)
    assert.match(
      printed,
      new RegExp(
        `^# Effective Vigil configuration \\(vigil print-config\\)\\.\n# Source: ${file}\n# Overridden by: VIGIL_LOG_LEVEL\n`,
      ),
    )
    const copy = join(scratch(t), 'copy.yaml')
    writeFileSync(copy, printed)
    const second = await loadConfig(['--config', copy], {})
    assert.deepEqual(second.config, first.config)
    const body = (s: string) => s.replace(/^(#.*\n)+/, '')
    assert.equal(body(formatEffectiveConfig(second)), body(printed))
  })

  it('redacts secrets unless asked to show them', async (t) => {
    const file = writeYaml(t, 'storage_redis_dsn:\n  - server: 127.0.0.1:6379\n    password: hunter2\n')
    const loaded = await loadConfig(['--config', file], {})
    const printed = formatEffectiveConfig(loaded)
    assert.doesNotMatch(printed, /hunter2/)
    assert.match(printed, /^    password: <redacted>$/m)
    assert.match(printed, /^# 1 secret value\(s\) shown as <redacted>; --show-secrets prints them\.$/m)
    assert.match(formatEffectiveConfig(loaded, { showSecrets: true }), /^    password: hunter2$/m)
  })

  it('says when the configuration is the built-in defaults', async () => {
    assert.match(formatEffectiveConfig(await loadConfig([], {})), /^# Source: built-in defaults/m)
  })
})
