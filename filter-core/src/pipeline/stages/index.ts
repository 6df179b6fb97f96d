// The per-message pipeline, in the order it runs (ADR 0008). This list is the one place that
// says which am.st letters a child publishes, which `elapsed` sections it reports (and in which
// order the TimeElapsed* counters go out), and which checks can appear in checks_performed.
// A new stage (DKIM verification, IP reputation, per-recipient policy lookups, amavis's custom
// hook points new message / checks / before_send / after_send / mail_done) is a module added
// here at its place; the driver (process.ts) needs no change.
import type { Stage } from './stage.ts'
import { receive } from './receive.ts'
import { mailId } from './mail-id.ts'
import { lookups } from './lookups.ts'
import { decode } from './decode.ts'
import { dkimVerify } from './dkim-verify.ts'
import { dkimReputation } from './dkim-reputation.ts'
import { virus } from './virus.ts'
import { banned } from './banned.ts'
import { spam } from './spam.ts'
import { penpals } from './penpals.ts'
import { results } from './results.ts'
import { quarantineNotify } from './quarantine-notify.ts'
import { tempfail } from './tempfail.ts'
import { dkimSign } from './dkim-sign.ts'
import { forward } from './forward.ts'
import { bounce } from './bounce.ts'
import { actions } from './actions.ts'
import { report } from './report.ts'

export const STAGES: readonly Stage[] = Object.freeze([
  receive, // =  InMsgs* counters                          (Receiving, from the SMTP session)
  mailId, //  G  mail_id
  lookups, //    SQL/LDAP per-recipient answers, cached for the message (lookup failure tempfails)
  decode, //  D  parse, decoders, header checks (H)        (Decoding)
  dkimVerify, // DKIM signatures verified (D), author sig   (Decoding)
  virus, //   V  virus scan (V)                            (VirusCheck)
  banned, //     banned names and types (B)
  spam, //    S  spam scan (S)                             (SpamCheck)
  dkimReputation, // @signer_reputation_maps adjusts the score
  penpals, // P  pen pals: no-op hook point until #13      (PenPals)
  results, // r  per-recipient categories and destinies
  quarantineNotify, // Q  quarantine, admin notifications  (Sending)
  tempfail, //   any failure so far tempfails every recipient
  dkimSign, //   DKIM key and options for originating mail (signed as forwarded)
  forward, // F  forward to the next hop                   (Sending)
  bounce, //     blocked recipients' replies, DSNs         (Sending)
  actions, //    per-recipient actions, InMsgsStatus*, client replies
  report, //     Total, event, log line, TimeElapsed* and the am.snmp message; then the driver sends '.'
])
