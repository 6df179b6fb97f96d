// Pen pals and IP reputation storage in Redis with amavis's key layout (spec §6, Amavis/Redis.pm):
// the four Lua programs are loaded once with SCRIPT LOAD and called with EVALSHA; a NOSCRIPT
// reply (the server restarted or SCRIPT FLUSH ran) reloads them and retries once, as amavis does.
// The calls take and return exactly amavis's arguments and replies, so a real amavisd and Vigil
// on the same Redis read and extend each other's data.
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { LUA_SCRIPTS, type LuaScriptName } from './lua.ts'

/** The SHA1 of each script: EVALSHA needs no SCRIPT LOAD reply to know it. */
export const LUA_SHA: Readonly<Record<LuaScriptName, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(LUA_SCRIPTS).map(([k, v]) => [k, createHash('sha1').update(v).digest('hex')]),
  ) as Record<LuaScriptName, string>,
)

/** One recipient's answer of LUA_QUERY_PENPALS: a hit has rxTime, mailId and report. */
export interface PenpalsAnswer {
  sid: string
  rid: string
  rxTime?: number
  mailId?: string
  report?: string
}

/** One `ip:<addr>` record as LUA_QUERY_AND_UPDATE_IP returns it (before this message is counted). */
export interface IpRecord {
  ip: string
  n: number
  s: number
  h: number
  b: number
  tfirst: number | undefined
  tlast: number | undefined
  ttl: number
}

export interface RedisStorage {
  /** LUA_SAVE_INFO_PRELIMINARY: true when `<mail_id>` was new (HSETNX time, EXPIRE ttl). */
  savePreliminary(mailId: string, rxTime: number, ttlSecs: number): Promise<boolean>
  /** LUA_SAVE_FINAL: maps addresses and Message-ID to ids, writes sm:/sr:; no recipients deletes the hash. */
  saveFinal(a: {
    mailId: string
    ttlSecs: number
    logId: string
    messageId: string
    clientAddr: string
    sender: string
    recipients: readonly string[]
  }): Promise<void>
  /** LUA_QUERY_PENPALS: one answer per local recipient (in order); throws on a nonce or count mismatch. */
  queryPenpals(a: {
    now: number
    nonce: string
    sender: string
    recipients: readonly string[]
    messageIds: readonly string[]
  }): Promise<PenpalsAnswer[]>
  /** LUA_QUERY_AND_UPDATE_IP over `ip:<addr>` keys; normalRandom as amavis draws it when absent. */
  queryAndUpdateIps(ips: readonly string[], rxTime: number, normalRandom?: number): Promise<IpRecord[]>
  /** HINCRBY ip:<a> n 1 (and <cls> 1 when classified), pipelined: the learning of the final save. */
  learnIps(ips: readonly string[], cls: 'b' | 'h' | 's' | undefined): Promise<void>
}

/** amavis's Irwin–Hall draw: (4 uniforms − 2) / 0.577, roughly N(0, 1). */
export function normalRandom(): number {
  return (Math.random() + Math.random() + Math.random() + Math.random() - 2) / 0.577
}

