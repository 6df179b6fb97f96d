// Credits the data's licences require wherever the data is shown (the dashboard's footer, the
// /api/search answers carrying client_geo). DB-IP Lite is CC BY 4.0 and asks web apps for the link
// back below, verbatim; the ASN tables are CC BY 4.0 by RouteViews, NRO and DB-IP (their
// package's ROUTEVIEWS-LICENSE, NRO_LICENSE, DBIP-LICENSE). Natural Earth is public domain and
// credited as a courtesy.
import type { CountrySourceKind } from './country.ts'

export interface Attribution {
  /** What the credit is for: 'country', 'asn' or 'map'. */
  readonly data: 'country' | 'asn' | 'map'
  /** The words to show, linked to `url`. */
  readonly text: string
  readonly url: string
  readonly license: string
  readonly licenseUrl?: string
}

const CC_BY_4 = 'https://creativecommons.org/licenses/by/4.0/'

export const DBIP_COUNTRY_ATTRIBUTION: Attribution = {
  data: 'country',
  text: 'IP Geolocation by DB-IP',
  url: 'https://db-ip.com',
  license: 'CC BY 4.0',
  licenseUrl: CC_BY_4,
}

/** MaxMind's required notice for GeoLite2, used when an operator configures such a file. */
export const GEOLITE2_COUNTRY_ATTRIBUTION: Attribution = {
  data: 'country',
  text: 'This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com',
  url: 'https://www.maxmind.com',
  license: 'GeoLite2 EULA',
  licenseUrl: 'https://www.maxmind.com/en/geolite2/eula',
}

export const ASN_ATTRIBUTIONS: readonly Attribution[] = [
  {
    data: 'asn',
    text: 'ASN data: RouteViews',
    url: 'https://www.routeviews.org/routeviews/',
    license: 'CC BY 4.0',
    licenseUrl: CC_BY_4,
  },
  { data: 'asn', text: 'NRO', url: 'https://www.nro.net/', license: 'CC BY 4.0', licenseUrl: CC_BY_4 },
  { data: 'asn', text: 'DB-IP', url: 'https://db-ip.com', license: 'CC BY 4.0', licenseUrl: CC_BY_4 },
]

export const NATURAL_EARTH_ATTRIBUTION: Attribution = {
  data: 'map',
  text: 'Made with Natural Earth',
  url: 'https://www.naturalearthdata.com',
  license: 'public domain',
}

/** The credits for the shipped databases (the defaults of every geoip setting). */
export const DEFAULT_ATTRIBUTIONS: readonly Attribution[] = [
  DBIP_COUNTRY_ATTRIBUTION,
  ...ASN_ATTRIBUTIONS,
  NATURAL_EARTH_ATTRIBUTION,
]

/**
 * The credits for the databases actually in use: an operator's own files (a CSV table, a
 * commercial MMDB, their own ASN directory) carry no credit of ours, GeoLite2 carries MaxMind's.
 */
export function attributionsFor(used: { country?: CountrySourceKind; asnIsDefault: boolean }): Attribution[] {
  const out: Attribution[] = []
  if (used.country === 'dbip') out.push(DBIP_COUNTRY_ATTRIBUTION)
  if (used.country === 'geolite2') out.push(GEOLITE2_COUNTRY_ATTRIBUTION)
  if (used.asnIsDefault) out.push(...ASN_ATTRIBUTIONS)
  out.push(NATURAL_EARTH_ATTRIBUTION)
  return out
}

/** One plain-text line per credit (`IP Geolocation by DB-IP (https://db-ip.com, CC BY 4.0)`), for JSON answers. */
export function attributionLines(list: readonly Attribution[]): string[] {
  return list.map((a) => `${a.text} (${a.url}, ${a.license})`)
}

/** One line of plain text: `IP Geolocation by DB-IP (https://db-ip.com, CC BY 4.0) · …`. */
export function attributionText(list: readonly Attribution[]): string {
  return attributionLines(list).join(' · ')
}

/** HTML for a footer: one link per credit, as DB-IP's terms spell it (`<a href='https://db-ip.com'>…</a>`). */
export function attributionHtml(list: readonly Attribution[]): string {
  const esc = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
  return list.map((a) => `<a href="${esc(a.url)}">${esc(a.text)}</a>`).join(' · ')
}
