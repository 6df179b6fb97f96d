// The full-screen terminal: the ONLY module that imports blessed. It draws lines made by
// format.ts and reports keys and resizes; it holds no view logic of its own.
import blessed from 'blessed'
import type { TuiLine } from './format.ts'

export interface Screen {
  readonly width: number
  readonly height: number
  render(lines: readonly TuiLine[]): void
  destroy(): void
}

/** Opens the full screen on the process's terminal. Keys arrive as blessed `key.full` names. */
export function createScreen(opts: { title: string; onKey(key: string): void; onResize(): void }): Screen {
  const screen = blessed.screen({ smartCSR: true, title: opts.title, fullUnicode: true, dockBorders: false })
  const box = blessed.box({ top: 0, left: 0, width: '100%', height: '100%', tags: true, wrap: false })
  screen.append(box)
  screen.on('keypress', (ch: string | undefined, key: { full?: string; name?: string } | undefined) => {
    const name = key?.full ?? key?.name ?? ch
    if (name === '?' || ch === '?') opts.onKey('?')
    else if (name) opts.onKey(name)
  })
  screen.on('resize', () => opts.onResize())
  let destroyed = false
  return {
    get width() {
      return Number(screen.width)
    },
    get height() {
      return Number(screen.height)
    },
    render(lines) {
      if (destroyed) return
      const content = lines
        .map((l) => {
          const style = (s: string) => {
            const t = blessed.escape(s)
            if (l.bold) return `{bold}${t}{/bold}`
            if (l.dim) return `{gray-fg}${t}{/gray-fg}`
            return t
          }
          // the summary column beside the table keeps its own (plain) style
          if (l.split !== undefined) return style(l.text.slice(0, l.split)) + blessed.escape(l.text.slice(l.split))
          return style(l.text)
        })
        .join('\n')
      box.setContent(content)
      screen.render()
    },
    destroy() {
      if (destroyed) return
      destroyed = true
      screen.destroy()
    },
  }
}
