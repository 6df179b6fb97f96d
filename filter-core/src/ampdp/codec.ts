// AM.PDP wire format (amavis's helper protocol, Amavis/In/AMPDP.pm and Amavis::Util::proto_encode):
// a request is `name=value` lines (LF or CRLF ended) closed by an empty line; a response is the
// same, CRLF ended. Names and values are %XX-encoded; a repeated name (`recipient=`) keeps its
// values in order. Parsing never throws: a bad line is reported as a ParseError and skipped, as
// amavis logs "INVALID AM.PDP ATTRIBUTE LINE" and goes on.

/** One request: attribute name → values in arrival order. */
export type AmpdpRequest = Map<string, string[]>

export type ParsedLine =
  { kind: 'end' } | { kind: 'attr'; name: string; value: string } | { kind: 'error'; error: ParseError }

export interface ParseError {
  /** Counted per kind (AmpdpStats). */
  kind: 'invalid_line'
  detail: string
}

/** Attribute names amavis knows; others are accepted (amavis logs them at level 1). */
export const KNOWN_ATTRIBUTES: ReadonlySet<string> = new Set(
  (
    'request protocol_state version_client protocol_name helo_name client_name client_address ' +
    'client_port client_source sender recipient delivery_care_of queue_id partition_tag mail_id ' +
    'secret_id quar_type mail_file tempdir tempdir_removed_by policy_bank requested_by'
  ).split(' '),
)

/** amavis proto_decode: %XX → the octet (as a latin1 character, so bytes survive). */
export function protoDecode(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
}

/**
 * amavis proto_encode: the name keeps [0-9a-zA-Z._+-], each value keeps the printables but `%`
 * and space (\041-\044, \046-\176); the values are joined with one space (`setreply=250 2.0.0 Ok,%20…`).
 */
export function protoEncode(name: string, ...values: string[]): string {
  const hex = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`
  const n = name.replace(/[^0-9a-zA-Z._+-]/g, hex)
  const v = values.map((s) => s.replace(/[^\x21-\x24\x26-\x7e]/g, hex))
  return `${n}=${v.join(' ')}`
}

// amavis: /^ ([^=\000\012]*?) (=|:[ \t]*) ([^\012]*?) \015?\012 \z/xs, with the line end removed.
const ATTR_LINE = /^([^=\0\n]*?)(=|:[ \t]*)([^\n]*?)\r?$/s

/** Parses one line without its LF (a trailing CR is allowed). */
export function parseLine(line: string): ParsedLine {
  if (line === '' || line === '\r') return { kind: 'end' }
  const m = ATTR_LINE.exec(line)
  if (!m) return { kind: 'error', error: { kind: 'invalid_line', detail: line.slice(0, 200) } }
  return { kind: 'attr', name: protoDecode(m[1]), value: protoDecode(m[3]) }
}

/** Adds one attribute value to a request (repeated names keep their order). */
export function addAttribute(req: AmpdpRequest, name: string, value: string): void {
  const vs = req.get(name)
  if (vs) vs.push(value)
  else req.set(name, [value])
}

/** The first value of an attribute, or undefined. */
export function first(req: AmpdpRequest, name: string): string | undefined {
  return req.get(name)?.[0]
}

/** A whole response as sent: each line CRLF ended, then the empty line. */
export function formatResponse(lines: readonly string[]): string {
  return [...lines, ''].map((l) => `${l}\r\n`).join('')
}
