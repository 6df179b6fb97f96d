// Vigil dashboard (plain browser JavaScript, no build). Live process table from the collector's
// server-sent events, counters and recent events by polling. The React app of a later wave
// replaces this page and keeps the same API.
'use strict'
const $ = (id) => document.getElementById(id)
const STATE_NAMES = {
  A: 'accepted',
  b: 'begin',
  m: 'MAIL FROM',
  d: 'data',
  '=': 'check start',
  G: 'mail_id',
  D: 'decoding',
  V: 'virus scan',
  S: 'spam scan',
  P: 'pen pals',
  r: 'results',
  Q: 'quarantine',
  F: 'forwarding',
  '.': 'done',
  ' ': 'idle',
}
const COLORS = {
  Clean: '#7bd88f',
  CleanTag: '#a7e3b3',
  Spam: '#e67e22',
  Spammy: '#f5b041',
  Virus: '#c0392b',
  Banned: '#8e44ad',
}
const colorOf = (t) => COLORS[t] || (t && t.startsWith('BadHdr') ? '#5d6d7e' : '#95a5a6')
let lastCounters = null
let rate = null
let events = []

function text(el, v) {
  el.textContent = v
}
function cell(tr, v, cls) {
  const td = document.createElement('td')
  td.textContent = v == null ? '' : String(v)
  if (cls) td.className = cls
  tr.appendChild(td)
  return td
}
function counterValue(c, name) {
  const v = c && c.counters && c.counters[name]
  return v && v.value != null ? Number(v.value) : 0
}

function fmtElapsed(secs) {
  if (!(secs >= 0)) return ''
  const s = Math.floor(secs),
    h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60)
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}

const procRows = new Map()
function renderStatus(st) {
  if (!st) return
  if (st.host) text($('host'), st.host)
  if (st.processes) {
    procRows.clear()
    for (const r of st.processes) procRows.set(`${r.host} ${r.pid}`, r)
  }
  const rows = [...procRows.values()]
  const busy = rows.filter((r) => r.busy).length
  text($('c-procs'), `${busy} / ${rows.length}`)
  const tb = $('procs').tBodies[0]
  tb.textContent = ''
  rows
    .slice()
    .sort((a, b) => b.busy - a.busy || a.pid - b.pid)
    .forEach((r) => {
      const tr = document.createElement('tr')
      if (!r.busy) tr.className = 'idle'
      cell(tr, r.host)
      cell(tr, r.pid)
      const s = r.state === '-' ? ' ' : r.state === undefined ? '' : r.state
      cell(tr, `${s === ' ' ? 'sp' : s} ${STATE_NAMES[s] || ''}`, 'state')
      cell(tr, r.task_id || r.taskId || '')
      cell(tr, fmtElapsed(r.elapsed_secs ?? r.elapsed ?? r.age_secs))
      tb.appendChild(tr)
    })
}

function renderCounters(c) {
  text($('c-in'), counterValue(c, 'InMsgs'))
  text($('c-clean'), counterValue(c, 'ContentCleanMsgs'))
  text($('c-spam'), counterValue(c, 'ContentSpamMsgs') + counterValue(c, 'ContentSpammyMsgs'))
  text($('c-virus'), counterValue(c, 'ContentVirusMsgs'))
  text($('c-banned'), counterValue(c, 'ContentBannedMsgs'))
  text($('c-tempfail'), counterValue(c, 'InMsgsStatusTempFailed'))
  if (lastCounters && c.time > lastCounters.time) {
    const d = counterValue(c, 'InMsgs') - counterValue(lastCounters, 'InMsgs')
    if (d >= 0) rate = (d * 60) / (c.time - lastCounters.time)
  }
  if (!lastCounters || c.time - lastCounters.time >= 10) lastCounters = c
  text($('c-rate'), rate == null ? '–' : rate.toFixed(1))
}

// A small field:value / free-text filter; the Lucene query language comes with the search API.
function matches(ev, q) {
  if (!q) return true
  return q
    .split(/\s+/)
    .filter(Boolean)
    .every((term) => {
      const i = term.indexOf(':')
      if (i > 0) {
        const v = ev[term.slice(0, i)]
        const want = term.slice(i + 1).toLowerCase()
        return v != null && JSON.stringify(v).toLowerCase().includes(want)
      }
      return JSON.stringify(ev).toLowerCase().includes(term.toLowerCase())
    })
}

