// Recorded frame streams (`.frames` files) and their deterministic replay through the plain
// session. Format, one line per ZMQ frame:
//   <t_offset_ms>\t<frame>     a new message arriving t ms after the recording started
//   +\t<frame>                 one more part of the previous (multi-part) message
// A frame that starts with `"` is a JSON string (for trailing spaces or control bytes).
// Blank lines and lines starting with `#` are ignored, except `# epoch_ms: <unix ms>` (written
// by `--record`), the wall-clock time of offset 0, which replays of real recordings need.
import { createPlainSession, type Fd } from './plain.ts'
import type { RedrawView } from './state.ts'

export interface RecordedMessage {
  readonly tMs: number
  readonly parts: string[]
}

/** Parses a `.frames` text; throws an Error naming the line for anything malformed. */
export function parseFramesFile(text: string): RecordedMessage[] {
  const out: { tMs: number; parts: string[] }[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line === '' || line.startsWith('#')) return
    const tab = line.indexOf('\t')
    if (tab < 0) throw new Error(`line ${i + 1}: expected <t_offset_ms>TAB<frame>`)
    const t = line.slice(0, tab)
    let frame = line.slice(tab + 1)
    if (frame.startsWith('"')) {
      try {
        frame = JSON.parse(frame) as string
      } catch {
        throw new Error(`line ${i + 1}: bad JSON string frame`)
      }
    }
    if (t === '+') {
      const last = out[out.length - 1]
      if (!last) throw new Error(`line ${i + 1}: continuation before any message`)
      last.parts.push(frame)
      return
    }
    if (!/^\d+$/.test(t)) throw new Error(`line ${i + 1}: bad time offset ${JSON.stringify(t)}`)
    const tMs = Number(t)
    if (out.length && tMs < out[out.length - 1].tMs) throw new Error(`line ${i + 1}: time goes backwards`)
    out.push({ tMs, parts: [frame] })
  })
  return out
}

/** The `# epoch_ms: N` header of a recording, if any. */
export function framesEpochMs(text: string): number | undefined {
  const m = /^# epoch_ms: (\d+)$/m.exec(text)
  return m ? Number(m[1]) : undefined
}

/** The header line `--record` writes first. */
export function formatEpochHeader(epochMs: number): string {
  return `# epoch_ms: ${Math.round(epochMs)}\n`
}

function encodeFrame(frame: string): string {
  // Plain text unless it would not survive a text line (tabs, newlines, edge spaces, a quote).
  return /^[^\s"][^\t\r\n]*[^\s]$|^[^\s"]$/.test(frame) && !/[\x00-\x1f]/.test(frame) ? frame : JSON.stringify(frame)
}

/** Formats one recorded message as `.frames` lines (with the trailing newline). */
export function formatRecordedMessage(m: RecordedMessage): string {
  return m.parts.map((p, i) => `${i === 0 ? m.tMs : '+'}\t${encodeFrame(p)}\n`).join('')
}

export interface ReplayResult {
  readonly stdout: string
  readonly stderr: string
  /** Both streams interleaved in write order, as a terminal shows `2>&1`. */
  readonly combined: string
  /** Every write in order, with its file descriptor. */
  readonly chunks: ReadonlyArray<{ readonly fd: Fd; readonly text: string }>
  /** What the last redraw saw (for rendering the same moment as a full screen). */
  readonly lastView: RedrawView | undefined
}

/** Default replay epoch: offset 0 of a recording is this Unix time (ms). */
export const REPLAY_EPOCH_MS = 1_700_000_000_000

/**
 * Replays a recording through a plain session, exactly as the live program would have drawn it
 * had the messages arrived at those offsets: a message due at the same instant as a redraw is
 * received first. `count` bounds the redraws (required: a replay has no Ctrl-C).
 */
export function replayPlain(
  messages: readonly RecordedMessage[],
  opts: { count: number; waitSecs: number; epochMs?: number },
): ReplayResult {
  const epoch = opts.epochMs ?? REPLAY_EPOCH_MS
  let stdout = ''
  let stderr = ''
  let combined = ''
  const chunks: { fd: Fd; text: string }[] = []
  const write = (fd: Fd, text: string): void => {
    chunks.push({ fd, text })
    if (fd === 1) stdout += text
    else stderr += text
    combined += text
  }
  const s = createPlainSession({ count: opts.count, waitSecs: opts.waitSecs, write })
  s.start(epoch)
  let lastView: RedrawView | undefined
  let i = 0
  while (!s.done) {
    const due = s.dueMs()
    const next = messages[i]
    if (next && epoch + next.tMs <= due) {
      s.message(next.parts, epoch + next.tMs)
      i++
    } else {
      lastView = s.redraw(due)
    }
  }
  return { stdout, stderr, combined, chunks, lastView }
}