/** Wraps a connected ioredis client; every call rejects on a Redis error (the caller counts it). */
export function createRedisStorage(client: Redis): RedisStorage {
  let loaded: Promise<void> | undefined
  const load = () =>
    (loaded ??= Promise.all(
      (Object.keys(LUA_SCRIPTS) as LuaScriptName[]).map(async (k) => {
        const sha = await client.script('LOAD', LUA_SCRIPTS[k])
        if (sha !== LUA_SHA[k]) throw new Error(`SCRIPT LOAD ${k}: unexpected sha ${String(sha)}`)
      }),
    ).then(
      () => undefined,
      (e) => {
        loaded = undefined
        throw e
      },
    ))
  const evalsha = async (name: LuaScriptName, numKeys: number, args: (string | number)[]): Promise<unknown> => {
    await load()
    try {
      return await client.evalsha(LUA_SHA[name], numKeys, ...args)
    } catch (e) {
      if (!/^NOSCRIPT/.test((e as Error).message)) throw e
      loaded = undefined
      await load()
      return client.evalsha(LUA_SHA[name], numKeys, ...args)
    }
  }
  return {
    async savePreliminary(mailId, rxTime, ttlSecs) {
      const r = await evalsha('SAVE_INFO_PRELIMINARY', 1, [mailId, Math.trunc(rxTime), Math.trunc(ttlSecs) || 0])
      return Number(r) === 1
    },
    async saveFinal(a) {
      const args = [a.ttlSecs, a.logId, a.messageId, a.clientAddr, a.sender.toLowerCase()].map((v) => String(v ?? ''))
      const r = await evalsha('SAVE_FINAL', 1, [a.mailId, ...args, ...a.recipients.map((x) => x.toLowerCase())])
      if (r !== a.mailId) throw new Error(`save_info_final: nonce mismatch, expected ${a.mailId}, got ${String(r)}`)
    },
    async queryPenpals(a) {
      const r = (await evalsha('QUERY_PENPALS', 0, [
        Math.round(a.now).toFixed(0),
        a.nonce,
        a.sender.toLowerCase(),
        a.recipients.length,
        ...a.recipients.map((x) => x.toLowerCase()),
        a.messageIds.length,
        ...a.messageIds,
      ])) as unknown[]
      if (!Array.isArray(r) || !r.length) throw new Error('penpals_find: no results')
      const nonce = r.pop()
      if (nonce !== a.nonce) throw new Error(`penpals_find: nonce mismatch, expected ${a.nonce}, got ${String(nonce)}`)
      if (r.length !== a.recipients.length)
        throw new Error(`penpals_find: number of results expected ${a.recipients.length}, got ${r.length}`)
      return r.map((e) => {
        const [sid, rid, rx, mailId, report] = (e ?? []) as (string | number | null)[]
        const rxTime = rx === null || rx === undefined || rx === '' ? undefined : Number(rx)
        return {
          sid: String(sid ?? ''),
          rid: String(rid ?? ''),
          ...(rxTime ? { rxTime, mailId: String(mailId), report: String(report ?? '') } : {}),
        }
      })
    },
    async queryAndUpdateIps(ips, rxTime, nr = normalRandom()) {
      if (!ips.length) return []
      const r = (await evalsha('QUERY_AND_UPDATE_IP', ips.length, [
        ...ips.map((ip) => `ip:${ip}`),
        rxTime.toFixed(3),
        nr.toFixed(6),
      ])) as unknown[][]
      return r.map(([key, n, s, h, b, tf, tl, ttl]) => ({
        ip: String(key).replace(/^ip:/, ''),
        n: Number(n) || 0,
        s: Number(s) || 0,
        h: Number(h) || 0,
        b: Number(b) || 0,
        tfirst: tf === '' || tf === null ? undefined : Number(tf),
        tlast: tl === '' || tl === null ? undefined : Number(tl),
        ttl: Number(ttl) || 0,
      }))
    },
    async learnIps(ips, cls) {
      if (!ips.length) return
      const p = client.pipeline()
      for (const ip of ips) {
        p.hincrby(`ip:${ip}`, 'n', 1)
        if (cls) p.hincrby(`ip:${ip}`, cls, 1)
      }
      const res = await p.exec()
      const err = res?.find(([e]) => e)?.[0]
      if (err) throw err
    },
  }
}

/**
 * amavis's IP reputation score of one record (the current message not yet counted):
 * 0.9·n^0.36·e^(−6h/n) when any spam or bad content was seen, else 0; below 0.05 it is 0.
 */
export function ipReputationScore(r: Pick<IpRecord, 'n' | 's' | 'h' | 'b'>): number {
  if (r.n <= 0) return 0
  let n = r.n
  if (n - (r.s + r.h + r.b) < 0) n = r.s + r.h + r.b
  const score = r.s + r.b ? 0.9 * n ** 0.36 * Math.exp((-6 * r.h) / n) : 0
  return score < 0.05 ? 0 : score
}

/** Pen pals weight: 2^(−age/halflife); the recipient's score changes by −weight·bonus. */
export function penpalsAdjustment(ageSecs: number, halflifeSecs: number, bonus: number): number {
  return -Math.exp(-(ageSecs / halflifeSecs) * Math.log(2)) * bonus
}
