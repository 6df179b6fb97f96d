import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encodeAmavisJson, num3, RawNumber } from '../src/json.ts'
import { eventMessage, formatEventTimestamp, isoWeekDate, rot13 } from '../src/event.ts'

describe('encodeAmavisJson', () => {
  it('sorts keys, so @timestamp comes first, and writes no whitespace', () => {
    assert.equal(
      encodeAmavisJson({ type: 'amavis', '@timestamp': 't', a: [1, 2] }),
      '{"@timestamp":"t","a":[1,2],"type":"amavis"}',
    )
  })
  it('keeps %.3f numbers verbatim', () => {
    assert.equal(encodeAmavisJson({ spam_score: num3(-1.9), t: num3(0.02) }), '{"spam_score":-1.900,"t":0.020}')
  })
  it('escapes as Amavis::JSON does: upper-case hex, DEL and U+2028, raw UTF-8 and unescaped slash', () => {
    assert.equal(
      encodeAmavisJson('a"b\\c\b\t\n\f\r\u0001\u007f\u2028\u2029/ü'),
      '"a\\"b\\\\c\\b\\t\\n\\f\\r\\u0001\\u007F\\u2028\\u2029/ü"',
    )
  })
  it('omits undefined members and keeps null', () => {
    assert.equal(
      encodeAmavisJson({ mail_id: null, x: undefined, b: true, c: false }),
      '{"b":true,"c":false,"mail_id":null}',
    )
  })
  it('refuses to build a RawNumber from text that is not a number', () => {
    assert.throws(() => new RawNumber('1; drop'))
  })
  it('encodes the spec §5.5 example byte for byte', () => {
    const ev = {
      '@timestamp': formatEventTimestamp(1704103200.123),
      action: ['PASS'],
      actions_performed: 'RelayedInbound',
      author: ['alice@example.com'],
      checks_performed: 'V S H B',
      client_ip: '192.0.2.10',
      client_port: 41831,
      content_type: 'Clean',
      digest_body: 'a4a7db6307c140b12f57feaf076663f8',
      dsn_sent: false,
      dst_ip: '127.0.0.1',
      dst_port: 10024,
      elapsed: {
        Amavis: num3(0.099),
        Decoding: num3(0.02),
        Receiving: num3(0.012),
        Sending: num3(0.033),
        SpamCheck: num3(1.804),
        Total: num3(1.954),
        VirusCheck: num3(0.051),
      },
      host: 'mx1.example.net',
      ip_proto_trace: ['ESMTPS://[192.0.2.10]:41831'],
      ip_trace: ['192.0.2.10'],
      log_id: '04321-01',
      mail_from: 'alice@example.com',
      mail_id: 'Jnk7NzYB8pvl',
      message: eventMessage('04321-01', ['PASS'], 'Clean', 'alice@example.com', ['bob@example.net']),
      message_id: '<20240101.123@example.com>',
      originating: false,
      policy_banks: ['MYNETS'],
      protocol: 'ESMTP',
      queue_id: '4Xyz1k2Lmnz3',
      queued_as: ['4Xyz2ABCdez9'],
      rcpt_num: 1,
      rcpt_to: ['bob@example.net'],
      recipients: [
        {
          action: 'PASS',
          ccat_main: 'Clean',
          queued_as: '4Xyz2ABCdez9',
          rcpt_is_local: true,
          rcpt_to: 'bob@example.net',
          smtp_code: '250',
          smtp_response: '250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4Xyz2ABCdez9',
          spam_score: num3(-1.9),
        },
      ],
      size: 2345,
      smtp_code: ['250'],
      spam_score: num3(-1.9),
      src_ip: '127.0.0.1',
      subject: 'Hello "world"',
      subject_rot13: rot13('Hello "world"'),
      tests: ['BAYES_00', 'DKIM_SIGNED'],
      tests_ham: ['BAYES_00'],
      tests_spam: ['DKIM_SIGNED'],
      time_iso_week_date: '2024-W01-1',
      time_unix: num3(1704103200.123),
      to_addr: ['bob@example.net'],
      type: 'amavis',
    }
    const expected =
      '{"@timestamp":"2024-01-01T10:00:00.123Z","action":["PASS"],"actions_performed":"RelayedInbound","author":["alice@example.com"],"checks_performed":"V S H B","client_ip":"192.0.2.10","client_port":41831,"content_type":"Clean","digest_body":"a4a7db6307c140b12f57feaf076663f8","dsn_sent":false,"dst_ip":"127.0.0.1","dst_port":10024,"elapsed":{"Amavis":0.099,"Decoding":0.020,"Receiving":0.012,"Sending":0.033,"SpamCheck":1.804,"Total":1.954,"VirusCheck":0.051},"host":"mx1.example.net","ip_proto_trace":["ESMTPS://[192.0.2.10]:41831"],"ip_trace":["192.0.2.10"],"log_id":"04321-01","mail_from":"alice@example.com","mail_id":"Jnk7NzYB8pvl","message":"04321-01 PASS Clean alice@example.com -> bob@example.net","message_id":"<20240101.123@example.com>","originating":false,"policy_banks":["MYNETS"],"protocol":"ESMTP","queue_id":"4Xyz1k2Lmnz3","queued_as":["4Xyz2ABCdez9"],"rcpt_num":1,"rcpt_to":["bob@example.net"],"recipients":[{"action":"PASS","ccat_main":"Clean","queued_as":"4Xyz2ABCdez9","rcpt_is_local":true,"rcpt_to":"bob@example.net","smtp_code":"250","smtp_response":"250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4Xyz2ABCdez9","spam_score":-1.900}],"size":2345,"smtp_code":["250"],"spam_score":-1.900,"src_ip":"127.0.0.1","subject":"Hello \\"world\\"","subject_rot13":"Uryyb \\"jbeyq\\"","tests":["BAYES_00","DKIM_SIGNED"],"tests_ham":["BAYES_00"],"tests_spam":["DKIM_SIGNED"],"time_iso_week_date":"2024-W01-1","time_unix":1704103200.123,"to_addr":["bob@example.net"],"type":"amavis"}'
    assert.equal(encodeAmavisJson(ev), expected)
  })
})

describe('event helpers', () => {
  it('rounds @timestamp milliseconds like amavis, including the .1000 quirk', () => {
    assert.equal(formatEventTimestamp(1704103200.123), '2024-01-01T10:00:00.123Z')
    assert.equal(formatEventTimestamp(1704103200.9996), '2024-01-01T10:00:00.1000Z')
  })
  it('computes ISO week dates across a year boundary (local time, TZ=UTC in tests)', () => {
    assert.equal(isoWeekDate(Date.UTC(2021, 0, 3, 12) / 1000), '2020-W53-7')
    assert.equal(isoWeekDate(Date.UTC(2024, 11, 30, 12) / 1000), '2025-W01-1')
  })
})
