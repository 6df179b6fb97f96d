// Requests and answers of the search API (GET /api/search, GET /api/search/aggs), the same
// whichever backend is configured. HTTP parameters are parsed into these in http/search-routes.ts.
import type { Query } from './query.ts'

export interface SortSpec {
  /** An aggregatable catalogue field; default `@timestamp`. */
  readonly field: string
  readonly order: 'asc' | 'desc'
}

export interface SearchRequest {
  readonly query: Query
  /** Epoch ms, inclusive, on `@timestamp`. */
  readonly fromMs?: number
  /** Epoch ms, inclusive. */
  readonly toMs?: number
  /** Hits to return, 0–10000 (default 50). */
  readonly size: number
  /** Sort keys; the backend appends `event_id` (same order as the last key) as the tie-breaker. */
  readonly sort: readonly SortSpec[]
  /** Opaque token from a previous answer's `next` (search_after paging). */
  readonly searchAfter?: string
  /** Top-level fields (or dotted paths) to return; undefined: the whole document. */
  readonly fields?: readonly string[]
}

export interface SearchResponse {
  /** Exact number of documents matching query and time range. */
  readonly total: number
  /** Stored documents (as indexed: the amavis event plus event_id and client_geo). */
  readonly hits: readonly Record<string, unknown>[]
  /** search_after token for the next page; absent when this page is the last. */
  readonly next?: string
}

export type MetricOp = 'min' | 'max' | 'avg' | 'sum'

/** A part of a keyword value a terms aggregation may count instead of the whole value. */
export type TermsPart = 'domain'

export type AggSpec =
  | {
      readonly type: 'date_histogram'
      /** Fixed interval (`30s`, `1m`, `5m`, `1h`, `1d`…) or 'auto' (the largest bucket count ≤ buckets). */
      readonly interval: string
      /** For 'auto': the most buckets wanted (default 100). */
      readonly buckets?: number
      /** Per-bucket counts of the top values of a field (stacked by action, content_type…). */
      readonly split?: { readonly field: string; readonly size: number }
      /** Per-bucket metric, e.g. max of elapsed.Total. */
      readonly metric?: { readonly op: MetricOp; readonly field: string }
      /**
       * Per-bucket percentiles of a numeric field (with or beside `metric`), computed per bucket
       * exactly as the top-level percentiles aggregation computes them on the same backend.
       */
      readonly percentiles?: { readonly field: string; readonly percents: readonly number[] }
      /** Per-bucket counts of further queries within the main one (several query series). */
      readonly series?: readonly { readonly name: string; readonly query: Query }[]
    }
  /**
   * Top values over the whole result set, count descending then value ascending. `part: 'domain'`
   * (keyword address fields: mail_from, rcpt_to…) groups the values by their lower-cased domain
   * (the text after the last `@`, not empty): a bucket's doc_count is then the sum of its
   * addresses' document counts (addresses at that domain: for rcpt_to, recipients rather than
   * messages); missing_doc_count counts the documents with no such address.
   */
  | { readonly type: 'terms'; readonly field: string; readonly size: number; readonly part?: TermsPart }
  | { readonly type: 'stats'; readonly field: string }
  | { readonly type: 'percentiles'; readonly field: string; readonly percents: readonly number[] }
  /** Country breakdown of client_geo: count per country with its point. */
  | { readonly type: 'geo'; readonly size: number }

export interface AggsRequest {
  readonly query: Query
  readonly fromMs?: number
  readonly toMs?: number
  readonly aggs: Readonly<Record<string, AggSpec>>
}

export interface DateHistogramResult {
  readonly interval_ms: number
  /** Every bucket from the range's start to its end (empty ones included), key = bucket start (epoch ms, UTC-aligned). */
  readonly buckets: readonly {
    readonly key: number
    readonly key_as_string: string
    readonly doc_count: number
    readonly split?: Readonly<Record<string, number>>
    readonly metric?: number | null
    /** With the spec's `percentiles`: keyed as PercentilesResult.values (null in a bucket without values). */
    readonly percentiles?: Readonly<Record<string, number | null>>
    readonly series?: Readonly<Record<string, number>>
  }[]
}
export interface TermsResult {
  readonly buckets: readonly { readonly key: string | number | boolean; readonly doc_count: number }[]
  /** Sum of the counts of the values not in `buckets` (ES sum_other_doc_count). */
  readonly other_doc_count: number
  /** Documents of the result without the field. */
  readonly missing_doc_count: number
}
export interface StatsResult {
  readonly count: number
  readonly min: number | null
  readonly max: number | null
  readonly avg: number | null
  readonly sum: number
}
export interface PercentilesResult {
  /** Keyed by the percent as written with one decimal ("50.0", "95.0"). */
  readonly values: Readonly<Record<string, number | null>>
}
export interface GeoResult {
  readonly buckets: readonly {
    readonly country_code: string
    readonly doc_count: number
    readonly location: { readonly lat: number; readonly lon: number } | null
  }[]
}
export type AggResult = DateHistogramResult | TermsResult | StatsResult | PercentilesResult | GeoResult

export interface AggsResponse {
  /** Documents matching query and time range (exact). */
  readonly total: number
  readonly aggs: Readonly<Record<string, AggResult>>
}
