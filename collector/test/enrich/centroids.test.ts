import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { loadCountryCentroids, type GeoPoint } from '../../src/enrich/centroids.ts'

describe('country centroids', () => {
  let c: Map<string, GeoPoint>
  before(async () => {
    c = await loadCountryCentroids()
  })

  // Rough bounding boxes [latMin, latMax, lonMin, lonMax] of the country's main territory.
  const boxes: Record<string, [number, number, number, number]> = {
    US: [24, 50, -125, -66], // the lower 48, not a point pulled towards Alaska
    DE: [47.2, 55.1, 5.8, 15.1],
    FR: [41.3, 51.1, -5.2, 9.6], // metropolitan France, not the Atlantic (French Guiana)
    NO: [57.9, 71.2, 4.6, 31.1],
    NL: [50.7, 53.6, 3.3, 7.3],
    GB: [49.9, 60.9, -8.2, 1.8],
    VN: [8.5, 23.4, 102.1, 109.5],
    RU: [41, 82, 19, 180],
    SG: [1.2, 1.5, 103.6, 104.1],
    XK: [41.8, 43.3, 20, 21.8], // Kosovo: no id in the atlas, patched by name
    CY: [34.5, 35.7, 32.2, 34.6], // Cyprus itself, not N. Cyprus
    GI: [36.1, 36.2, -5.4, -5.3], // not in the atlas: fallback point
    RE: [-21.4, -20.8, 55.2, 55.9],
  }
  for (const [cc, [a, b, x, y]] of Object.entries(boxes))
    it(`places ${cc} inside the country`, () => {
      const p = c.get(cc)
      assert.ok(p, `${cc} has a point`)
      assert.ok(p.lat >= a && p.lat <= b && p.lon >= x && p.lon <= y, `${cc} at ${p.lat},${p.lon}`)
    })

  it('covers every ISO country the atlas draws, with valid coordinates', () => {
    assert.ok(c.size >= 240, `${c.size} countries`)
    for (const [cc, p] of c) {
      assert.match(cc, /^[A-Z]{2}$/)
      assert.ok(Math.abs(p.lat) <= 90 && Math.abs(p.lon) <= 180, cc)
    }
  })
})
