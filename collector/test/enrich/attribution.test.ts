import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  attributionHtml,
  attributionLines,
  attributionsFor,
  attributionText,
  DEFAULT_ATTRIBUTIONS,
} from '../../src/enrich/attribution.ts'

describe('attribution', () => {
  it("carries DB-IP's required link and the RouteViews / NRO credits for the shipped data", () => {
    const html = attributionHtml(DEFAULT_ATTRIBUTIONS)
    assert.match(html, /<a href="https:\/\/db-ip\.com">IP Geolocation by DB-IP<\/a>/)
    assert.match(html, /routeviews\.org/)
    assert.match(html, /nro\.net/)
    assert.match(attributionText(DEFAULT_ATTRIBUTIONS), /CC BY 4\.0/)
    assert.equal(attributionLines(DEFAULT_ATTRIBUTIONS)[0], 'IP Geolocation by DB-IP (https://db-ip.com, CC BY 4.0)')
  })

  it('credits what is in use: MaxMind for a GeoLite2 file, nothing of ours for an operator table', () => {
    const geolite = attributionsFor({ country: 'geolite2', asnIsDefault: true })
    assert.ok(geolite.some((a) => a.text.includes('GeoLite2 data created by MaxMind')))
    assert.ok(!geolite.some((a) => a.url === 'https://db-ip.com' && a.data === 'country'))
    const own = attributionsFor({ country: 'csv', asnIsDefault: false })
    assert.deepEqual(
      own.map((a) => a.data),
      ['map'],
    )
  })
})
