// The Postfix queue counting moved to @vigil/protocol (one implementation for the SNMP agent and
// the collector's counter history); this re-export keeps `./postfix-queue.ts` imports working.
export {
  CountDeadlineError,
  countQueueEntries,
  detectQueueDirectory,
  nextQueueTtlMs,
  QUEUE_DIRS,
  type QueueDir,
} from '@vigil/protocol/postfix-queue.ts'
