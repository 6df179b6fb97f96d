// The Lucene query bar: a single-line CodeMirror 6 editor. Enter runs the query; the collector's
// own parser (collector/src/search/lucene.ts, run here in the browser) underlines the error at its
// position while typing, and a 400 from the server is underlined the same way. The line under the
// bar always names the language and says what is wrong. Field names complete from
// /api/search/fields, values from a terms aggregation of the field (aggregatable fields only).
import { useEffect, useMemo, useRef, useState } from 'react'
import { EditorState, Prec, type Extension } from '@codemirror/state'
import { EditorView, keymap, placeholder } from '@codemirror/view'
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands'
import {
  autocompletion,
  closeCompletion,
  type Completion,
  type CompletionContext,
  type CompletionResult,
} from '@codemirror/autocomplete'
import { forceLinting, linter, type Diagnostic } from '@codemirror/lint'
import { checkQuery, type QueryProblem } from './query-check.ts'
import { quoteValue } from './url-state.ts'

export type { QueryProblem }

export interface FieldInfo {
  readonly name: string
  readonly type: string
  readonly aggregatable: boolean
}

export interface QueryBarProps {
  /** The committed query (from the URL); the editor follows it when it changes from outside. */
  readonly value: string
  readonly onRun: (q: string) => void
  readonly serverError: QueryProblem | null
  readonly fields: readonly FieldInfo[]
  /** Top values of an aggregatable field, most frequent first. */
  readonly fetchValues: (field: string) => Promise<readonly { value: string; count: number }[]>
}

function diagnostic(p: QueryProblem, len: number, source: string): Diagnostic {
  const start = Math.min(Math.max(p.position?.start ?? 0, 0), len)
  const end = Math.min(Math.max(p.position?.end ?? len, start), len)
  return { from: start, to: end, severity: 'error', message: p.message, source }
}

function cspNonce(): string {
  return document.querySelector<HTMLMetaElement>('meta[name=csp-nonce]')?.content ?? ''
}

export function QueryBar({ value, onRun, serverError, fields, fetchValues }: QueryBarProps) {
  const host = useRef<HTMLDivElement>(null)
  const view = useRef<EditorView | null>(null)
  const latest = useRef({ onRun, serverError, fields, fetchValues })
  latest.current = { onRun, serverError, fields, fetchValues }
  const [text, setText] = useState(value)
  const problem = useMemo(() => checkQuery(text), [text])

  useEffect(() => {
    const run = (v: EditorView) => {
      closeCompletion(v)
      latest.current.onRun(v.state.doc.toString())
      return true
    }
    const lintSource = (v: EditorView): Diagnostic[] => {
      const text = v.state.doc.toString()
      const local = checkQuery(text)
      if (local) return [diagnostic(local, text.length, 'Lucene')]
      const se = latest.current.serverError
      if (se && se.query === text) return [diagnostic(se, text.length, 'server')]
      return []
    }
    const complete = async (ctx: CompletionContext): Promise<CompletionResult | null> => {
      const line = ctx.state.doc.sliceString(0, ctx.pos)
      const val = /([\w.@]+):("?)([^\s()"]*)$/.exec(line)
      if (val) {
        const [, field, quote, typed] = val
        const known = latest.current.fields
        const f =
          known.find((x) => x.name === field && x.aggregatable) ??
          known.find((x) => x.name === `${field}.keyword` && x.aggregatable)
        // Subject values may come back rot13'd (a viewer's answers): never offered as query text.
        if (!f || /^subject/.test(f.name)) return null
        let values: readonly { value: string; count: number }[] = []
        try {
          values = await latest.current.fetchValues(f.name)
        } catch {
          return null
        }
        const want = typed.toLowerCase()
        const options: Completion[] = values
          .filter((x) => x.value.toLowerCase().startsWith(want))
          .map((x) => ({ label: x.value, apply: quoteValue(x.value), detail: String(x.count), type: 'constant' }))
        return { from: ctx.pos - typed.length - quote.length, options, filter: false }
      }
      const word = ctx.matchBefore(/[\w.@]*/)
      if (!word || (word.from === word.to && !ctx.explicit)) return null
      const options: Completion[] = latest.current.fields.map((x) => ({
        label: x.name,
        apply: `${x.name}:`,
        detail: x.type,
        type: 'property',
      }))
      return { from: word.from, options, validFor: /^[\w.@]*$/ }
    }
    const extensions: Extension[] = [
      EditorView.cspNonce.of(cspNonce()),
      EditorView.contentAttributes.of({
        'aria-label': 'Search query (Lucene syntax)',
        'aria-describedby': 'discover-query-status',
        'data-testid': 'query-input',
      }),
      // One line: newlines (typed or pasted) become spaces.
      EditorState.transactionFilter.of((tr) => {
        if (!tr.docChanged || tr.newDoc.lines === 1) return tr
        const text = tr.newDoc.toString().replace(/\r?\n/g, ' ')
        return [tr, { changes: { from: 0, to: tr.newDoc.length, insert: text }, sequential: true }]
      }),
      Prec.high(keymap.of([{ key: 'Enter', run }])),
      history(),
      keymap.of([...defaultKeymap, ...historyKeymap]),
      autocompletion({ override: [complete], activateOnTyping: true, icons: false }),
      linter(lintSource, { delay: 150 }),
      placeholder('Lucene query, e.g. action:REJECT AND client_geo.country_code:CN'),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) setText(u.state.doc.toString())
      }),
      EditorView.theme({
        '&': { fontFamily: 'var(--mono)', fontSize: '14px' },
        '.cm-content': { padding: '5px 6px' },
        '&.cm-focused': { outline: 'none' },
        '.cm-scroller': { overflow: 'hidden' },
        '.cm-placeholder': { color: '#5b6675' },
      }),
    ]
    const v = new EditorView({ parent: host.current!, state: EditorState.create({ doc: value, extensions }) })
    view.current = v
    return () => {
      v.destroy()
      view.current = null
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])

  // The committed query changed from outside (sidebar filter, pivot, URL): show it.
  useEffect(() => {
    const v = view.current
    if (!v || v.state.doc.toString() === value) return
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } })
  }, [value])

  // A server answer (error or not) re-lints the text.
  useEffect(() => {
    if (view.current) forceLinting(view.current)
  }, [serverError])

  const shown = problem ?? (serverError && text === serverError.query ? serverError : null)
  return (
    <div className="discover-query">
      <div className="discover-query-row">
        <div ref={host} className={`discover-editor${shown ? ' has-error' : ''}`} />
        <button
          type="button"
          className="primary"
          data-testid="query-run"
          onClick={() => view.current && latest.current.onRun(view.current.state.doc.toString())}
        >
          Search
        </button>
      </div>
      <p id="discover-query-status" className="discover-query-status" data-testid="query-status" aria-live="polite">
        <span className="discover-lang" data-testid="query-language">
          Lucene
        </span>
        {shown ? (
          <span className="error" data-testid="query-error">
            {shown.message}
            {shown.position ? ` (at character ${shown.position.start + 1})` : ''}
          </span>
        ) : (
          <span className="muted">Enter runs the query · Ctrl+Space completes field names and values</span>
        )}
      </p>
    </div>
  )
}
