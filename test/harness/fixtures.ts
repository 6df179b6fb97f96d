// Test payloads that real scanners recognise, built at run time (never stored as files in the
// repo, so no scanner on a developer machine quarantines the checkout).
import { crc32 } from 'node:zlib'

/** The 68-byte EICAR anti-virus test file (eicar.org). */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

/** The GTUBE spam test string (spamassassin.apache.org/gtube): scores 1000 in SpamAssassin. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

/**
 * The name our private clamd reports for EICAR. ClamAV suffixes ".UNOFFICIAL" to every signature
 * that does not come from a signed official database.
 */
export const EICAR_SIGNATURE_NAME = 'Eicar-Test-Signature.UNOFFICIAL'

/** A minimal ZIP archive (stored, no compression) holding the given files. */
export function makeZip(files: Array<{ name: string; data: Buffer | string }>): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8')
    const data = Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data, 'latin1')
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(10, 4) // version needed
    local.writeUInt16LE(0x0800, 6) // UTF-8 names
    local.writeUInt16LE(0, 8) // stored
    local.writeUInt16LE(0, 10)
    local.writeUInt16LE(0x21, 12) // 1980-01-01
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(data.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(10, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(0, 10)
    central.writeUInt16LE(0, 12)
    central.writeUInt16LE(0x21, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(data.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, data)
    centrals.push(central, name)
    offset += 30 + name.length + data.length
  }
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(files.length, 8)
  end.writeUInt16LE(files.length, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, end])
}

/** A MIME message with one base64 attachment (CRLF line ends). */
export function mimeWithAttachment(opts: {
  from?: string
  to?: string
  subject?: string
  text?: string
  filename: string
  contentType?: string
  attachment: Buffer | string
}): string {
  const boundary = '=_vigil_test_boundary'
  const att = Buffer.isBuffer(opts.attachment) ? opts.attachment : Buffer.from(opts.attachment, 'latin1')
  const b64 = att.toString('base64').replace(/.{1,76}/g, '$&\r\n')
  return [
    `From: ${opts.from ?? '<sender@example.test>'}`,
    `To: ${opts.to ?? '<rcpt@example.test>'}`,
    `Subject: ${opts.subject ?? 'attachment test'}`,
    'Message-ID: <harness.' + Date.now() + '@example.test>',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    opts.text ?? 'See attachment.',
    `--${boundary}`,
    `Content-Type: ${opts.contentType ?? 'application/octet-stream'}; name="${opts.filename}"`,
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${opts.filename}"`,
    '',
    b64.trimEnd(),
    `--${boundary}--`,
    '',
  ].join('\r\n')
}

/** A plain, harmless message (CRLF line ends). */
export function plainMessage(opts: { from?: string; to?: string; subject?: string; body?: string } = {}): string {
  return [
    `From: ${opts.from ?? '<sender@example.test>'}`,
    `To: ${opts.to ?? '<rcpt@example.test>'}`,
    `Subject: ${opts.subject ?? 'lunch on thursday'}`,
    'Message-ID: <plain.' + Date.now() + '@example.test>',
    'Date: Wed, 25 Nov 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    opts.body ?? 'Hi, shall we meet for lunch on Thursday at noon?\r\nCheers, Sam',
    '',
  ].join('\r\n')
}

/** A message whose body carries GTUBE. */
export function gtubeMessage(opts: { from?: string; to?: string } = {}): string {
  return plainMessage({ ...opts, subject: 'GTUBE test', body: `This is the GTUBE:\r\n${GTUBE}\r\n` })
}
