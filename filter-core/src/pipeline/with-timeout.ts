import { ErrorCode, VigilError } from '@vigil/protocol'

/** Runs fn under a timeout; on overrun rejects with CHECK_TIMEOUT and aborts fn's signal. */
export async function withTimeout<T>(name: string, secs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new VigilError(ErrorCode.CHECK_TIMEOUT, `${name} timed out after ${secs} s`))
      ac.abort()
    }, secs * 1000)
  })
  try {
    return await Promise.race([fn(ac.signal), timeout])
  } finally {
    clearTimeout(timer)
  }
}
