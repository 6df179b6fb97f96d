// A choropleth of client countries, offline: Natural Earth 1:50m countries (world-atlas, bundled
// in this lazily loaded chunk), Equal Earth projection (d3-geo), plain React SVG. Features carry
// ISO 3166-1 numeric ids; the join key is alpha-2 (client_geo.country_code), as DB-IP emits it.
// Load it with `lazy(() => import('./WorldMap.tsx'))`: the atlas is ~230 KB gzipped.
import { useMemo } from 'react'
import { geoEqualEarth, geoPath } from 'd3-geo'
import { feature } from 'topojson-client'
import type { GeometryCollection, Topology } from 'topojson-specification'
import isoCountries from 'i18n-iso-countries'
import en from 'i18n-iso-countries/langs/en.json'
import atlas from 'world-atlas/countries-50m.json'

isoCountries.registerLocale(en)

export const MAP_WIDTH = 960
export const MAP_HEIGHT = 470

/** Features of world-atlas without an id, by name (DB-IP emits XK for Kosovo). */
const NO_ID: Readonly<Record<string, string>> = { Kosovo: 'XK', 'N. Cyprus': 'CY', Somaliland: 'SO' }

interface Shape {
  readonly key: string
  /** Alpha-2, or '' when the feature has none (Siachen Glacier, Indian Ocean Ter.). */
  readonly code: string
  readonly name: string
  readonly d: string
}

// Projected once, when the chunk loads (≈ 100 ms for the 241 features); every render reuses the paths.
const SHAPES: readonly Shape[] = (() => {
  const topo = atlas as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>
  const fc = feature(topo, topo.objects.countries)
  const path = geoPath(geoEqualEarth().fitSize([MAP_WIDTH, MAP_HEIGHT], fc))
  return fc.features.map((f, i) => {
    const name = f.properties?.name ?? ''
    const code = (f.id !== undefined ? isoCountries.numericToAlpha2(String(f.id)) : undefined) ?? NO_ID[name] ?? ''
    return { key: `${i}`, code, name, d: path(f) ?? '' }
  })
})()

/** The country's English name (i18n-iso-countries), or the code itself. */
export function countryName(code: string): string {
  if (code === 'XK') return 'Kosovo'
  return isoCountries.getName(code, 'en') ?? code
}

export interface WorldMapProps {
  /** Document count per alpha-2 code (upper case). */
  readonly counts: ReadonlyMap<string, number>
  /** Called on click or Enter/Space on a country that has documents. */
  readonly onPick?: (code: string) => void
  readonly title?: string
}

const STEPS = 6
/** Fill of step 0..STEPS-1 (light to dark blue), log scale of the count. */
function stepOf(count: number, max: number): number {
  if (max <= 1) return STEPS - 1
  return Math.min(STEPS - 1, Math.floor((Math.log(count) / Math.log(max)) * (STEPS - 1) + 1e-9))
}

export default function WorldMap({ counts, onPick, title = 'Client countries' }: WorldMapProps) {
  const max = useMemo(() => Math.max(0, ...counts.values()), [counts])
  const unmapped = useMemo(() => {
    const drawn = new Set(SHAPES.map((s) => s.code))
    return [...counts.entries()].filter(([c]) => !drawn.has(c))
  }, [counts])
  return (
    <figure className="world-map">
      <svg
        viewBox={`0 0 ${MAP_WIDTH} ${MAP_HEIGHT}`}
        role="group"
        aria-label={title}
        data-testid="world-map-svg"
        preserveAspectRatio="xMidYMid meet"
      >
        {SHAPES.map((s) => {
          const n = s.code ? counts.get(s.code) : undefined
          if (!n)
            return (
              <path key={s.key} d={s.d} className="wm-country wm-empty" data-country={s.code || undefined}>
                <title>{s.name}</title>
              </path>
            )
          const label = `${countryName(s.code)}: ${n.toLocaleString('en')}`
          return (
            <path
              key={s.key}
              d={s.d}
              className={`wm-country wm-step${stepOf(n, max)}`}
              data-country={s.code}
              data-count={n}
              tabIndex={onPick ? 0 : undefined}
              role={onPick ? 'button' : 'img'}
              aria-label={label}
              onClick={onPick ? () => onPick(s.code) : undefined}
              onKeyDown={
                onPick
                  ? (e) => {
                      if (e.key === 'Enter' || e.key === ' ') {
                        e.preventDefault()
                        onPick(s.code)
                      }
                    }
                  : undefined
              }
            >
              <title>{label}</title>
            </path>
          )
        })}
      </svg>
      <figcaption className="wm-legend">
        <span>1</span>
        {Array.from({ length: STEPS }, (_, i) => (
          <span key={i} className={`wm-swatch wm-step${i}`} aria-hidden="true" />
        ))}
        <span>{max.toLocaleString('en')}</span>
        <span className="wm-note">documents per client country (log scale)</span>
        {unmapped.length > 0 && (
          <span className="wm-note" data-testid="world-map-unmapped">
            {' '}
            · not on the map: {unmapped.map(([c, n]) => `${countryName(c)} (${n.toLocaleString('en')})`).join(', ')}
          </span>
        )}
      </figcaption>
    </figure>
  )
}
