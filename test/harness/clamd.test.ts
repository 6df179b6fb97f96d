import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  clamdRequest,
  EICAR,
  EICAR_SIGNATURE_NAME,
  instreamPayload,
  makeZip,
  mimeWithAttachment,
  startClamd,
} from './index.ts'

test('startClamd runs a real clamd that finds EICAR in a stream, in a zip and in a MIME mail, and passes clean data', async (t) => {
  const clamd = await startClamd(t)
  assert.equal(await clamd.command('PING'), 'PONG')
  assert.match(await clamd.command('VERSION'), /^ClamAV \d+\.\d+/)
  assert.equal(await clamd.scan(EICAR), `stream: ${EICAR_SIGNATURE_NAME} FOUND`)
  const zip = makeZip([
    { name: 'readme.txt', data: 'hello' },
    { name: 'eicar.com', data: EICAR },
  ])
  assert.equal(await clamd.scan(zip), `stream: ${EICAR_SIGNATURE_NAME} FOUND`)
  const mail = mimeWithAttachment({ filename: 'eicar.zip', contentType: 'application/zip', attachment: zip })
  assert.equal(await clamd.scan(mail), `stream: ${EICAR_SIGNATURE_NAME} FOUND`)
  assert.equal(await clamd.scan('Just a clean text file.\n'), 'stream: OK')
  assert.equal(await clamd.scan(makeZip([{ name: 'a.txt', data: 'clean' }])), 'stream: OK')
  // The unix LocalSocket answers too.
  assert.equal(
    await clamdRequest({ path: clamd.socketPath }, instreamPayload(Buffer.from(EICAR))),
    `stream: ${EICAR_SIGNATURE_NAME} FOUND`,
  )
})
