// The `dashboard` section of vigil.yaml.
import { z } from 'zod'
import { DEFAULT_DASHBOARD_LISTEN, DEFAULT_HTTP_LISTEN } from '@vigil/protocol'

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected HOST:PORT or [V6]:PORT')

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
})
export type DashboardConfig = z.infer<typeof dashboardConfigSchema>
