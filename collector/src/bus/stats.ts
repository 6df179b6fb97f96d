// Bus health counters, exported on /metrics as vigil_bus_* and vigil_responder_*.
export interface BusStats {
  messagesIn: number
  framesIn: number
  /** Frames the collector itself published (minder rounds, purged, FLUSH); included in framesIn. */
  framesInjected: number
  messagesOut: number
  framesOut: number
  /** Frames that did not parse (bad syntax, invalid UTF-8, oversize, unknown topic). */
  malformed: number
  /** Messages not forwarded because a frame was malformed. */
  droppedMalformed: number
  /** Messages refused by the outer XPUB at its HWM (only with outer_nodrop). */
  droppedHwm: number
  sendErrors: number
  receiveErrors: number
  eventsReceived: number
  eventsMalformed: number
  eventsStoreErrors: number
  /** Acknowledged events (ADR 0015): ids answered with ACK once stored or dead-lettered here. */
  eventsAcked: number
  /** Events that arrived again with an id already received (a filter's resend); not stored twice. */
  eventsDuplicates: number
  responderRequests: number
  responderMalformed: number
  /** Sums of the filters' `vigil.stats` increments. */
  smtpProtocolErrors: Record<string, number>
  filterEventsDeadLettered: number
  filterEventsTrimmed: number
  filterEventsProduced: number
  /** Sums of the filters' resent and spooled events (vigil.stats). */
  filterEventsResent: number
  filterEventsSpooled: number
  nannyRounds: number
  purged: number
  signalsSent: number
}

export function createBusStats(): BusStats {
  return {
    messagesIn: 0,
    framesIn: 0,
    framesInjected: 0,
    messagesOut: 0,
    framesOut: 0,
    malformed: 0,
    droppedMalformed: 0,
    droppedHwm: 0,
    sendErrors: 0,
    receiveErrors: 0,
    eventsReceived: 0,
    eventsMalformed: 0,
    eventsStoreErrors: 0,
    eventsAcked: 0,
    eventsDuplicates: 0,
    responderRequests: 0,
    responderMalformed: 0,
    smtpProtocolErrors: {},
    filterEventsDeadLettered: 0,
    filterEventsTrimmed: 0,
    filterEventsProduced: 0,
    filterEventsResent: 0,
    filterEventsSpooled: 0,
    nannyRounds: 0,
    purged: 0,
    signalsSent: 0,
  }
}
