// Country alpha-2 → one representative point, for client_geo.location (a geo_point, so the map and
// the engines' geo aggregations have something to plot). Computed once from Natural Earth's 50m
// countries (world-atlas; the 110m file lacks SG, HK, MT, BH and more, notes §2).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { geoArea, geoCentroid, geoContains } from 'd3-geo'
import { feature } from 'topojson-client'
import countries from 'i18n-iso-countries'
import type { Feature, Geometry, Polygon } from 'geojson'
import type { Topology, GeometryCollection } from 'topojson-specification'

export interface GeoPoint {
  readonly lat: number
  readonly lon: number
}

/** Features the atlas leaves without an ISO numeric id (notes §2). DB-IP emits XK for Kosovo. */
const NAME_PATCHES: Readonly<Record<string, string>> = { Kosovo: 'XK', 'N. Cyprus': 'CY', Somaliland: 'SO' }

/**
 * Codes DB-IP emits that have no feature of their own in the 50m atlas: France's overseas
 * departments and Bonaire are drawn inside FR and NL, and Gibraltar, Tuvalu and Bouvet are absent.
 * Found by sweeping the shipped database (2^20 IPv4 and 2^21 IPv6 probes); points are the main towns.
 */
const FALLBACK: Readonly<Record<string, GeoPoint>> = {
  GI: { lat: 36.14, lon: -5.35 },
  RE: { lat: -21.12, lon: 55.54 },
  GP: { lat: 16.25, lon: -61.58 },
  MQ: { lat: 14.64, lon: -61.02 },
  GF: { lat: 4.94, lon: -52.33 },
  YT: { lat: -12.78, lon: 45.23 },
  BQ: { lat: 12.15, lon: -68.27 },
  TV: { lat: -8.52, lon: 179.2 },
  BV: { lat: -54.42, lon: 3.36 },
}

/**
 * alpha-2 → point: the centroid of the country's largest polygon, so that France means metropolitan
 * France rather than a point pulled into the Atlantic by French Guiana, and the USA the lower 48.
 * Where several features share a code (AU and Ashmore and Cartier Is., CY and N. Cyprus), the one
 * with the largest polygon wins. ~100 ms of work (JSON parse + 241 features), done once, yielding to
 * the event loop every few features.
 */
export async function loadCountryCentroids(): Promise<Map<string, GeoPoint>> {
  const require = createRequire(import.meta.url)
  const topo = JSON.parse(readFileSync(require.resolve('world-atlas/countries-50m.json'), 'utf8')) as Topology<{
    countries: GeometryCollection<{ name: string }>
  }>
  const fc = feature(topo, topo.objects.countries)
  const best = new Map<string, { area: number; point: GeoPoint }>()
  let n = 0
  for (const f of fc.features) {
    if (++n % 40 === 0) await new Promise<void>((r) => setImmediate(r))
    const code = codeOf(f)
    const largest = largestPolygon(f.geometry)
    if (!code || !largest) continue
    if ((best.get(code)?.area ?? -1) >= largest.area) continue
    const [lon, lat] = pointInside(largest.polygon)
    best.set(code, { area: largest.area, point: { lat: round(lat), lon: round(lon) } })
  }
  const out = new Map(Object.entries(FALLBACK))
  for (const [code, { point }] of best) out.set(code, point)
  return out
}

function codeOf(f: Feature<Geometry | null, { name: string }>): string | undefined {
  if (f.id !== undefined) return countries.numericToAlpha2(String(f.id))
  return NAME_PATCHES[f.properties?.name ?? '']
}

function largestPolygon(g: Geometry | null): { polygon: Polygon; area: number } | undefined {
  if (!g) return undefined
  const polygons: Polygon[] =
    g.type === 'Polygon'
      ? [g]
      : g.type === 'MultiPolygon'
        ? g.coordinates.map((coordinates) => ({ type: 'Polygon', coordinates }))
        : []
  let out: { polygon: Polygon; area: number } | undefined
  for (const polygon of polygons) {
    const area = geoArea(polygon)
    if (!out || area > out.area) out = { polygon, area }
  }
  return out
}

/**
 * The polygon's centroid when it lies inside it; otherwise (a crescent like Vietnam, an atoll) the
 * middle of the widest stretch of the polygon along the centroid's latitude, so the dot lands on land.
 */
function pointInside(polygon: Polygon): [number, number] {
  const c = geoCentroid(polygon) as [number, number]
  if (geoContains(polygon, c)) return c
  const ring = polygon.coordinates[0]
  const xs: number[] = []
  for (let i = 1; i < ring.length; i++) {
    const [x1, y1] = ring[i - 1]
    const [x2, y2] = ring[i]
    if (y1 <= c[1] !== y2 <= c[1]) xs.push(x1 + ((c[1] - y1) / (y2 - y1)) * (x2 - x1))
  }
  xs.sort((a, b) => a - b)
  let best: [number, number] = c
  let width = 0
  for (let i = 0; i + 1 < xs.length; i += 2)
    if (xs[i + 1] - xs[i] > width) {
      width = xs[i + 1] - xs[i]
      best = [(xs[i] + xs[i + 1]) / 2, c[1]]
    }
  return best
}

/** 4 decimals ≈ 11 m: plenty for a country's dot, and stable across d3 versions' float noise. */
function round(x: number): number {
  return Math.round(x * 1e4) / 1e4
}
