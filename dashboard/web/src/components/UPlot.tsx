// A thin React wrapper around uPlot (canvas, x in seconds): created once per options object,
// data replaced in place, resized with its container.
import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface UPlotProps {
  readonly options: Omit<uPlot.Options, 'width' | 'height'>
  readonly data: uPlot.AlignedData
  readonly height?: number
  readonly className?: string
  readonly testId?: string
  /** Called with the plot once created (to read scales in tests, hook selections…). */
  readonly onCreate?: (u: uPlot) => void
}

export function UPlot({ options, data, height = 200, className, testId, onCreate }: UPlotProps) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const latest = useRef(data)
  latest.current = data
  useEffect(() => {
    const el = box.current!
    const u = new uPlot({ ...options, width: Math.max(el.clientWidth, 200), height }, latest.current, el)
    plot.current = u
    onCreate?.(u)
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height }))
    ro.observe(el)
    return () => {
      ro.disconnect()
      u.destroy()
      plot.current = null
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [options, height])
  useEffect(() => {
    plot.current?.setData(data)
  }, [data])
  return <div ref={box} className={className} data-testid={testId} />
}
