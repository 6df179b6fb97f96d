// AM.PDP reply lines in amavis's words (Amavis/In/AMPDP.pm, Amavis/Out/SMTP.pm enhance_smtp_response).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  dispatchResponse,
  enhanceSmtpResponse,
  failureResponse,
  mtaId,
  noRecipientsResponse,
} from '../../src/ampdp/replies.ts'

describe('failureResponse', () => {
  it('answers a refused request with setreply 450 4.5.0 Failure, return_value=tempfail and exit_code=75', () => {
    assert.deepEqual(failureResponse('Secret_id is required, but missing'), [
      'setreply=450 4.5.0 Failure:%20Secret_id%20is%20required,%20but%20missing',
      'return_value=tempfail',
      'exit_code=75',
    ])
  })
  it('answers a request without recipients with 250 2.5.0', () => {
    assert.deepEqual(noRecipientsResponse(), ['setreply=250 2.5.0 No%20recipients,%20nothing%20to%20do'])
  })
})

describe('mtaId', () => {
  const cases: Array<[string, string]> = [
    ['smtp:[127.0.0.1]:10025', 'smtp:[127.0.0.1]:10025'],
    ['smtp:[::1]:10025', 'smtp:[::1]:10025'],
    ['smtp:mx.example:25', 'smtp:[mx.example]:25'],
    ['lmtp:unix:/var/run/lmtp.sock', 'lmtp:/var/run/lmtp.sock'],
  ]
  for (const [m, id] of cases) it(`names ${m} ${id}`, () => assert.equal(mtaId(m), id))
})

describe('enhanceSmtpResponse', () => {
  const mta = 'smtp:[127.0.0.1]:10025'
  const cases: Array<[resp: string, dflt: string, expected: string]> = [
    ['250 2.0.0 Ok: queued as 4F2', '.6.0', '250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4F2'],
    ['250 Ok', '.6.0', '250 2.6.0 from MTA(smtp:[127.0.0.1]:10025): 250 Ok'],
    ['550 5.1.1 no such user', '.1.0', '550 5.1.1 from MTA(smtp:[127.0.0.1]:10025): 550 5.1.1 no such user'],
    ['451 try later', '.1.0', '451 4.1.0 from MTA(smtp:[127.0.0.1]:10025): 451 try later'],
    ['', '.6.0', '451 4.5.0 from MTA(smtp:[127.0.0.1]:10025): No resp. to data-dot'],
    ['hello', '.6.0', '451 4.5.0 from MTA(smtp:[127.0.0.1]:10025): Bad resp. to data-dot: hello'],
  ]
  for (const [resp, dflt, expected] of cases)
    it(`turns ${JSON.stringify(resp)} into ${JSON.stringify(expected)}`, () =>
      assert.equal(enhanceSmtpResponse(resp, mta, dflt), expected))
})

describe('dispatchResponse', () => {
  it('gives one setreply per recipient, success and failure alike', () => {
    assert.deepEqual(
      dispatchResponse(
        [
          { code: 250, text: '250 2.0.0 Ok' },
          { code: 550, text: '550 5.1.1 <x@y>: unknown' },
        ],
        'smtp:[127.0.0.1]:10025',
      ),
      [
        'setreply=250 2.0.0 from%20MTA(smtp:[127.0.0.1]:10025):%20250%202.0.0%20Ok',
        'setreply=550 5.1.1 from%20MTA(smtp:[127.0.0.1]:10025):%20550%205.1.1%20<x@y>:%20unknown',
      ],
    )
  })
})
