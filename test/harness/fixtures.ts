// Test payloads that real scanners recognise, built at run time (never stored as files in the
// repo, so no scanner on a developer machine quarantines the checkout).
import { buildZip } from '../../filter-core/src/mime/zip-writer.ts'

/** The 68-byte EICAR anti-virus test file (eicar.org). */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

/** The GTUBE spam test string (spamassassin.apache.org/gtube): scores 1000 in SpamAssassin. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

/**
 * The name our private clamd reports for EICAR. ClamAV suffixes ".UNOFFICIAL" to every signature
 * that does not come from a signed official database.
 */
export const EICAR_SIGNATURE_NAME = 'Eicar-Test-Signature.UNOFFICIAL'

/** A minimal ZIP archive (stored, no compression) holding the given files; strings as latin1. */
export function makeZip(files: Array<{ name: string; data: Buffer | string }>): Buffer {
  return buildZip(files)
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