function renderEvents() {
  const q = $('filter').value.trim()
  const tb = $('events').tBodies[0]
  tb.textContent = ''
  events
    .filter((e) => matches(e, q))
    .slice(0, 200)
    .forEach((e) => {
      const tr = document.createElement('tr')
      cell(tr, (e['@timestamp'] || '').replace('T', ' ').replace('Z', ''))
      cell(tr, e.log_id)
      const action = (e.action || []).join(',')
      cell(tr, action, 'a-' + (e.action || [])[0])
      cell(tr, e.content_type)
      cell(tr, e.spam_score)
      cell(tr, e.mail_from === '' ? '<>' : e.mail_from)
      cell(tr, (e.rcpt_to || []).join(', '))
      cell(tr, e.subject, 'subject')
      tb.appendChild(tr)
    })
  renderHistogram()
}

function renderHistogram() {
  const cv = $('histogram'),
    ctx = cv.getContext('2d')
  ctx.clearRect(0, 0, cv.width, cv.height)
  const now = Date.now() / 1000,
    minutes = 60,
    bw = cv.width / minutes
  const buckets = Array.from({ length: minutes }, () => new Map())
  const types = new Set()
  for (const e of events) {
    const t = Number(e.time_unix)
    const i = minutes - 1 - Math.floor((now - t) / 60)
    if (i < 0 || i >= minutes) continue
    const k = e.content_type || '?'
    types.add(k)
    buckets[i].set(k, (buckets[i].get(k) || 0) + 1)
  }
  const max = Math.max(1, ...buckets.map((b) => [...b.values()].reduce((a, x) => a + x, 0)))
  buckets.forEach((b, i) => {
    let y = cv.height
    for (const [k, n] of b) {
      const h = (n / max) * (cv.height - 10)
      ctx.fillStyle = colorOf(k)
      ctx.fillRect(i * bw + 1, y - h, bw - 2, h)
      y -= h
    }
  })
  const lg = $('legend')
  lg.textContent = ''
  for (const k of types) {
    const s = document.createElement('span'),
      sw = document.createElement('i')
    sw.style.background = colorOf(k)
    s.appendChild(sw)
    s.appendChild(document.createTextNode(k))
    lg.appendChild(s)
  }
}

async function getJson(path) {
  const r = await fetch(path)
  if (!r.ok) throw new Error(`${path}: ${r.status}`)
  return r.json()
}

async function poll() {
  try {
    renderCounters(await getJson('/api/counters'))
    events = (await getJson('/api/events?limit=1000')).events || []
    renderEvents()
  } catch (err) {
    text($('conn'), String(err.message || err))
  }
}

function connect() {
  const es = new EventSource('/api/stream')
  es.addEventListener('open', () => {
    $('conn').className = 'conn up'
    text($('conn'), 'live')
  })
  es.addEventListener('error', () => {
    $('conn').className = 'conn down'
    text($('conn'), 'reconnecting…')
  })
  const parse = (ev) => {
    try {
      return JSON.parse(ev.data)
    } catch {
      return undefined
    }
  }
  es.addEventListener('hello', (ev) => renderStatus(parse(ev)))
  es.addEventListener('states', (ev) => {
    for (const r of parse(ev) || []) {
      if (r.removed) procRows.delete(`${r.host} ${r.pid}`)
      else procRows.set(`${r.host} ${r.pid}`, r)
    }
    renderStatus({})
  })
  es.addEventListener('flush', (ev) => {
    const d = parse(ev) || {}
    for (const [k, r] of procRows) if (r.host === d.host) procRows.delete(k)
    renderStatus({})
  })
  es.addEventListener('event', () => poll())
}

$('filter').addEventListener('input', renderEvents)
getJson('/api/status')
  .then(renderStatus)
  .catch(() => {})
connect()
poll()
setInterval(poll, 3000)
setInterval(
  () =>
    getJson('/api/status')
      .then(renderStatus)
      .catch(() => {}),
  2000,
)
