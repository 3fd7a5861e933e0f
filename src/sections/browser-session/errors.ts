import type { ContentfulStatusCode } from 'hono/utils/http-status'

export const BrowserSessionErrors = {
  cross_site_request: [403, 'This request must come from a page of this host.'],
  session_header_required: [400, 'Browser session endpoints need the header X-Atrium-Session: cookie.'],
  no_browser_session: [401, 'There is no browser session on this host: sign in.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
