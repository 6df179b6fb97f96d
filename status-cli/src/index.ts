// @vigil/status-cli: amavis-status, the amavisd-status compatible viewer.
export { statusConfigSchema, type StatusConfig } from './config.ts'
export { parseStatusArgs, type StatusArgs } from './args.ts'
export {
  reduce,
  redraw,
  applyMessage,
  initialState,
  createStatusStore,
  type StatusStore,
  type StatusState,
  type ProcEntry,
  type RedrawView,
} from './state.ts'
export {
  formatCycle,
  formatProcLine,
  formatPeakBar,
  fmtAge,
  formatUsage,
  formatScreen,
  HEADER,
} from './render/format.ts'
export { createPlainSession, type PlainSession } from './plain.ts'
export { parseFramesFile, framesEpochMs, formatRecordedMessage, replayPlain, type RecordedMessage } from './replay.ts'
export { main } from './main.ts'
