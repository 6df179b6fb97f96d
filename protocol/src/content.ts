// Content categories and destinies (spec §7.1).
import { CONTENT_CATS } from './counters.ts'

export const CC = {
  CATCHALL: 0,
  CLEAN: 1,
  MTA: 2,
  OVERSIZED: 3,
  BADH: 4,
  SPAMMY: 5,
  SPAM: 6,
  UNCHECKED: 7,
  BANNED: 8,
  VIRUS: 9,
} as const
export type Ccat = { major: number; minor: number }

/** Major category display names indexed by major number (0 = CatchAll, then the SNMP order). */
export const CCAT_MAJOR_NAMES = ['CatchAll', ...CONTENT_CATS] as const
const MINOR_NAMES: Record<string, string> = {
  '1,1': 'CleanTag',
  '2,1': 'MtaTempFailed',
  '2,2': 'MtaRejected',
  '4,1': 'BadHdrMime',
  '4,2': 'BadHdr8bit',
  '4,3': 'BadHdrChar',
  '4,4': 'BadHdrSpace',
  '4,5': 'BadHdrLong',
  '4,6': 'BadHdrSyntax',
  '4,7': 'BadHdrMissing',
  '4,8': 'BadHdrDupl',
  '5,1': 'Spammy3',
  '7,1': 'UncheckedEncrypted',
  '7,2': 'UncheckedOverLimits',
  '7,3': 'UncheckedAmbiguousContent',
}
/** Display name of a category: the minor name when it has one, else the major name. */
export function ccatDisplayName(c: Ccat): string {
  return (c.minor && MINOR_NAMES[`${c.major},${c.minor}`]) || CCAT_MAJOR_NAMES[c.major] || 'CatchAll'
}
export function ccatMajorName(c: Ccat): string {
  return CCAT_MAJOR_NAMES[c.major] ?? 'CatchAll'
}
/** Log-line category text indexed by major (spec §5.6). */
export function ccatLogText(c: Ccat, detail = ''): string {
  switch (c.major) {
    case 0:
      return 'OTHER'
    case 1:
      return 'CLEAN'
    case 2:
      return 'MTA-BLOCKED'
    case 3:
      return 'OVERSIZED'
    case 4:
      return `BAD-HEADER-${c.minor}`
    case 5:
      return 'SPAMMY'
    case 6:
      return 'SPAM'
    case 7:
      return c.minor === 1 ? 'UNCHECKED-ENCRYPTED' : 'UNCHECKED'
    case 8:
      return `BANNED (${detail})`
    case 9:
      return `INFECTED (${detail})`
    default:
      return 'OTHER'
  }
}
/** Compares severity: higher major is more severe, then higher minor. */
export function compareCcat(a: Ccat, b: Ccat): number {
  return a.major - b.major || a.minor - b.minor
}

export const DESTINY = { D_PASS: 1, D_DISCARD: 0, D_BOUNCE: -2, D_REJECT: -3, D_TEMPFAIL: -4 } as const
export type DestinyName = keyof typeof DESTINY
export const DESTINY_NAMES = Object.keys(DESTINY) as DestinyName[]
