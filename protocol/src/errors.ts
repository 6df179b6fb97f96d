// The one error registry (fastify's FST_ERR_* style). docs/errors.md lists every code.

export const ErrorCode = {
  CONFIG_INVALID: 'VIGIL_ERR_CONFIG_INVALID',
  CONFIG_READ: 'VIGIL_ERR_CONFIG_READ',
  FRAME_MALFORMED: 'VIGIL_ERR_FRAME_MALFORMED',
  ZMQ_BIND_FAILED: 'VIGIL_ERR_ZMQ_BIND_FAILED',
  SMTP_SYNTAX: 'VIGIL_ERR_SMTP_SYNTAX',
  SMTP_PROTOCOL: 'VIGIL_ERR_SMTP_PROTOCOL',
  FORWARD_FAILED: 'VIGIL_ERR_FORWARD_FAILED',
  CHECK_FAILED: 'VIGIL_ERR_CHECK_FAILED',
  CHECK_TIMEOUT: 'VIGIL_ERR_CHECK_TIMEOUT',
  MIME_MALFORMED: 'VIGIL_ERR_MIME_MALFORMED',
  QUARANTINE_FAILED: 'VIGIL_ERR_QUARANTINE_FAILED',
  RELEASE_NOT_FOUND: 'VIGIL_ERR_RELEASE_NOT_FOUND',
  EVENT_DELIVERY: 'VIGIL_ERR_EVENT_DELIVERY',
  RESPONDER_TIMEOUT: 'VIGIL_ERR_RESPONDER_TIMEOUT',
  AGENTX_PROTOCOL: 'VIGIL_ERR_AGENTX_PROTOCOL',
  AGENTX_CONNECT: 'VIGIL_ERR_AGENTX_CONNECT',
  HARNESS_MISSING: 'VIGIL_ERR_HARNESS_MISSING',
  HARNESS_START: 'VIGIL_ERR_HARNESS_START',
  STATUS_USAGE: 'VIGIL_ERR_STATUS_USAGE',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export class VigilError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'VigilError'
    this.code = code
  }
}

/** Exit code for a bad configuration (sysexits EX_CONFIG). */
export const EX_CONFIG = 78
