// Security headers on every answer of the dashboard: a strict Content-Security-Policy (everything
// is self-hosted; no inline script at all; styles from the app's own files plus <style> elements
// carrying this answer's nonce, which CodeMirror inserts via EditorView.cspNonce), nosniff and no
// referrer. The nonce is published to the app in index.html as <meta name="csp-nonce">.
// Inline style *attributes* set through the CSSOM (React's style={…}, uPlot) are not affected by
// style-src; only `style="…"` in markup would be, and the app has none.
import { randomBytes } from 'node:crypto'

export function newNonce(): string {
  return randomBytes(16).toString('base64')
}

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ')
}

export function securityHeaders(nonce: string): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(nonce),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  }
}

/** index.html with this answer's nonce as <meta name="csp-nonce"> (first thing in <head>). */
export function withNonce(indexHtml: string, nonce: string): string {
  const meta = `<meta name="csp-nonce" content="${nonce}">`
  return /<head[^>]*>/i.test(indexHtml) ? indexHtml.replace(/<head[^>]*>/i, (h) => h + meta) : meta + indexHtml
}
