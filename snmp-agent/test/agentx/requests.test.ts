import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseOid, PduType, VarType, type Header } from '../../src/agentx/pdu.ts'
import { planRequest, resolveGet, resolveNext, type ObjectIndex } from '../../src/agentx/requests.ts'

const objs = ['1.1.1.0', '1.1.2.0', '1.2.1.0', '1.2.10.0', '2.1.1.0'].map(parseOid)
const idx: ObjectIndex<readonly number[]> = { entries: objs, oidOf: (e) => e }
const header: Header = {
  version: 1,
  type: 0,
  flags: 0x10,
  sessionId: 1,
  transactionId: 1,
  packetId: 1,
  payloadLength: 0,
}
const show = (slots: ReturnType<typeof planRequest<readonly number[]>>) =>
  slots.map((s) => (s.kind === 'value' ? s.entry.join('.') : `${s.type}@${s.oid.join('.')}`))

describe('request planning over a sorted scalar list', () => {
  const gets: Array<[string, string]> = [
    ['1.1.2.0', '1.1.2.0'],
    ['1.1.2.1', `${VarType.NoSuchInstance}@1.1.2.1`],
    ['1.1.2', `${VarType.NoSuchInstance}@1.1.2`],
    ['1.1.3.0', `${VarType.NoSuchObject}@1.1.3.0`],
    ['9', `${VarType.NoSuchObject}@9`],
  ]
  for (const [oid, want] of gets)
    it(`Get ${oid} answers ${want}`, () => {
      const s = resolveGet(idx, parseOid(oid))
      assert.equal(s.kind === 'value' ? s.entry.join('.') : `${s.type}@${s.oid.join('.')}`, want)
    })

  const nexts: Array<[string, boolean, string, string]> = [
    ['0', false, '', '1.1.1.0'],
    ['1.1.1.0', false, '', '1.1.2.0'],
    ['1.1.1.0', true, '', '1.1.1.0'],
    ['1.2.1.0', false, '', '1.2.10.0'],
    ['1.2.10.0', false, '2', `${VarType.EndOfMibView}@1.2.10.0`],
    ['1.2.10.0', false, '', '2.1.1.0'],
    ['2.1.1.0', false, '', `${VarType.EndOfMibView}@2.1.1.0`],
  ]
  for (const [start, include, end, want] of nexts)
    it(`GetNext from ${start}${include ? ' (include)' : ''}${end ? ` below ${end}` : ''} answers ${want}`, () => {
      const s = resolveNext(idx, { start: parseOid(start), include, end: parseOid(end) })
      assert.equal(s.kind === 'value' ? s.entry.join('.') : `${s.type}@${s.oid.join('.')}`, want)
    })

  it('GetBulk answers the non-repeaters once, then the repeaters row by row until every one ends', () => {
    const plan = planRequest(idx, {
      type: PduType.GetBulk,
      header,
      nonRepeaters: 1,
      maxRepetitions: 10,
      ranges: [
        { start: parseOid('1.1.1.0'), include: false, end: [] },
        { start: parseOid('1.2'), include: false, end: parseOid('2') },
        { start: parseOid('1.2.10.0'), include: false, end: [] },
      ],
    })
    assert.deepEqual(show(plan), [
      '1.1.2.0',
      '1.2.1.0',
      '2.1.1.0',
      '1.2.10.0',
      `${VarType.EndOfMibView}@2.1.1.0`,
      `${VarType.EndOfMibView}@1.2.10.0`,
      `${VarType.EndOfMibView}@2.1.1.0`,
    ])
  })

  it('GetBulk honours max_repetitions as a count per repeater', () => {
    const plan = planRequest(idx, {
      type: PduType.GetBulk,
      header,
      nonRepeaters: 0,
      maxRepetitions: 2,
      ranges: [{ start: parseOid('1'), include: false, end: [] }],
    })
    assert.deepEqual(show(plan), ['1.1.1.0', '1.1.2.0'])
  })
})
