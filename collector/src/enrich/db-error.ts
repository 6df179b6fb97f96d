import { ErrorCode, VigilError } from '@vigil/protocol'

/**
 * The startup error for a configured database that cannot be used: it names the path, because
 * the operator's next step is to fix that path (or the package that should provide it).
 * CONFIG_INVALID, so main exits with EX_CONFIG like any other bad setting.
 */
export function databaseError(what: string, path: string, problem: unknown): VigilError {
  const detail = problem instanceof Error ? problem.message : String(problem)
  return new VigilError(ErrorCode.CONFIG_INVALID, `GeoIP ${what} ${path}: ${detail}`, {
    cause: problem instanceof Error ? problem : undefined,
  })
}
