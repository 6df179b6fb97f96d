// MIME decoding and message facts for the checks and the JSON event.
export { parseMessage, bodyDigest, parseMessageIds, type ParseOptions } from './parse.ts'
export { detectType, typeTags } from './detect-type.ts'
export { readGzip, readTar } from './archives.ts'
export { buildZip, type ZipEntry } from './zip-writer.ts'
export { readZip, DEFAULT_ZIP_LIMITS, type ZipLimits, type ZipMember, type ZipReadResult } from './zip.ts'
export {
  attachedFileNames,
  addressList,
  mailboxList,
  type Mailbox,
  parseReceivedTrace,
  parseReceived,
  isPublicIp,
  references,
  userAgent,
  type ReceivedTrace,
} from './fields.ts'
export {
  decodeRfc2047,
  parseHeaderFields,
  parseStructuredValue,
  splitHeaderBody,
  headerValue,
  headerValues,
  type HeaderField,
} from './headers.ts'
export { decodeBase64, decodeQuotedPrintable } from './decode.ts'
