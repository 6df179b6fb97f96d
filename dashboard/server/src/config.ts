// The `dashboard` section of vigil.yaml.
import { z } from 'zod'
import { DEFAULT_DASHBOARD_LISTEN, DEFAULT_HTTP_LISTEN } from '@vigil/protocol'

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected HOST:PORT or [V6]:PORT')

/** `dashboard.auth`: users, sessions and login limits (dashboard/server/src/auth/). */
export const dashboardAuthSchema = z.strictObject({
  /**
   * log2 of scrypt's N for NEW password hashes (17: 2^17, the OWASP minimum, ~0.7 s here). Tests
   * lower it to stay fast; verification always uses the parameters stored with each hash.
   */
  scrypt_log_n: z.number().int().min(10).max(20).default(17),
  /** A session unused for this long is gone (the cookie and the stored session). */
  session_idle_mins: z.number().positive().default(480),
  /**
   * The session cookie's `Secure` flag: false for plain HTTP (the default listen is loopback),
   * true behind TLS. Never 'auto': @fastify/session then silently downgrades SameSite to lax.
   */
  cookie_secure: z.boolean().default(false),
  /** Failed logins allowed per client address and, separately, per user name within the window. */
  login_max_failures: z.number().int().positive().default(5),
  login_window_secs: z.number().positive().default(60),
})
export type DashboardAuthConfig = z.infer<typeof dashboardAuthSchema>

export const dashboardConfigSchema = z.strictObject({
  /** Run the dashboard under `vigil start`. */
  enabled: z.boolean().default(true),
  /** Where the dashboard's web app and API listen. */
  listen: hostPort.default(DEFAULT_DASHBOARD_LISTEN),
  /** The collector's HTTP side, whose /api and /metrics the dashboard serves to the browser. */
  collector_http: hostPort.default(DEFAULT_HTTP_LISTEN),
  /** The built web app (`npm run build:web` makes it); tests point this at their own build. */
  web_dir: z.string().optional(),
  /** Upstream request timeout. */
  upstream_timeout_secs: z.number().positive().default(5),
  /**
   * What a viewer receives as subject text: `rot13` (default, as the talk's subject_rot13 column:
   * the server rewrites every subject it relays) or `raw`. Admins always get raw subjects.
   */
  viewer_subjects: z.enum(['rot13', 'raw']).default('rot13'),
  auth: dashboardAuthSchema.default(dashboardAuthSchema.parse({})),
})
export type DashboardConfig = z.infer<typeof dashboardConfigSchema>
