// Exit codes of the `vigil` command (sysexits.h), listed in docs/errors.md.
import { EX_CONFIG } from '@vigil/protocol'

/** Every exit code `vigil` uses; docs/errors.md lists them (checked by a test). */
export const EXIT = {
  OK: 0,
  /** A component or the supervisor failed at run time. */
  FAILURE: 1,
  /** Unknown command or option, missing argument (EX_USAGE). */
  USAGE: 64,
  /** The command needs a component that is not part of this build (EX_UNAVAILABLE). */
  UNAVAILABLE: 69,
  /** An unexpected internal error (EX_SOFTWARE). */
  SOFTWARE: 70,
  /** The home directory or pid file cannot be created (EX_CANTCREAT). */
  CANT_CREATE: 73,
  /** Another supervisor already runs with this home (EX_TEMPFAIL). */
  TEMPFAIL: 75,
  /** The configuration is invalid or unreadable (EX_CONFIG). */
  CONFIG: EX_CONFIG,
} as const
