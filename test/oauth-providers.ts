import { env } from 'cloudflare:test'
import { vi, type MockInstance } from 'vitest'

/**
 * Stand-ins for Google, GitHub, Facebook and TikTok, answering the outbound requests the
 * Worker makes to their real hosts with the providers' real response shapes.
 *
 * The Worker under test runs in the same isolate as the tests (@cloudflare/vitest-plugin:
 * "any global mocks will apply to it too"), so a spy on the global fetch sees arctic's token
 * requests and our profile requests; every other host (the local SQL and Redis endpoints)
 * passes through untouched. The providers check what real ones check: the client's
 * credentials, the code (single use, issued to that client and redirect URI), the PKCE
 * verifier against the challenge of the authorization URL, the access token, and Facebook's
 * appsecret_proof.
 */

export type ProviderName = 'google' | 'github' | 'facebook' | 'tiktok'

/** A person at a provider. `email: null` for none (TikTok never has one). */
export interface Person {
  id: string
  email?: string | null
  emailVerified?: boolean
  name?: string
  /** Google: claims to override in the ID token (a wrong aud, say). */
  idTokenClaims?: Record<string, unknown>
}

interface Grant {
  provider: ProviderName
  clientId: string
  redirectUri: string
  codeChallenge: string | null
  person: Person
}

const AUTHORIZE: Record<ProviderName, string> = {
  google: 'https://accounts.google.com/o/oauth2/v2/auth',
  github: 'https://github.com/login/oauth/authorize',
  facebook: 'https://www.facebook.com/v16.0/dialog/oauth',
  tiktok: 'https://www.tiktok.com/v2/auth/authorize',
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } })

const random = (n = 24) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, '0')).join('')

function base64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes
  let bin = ''
  for (const b of raw) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

async function s256(verifier: string) {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))))
}

async function hmacHex(key: string, message: string) {
  const k = await crypto.subtle.importKey('raw', new TextEncoder().encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return Array.from(new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(message))), (b) => b.toString(16).padStart(2, '0')).join('')
}

function basicCredentials(req: Request): [string, string] | null {
  const m = req.headers.get('authorization')?.match(/^Basic\s+(.+)$/i)
  if (!m) return null
  const decoded = atob(m[1]!)
  const i = decoded.indexOf(':')
  return i < 0 ? null : [decoded.slice(0, i), decoded.slice(i + 1)]
}

/** The token endpoints' form body (read as bytes: it is not text/plain). */
const formOf = async (req: Request) => new URLSearchParams(new TextDecoder().decode(await req.arrayBuffer()))

const bearer = (req: Request) => req.headers.get('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1] ?? null

export class FakeProviders {
  private readonly clients = new Map<string, string>()
  private readonly codes = new Map<string, Grant>()
  private readonly tokens = new Map<string, Grant>()
  private spy: MockInstance<typeof fetch> | undefined
  /** Make the next token request of a provider fail like an outage (HTTP 503). */
  readonly outage = new Set<ProviderName>()
  /** Every provider request the Worker made, for assertions. */
  readonly requests: { method: string; url: string }[] = []

  constructor() {
    // The platform's own apps (vitest.config.ts bindings).
    this.registerClient('google', env.GOOGLE_CLIENT_ID!, env.GOOGLE_CLIENT_SECRET!)
    this.registerClient('github', env.GITHUB_CLIENT_ID!, env.GITHUB_CLIENT_SECRET!)
    this.registerClient('facebook', env.FACEBOOK_CLIENT_ID!, env.FACEBOOK_CLIENT_SECRET!)
  }

  /** An OAuth app registered at the provider (a tenant's own). */
  registerClient(provider: ProviderName, clientId: string, secret: string) {
    this.clients.set(`${provider}:${clientId}`, secret)
  }

  install() {
    const original = globalThis.fetch
    this.spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const req = new Request(input as RequestInfo, init)
      const response = await this.handle(req)
      return response ?? original(input as RequestInfo, init)
    })
  }

  uninstall() {
    this.spy?.mockRestore()
  }

  /**
   * The person consents at the provider's authorization page: the provider sends the browser
   * back to the redirect URI with a code and the state, as each provider does.
   */
  consent(authorizationUrl: string, provider: ProviderName, person: Person): string {
    const url = new URL(authorizationUrl)
    if (`${url.origin}${url.pathname}` !== AUTHORIZE[provider]) throw new Error(`not ${provider}'s authorization page: ${authorizationUrl}`)
    const clientId = url.searchParams.get(provider === 'tiktok' ? 'client_key' : 'client_id')!
    if (!this.clients.has(`${provider}:${clientId}`)) throw new Error(`${provider} does not know the client ${clientId}`)
    const redirectUri = url.searchParams.get('redirect_uri')!
    const method = url.searchParams.get('code_challenge_method')
    if (method !== null && method !== 'S256') throw new Error('only S256 is accepted')
    const code = { google: `4/0A${random()}`, github: random(10), facebook: `AQ${random(40)}`, tiktok: `${random(30)}*!${random(4)}` }[provider]
    this.codes.set(code, { provider, clientId, redirectUri, codeChallenge: url.searchParams.get('code_challenge'), person })
    const back = new URL(redirectUri)
    back.searchParams.set('code', code)
    if (provider === 'google') {
      back.searchParams.set('scope', 'email profile openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile')
      back.searchParams.set('authuser', '0')
      back.searchParams.set('prompt', 'consent')
    }
    if (provider === 'tiktok') back.searchParams.set('scopes', 'user.info.basic')
    back.searchParams.set('state', url.searchParams.get('state')!)
    return back.toString()
  }

  /** The person refuses at the provider: back to the redirect URI with an error and the state. */
  deny(authorizationUrl: string): string {
    const url = new URL(authorizationUrl)
    const back = new URL(url.searchParams.get('redirect_uri')!)
    back.searchParams.set('error', 'access_denied')
    back.searchParams.set('error_description', 'The user denied your request.')
    back.searchParams.set('state', url.searchParams.get('state')!)
    return back.toString()
  }

  private async handle(req: Request): Promise<Response | undefined> {
    const url = new URL(req.url)
    const route = `${req.method} ${url.host}${url.pathname}`
    const handlers: Record<string, () => Promise<Response>> = {
      'POST oauth2.googleapis.com/token': () => this.googleToken(req),
      'POST github.com/login/oauth/access_token': () => this.githubToken(req),
      'GET api.github.com/user': () => this.githubUser(req),
      'GET api.github.com/user/emails': () => this.githubEmails(req),
      'POST graph.facebook.com/v16.0/oauth/access_token': () => this.facebookToken(req),
      'GET graph.facebook.com/v16.0/me': () => this.facebookMe(req, url),
      'POST open.tiktokapis.com/v2/oauth/token/': () => this.tiktokToken(req),
      'GET open.tiktokapis.com/v2/user/info/': () => this.tiktokUserInfo(req, url),
    }
    const handler = handlers[route]
    if (!handler) return undefined
    this.requests.push({ method: req.method, url: req.url })
    return handler()
  }

  /** The code's grant, if the code is live, was issued to this client and redirect URI, and the verifier matches. */
  private async redeem(provider: ProviderName, code: string | null, clientId: string, redirectUri: string | null, verifier: string | null) {
    const grant = code ? this.codes.get(code) : undefined
    if (!grant || grant.provider !== provider) return { error: 'code' as const }
    this.codes.delete(code!) // single use
    if (grant.clientId !== clientId) return { error: 'code' as const }
    if (redirectUri !== grant.redirectUri) return { error: 'redirect' as const }
    if (grant.codeChallenge !== null && (verifier === null || (await s256(verifier)) !== grant.codeChallenge)) return { error: 'verifier' as const }
    return { grant }
  }

  private clientOk(provider: ProviderName, clientId: string | null, secret: string | null) {
    return clientId !== null && secret !== null && this.clients.get(`${provider}:${clientId}`) === secret
  }

  private issue(prefix: string, grant: Grant) {
    const token = `${prefix}${random()}`
    this.tokens.set(token, grant)
    return token
  }

  // Google: https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code
  private async googleToken(req: Request) {
    if (this.outage.has('google')) return new Response('<!DOCTYPE html><title>Error 503</title>', { status: 503, headers: { 'content-type': 'text/html' } })
    const form = await formOf(req)
    const [clientId, secret] = basicCredentials(req) ?? [form.get('client_id'), form.get('client_secret')]
    if (!this.clientOk('google', clientId, secret)) return json({ error: 'invalid_client', error_description: 'Unauthorized' }, 401)
    if (form.get('grant_type') !== 'authorization_code') return json({ error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' + form.get('grant_type') }, 400)
    const { grant, error } = await this.redeem('google', form.get('code'), clientId!, form.get('redirect_uri'), form.get('code_verifier'))
    if (error === 'redirect') return json({ error: 'redirect_uri_mismatch', error_description: 'Bad Request' }, 400)
    if (error === 'verifier') return json({ error: 'invalid_grant', error_description: form.get('code_verifier') ? 'Invalid code verifier.' : 'Missing code verifier.' }, 400)
    if (!grant) return json({ error: 'invalid_grant', error_description: 'Bad Request' }, 400)
    const accessToken = this.issue('ya29.a0', grant)
    const now = Math.floor(Date.now() / 1000)
    const p = grant.person
    const claims = {
      iss: 'https://accounts.google.com',
      azp: clientId,
      aud: clientId,
      sub: p.id,
      ...(p.email ? { email: p.email, email_verified: p.emailVerified ?? true } : {}),
      at_hash: base64url(random(8)),
      name: p.name ?? 'Ada Lovelace',
      picture: 'https://lh3.googleusercontent.com/a/ACg8ocJ=s96-c',
      given_name: (p.name ?? 'Ada Lovelace').split(' ')[0],
      family_name: (p.name ?? 'Ada Lovelace').split(' ').slice(1).join(' ') || undefined,
      iat: now,
      exp: now + 3600,
      ...p.idTokenClaims,
    }
    // Signed by Google in reality (RS256); the Worker reads it straight from the token endpoint over TLS.
    const idToken = `${base64url(JSON.stringify({ alg: 'RS256', kid: 'c7e04465649ffa606557650c7e65f0a87ae00fe8', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}.${base64url(random(64))}`
    return json({
      access_token: accessToken,
      expires_in: 3599,
      scope: 'https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile openid',
      token_type: 'Bearer',
      id_token: idToken,
    })
  }

  // GitHub: https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps — errors come with 200.
  private async githubToken(req: Request) {
    const form = await formOf(req)
    const [clientId, secret] = basicCredentials(req) ?? [form.get('client_id'), form.get('client_secret')]
    if (!this.clientOk('github', clientId, secret)) {
      return json({ error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.', error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials' })
    }
    const { grant, error } = await this.redeem('github', form.get('code'), clientId!, form.get('redirect_uri'), null)
    if (error === 'redirect') return json({ error: 'redirect_uri_mismatch', error_description: 'The redirect_uri MUST match the registered callback URL for this application.', error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch2' })
    if (!grant) return json({ error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.', error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code' })
    return json({ access_token: this.issue('gho_', grant), token_type: 'bearer', scope: 'read:user,user:email' })
  }

  private githubAuth(req: Request) {
    if (!req.headers.get('user-agent')) return { denied: json({ message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.' }, 403) }
    const grant = this.tokens.get(bearer(req) ?? '')
    if (!grant || grant.provider !== 'github') return { denied: json({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' }, 401) }
    return { grant }
  }

  private async githubUser(req: Request) {
    const { grant, denied } = this.githubAuth(req)
    if (denied) return denied
    const p = grant.person
    const login = (p.name ?? 'octocat').toLowerCase().replace(/[^a-z0-9]+/g, '-')
    return json({
      login, id: Number(p.id), node_id: `MDQ6VXNlcj${p.id}`, avatar_url: `https://avatars.githubusercontent.com/u/${p.id}?v=4`, gravatar_id: '',
      url: `https://api.github.com/users/${login}`, html_url: `https://github.com/${login}`, type: 'User', site_admin: false,
      name: p.name ?? null, company: null, blog: '', location: null,
      // The public email, if the user chose to show one: never a verification flag here.
      email: p.email ?? null,
      hireable: null, bio: null, twitter_username: null, public_repos: 8, public_gists: 8, followers: 20, following: 0,
      created_at: '2008-01-14T04:33:35Z', updated_at: '2024-01-22T12:00:00Z',
    })
  }

  private async githubEmails(req: Request) {
    const { grant, denied } = this.githubAuth(req)
    if (denied) return denied
    const p = grant.person
    // The noreply address comes first and is verified: the primary one is what counts.
    const emails: unknown[] = [{ email: `${p.id}+user@users.noreply.github.com`, primary: false, verified: true, visibility: null }]
    if (p.email) emails.push({ email: p.email, primary: true, verified: p.emailVerified ?? true, visibility: 'private' })
    return json(emails)
  }

  // Facebook: https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow
  private async facebookToken(req: Request) {
    const form = await formOf(req)
    const clientId = form.get('client_id')
    const fbError = (message: string, code: number, type = 'OAuthException') => json({ error: { message, type, code, fbtrace_id: `A${random(10)}` } }, 400)
    if (!this.clientOk('facebook', clientId, form.get('client_secret'))) return fbError('Error validating client secret.', 1)
    const { grant, error } = await this.redeem('facebook', form.get('code'), clientId!, form.get('redirect_uri'), null)
    if (error === 'redirect') return fbError('Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request', 100)
    if (!grant) return fbError('This authorization code has been used.', 100)
    return json({ access_token: this.issue('EAAG', grant), token_type: 'bearer', expires_in: 5183944 })
  }

  private async facebookMe(req: Request, url: URL) {
    const token = bearer(req) ?? url.searchParams.get('access_token')
    const grant = this.tokens.get(token ?? '')
    if (!grant || grant.provider !== 'facebook') return json({ error: { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190, fbtrace_id: `A${random(10)}` } }, 400)
    const secret = this.clients.get(`facebook:${grant.clientId}`)!
    if (url.searchParams.get('appsecret_proof') !== (await hmacHex(secret, token!))) {
      return json({ error: { message: 'Invalid appsecret_proof provided in the API argument', type: 'GraphMethodException', code: 100, fbtrace_id: `A${random(10)}` } }, 400)
    }
    const fields = (url.searchParams.get('fields') ?? 'id,name').split(',')
    const p = grant.person
    const all: Record<string, unknown> = { id: p.id, name: p.name ?? 'Ada Lovelace', ...(p.email ? { email: p.email } : {}) }
    return json(Object.fromEntries(Object.entries(all).filter(([k]) => fields.includes(k))))
  }

  // TikTok: https://developers.tiktok.com/doc/oauth-user-access-token-management
  private async tiktokToken(req: Request) {
    const form = await formOf(req)
    const clientKey = form.get('client_key')
    const logId = `2024${random(8)}`
    if (!this.clientOk('tiktok', clientKey, form.get('client_secret'))) return json({ error: 'invalid_client', error_description: 'Client key or secret is incorrect.', log_id: logId }, 401)
    const { grant, error } = await this.redeem('tiktok', form.get('code'), clientKey!, form.get('redirect_uri'), form.get('code_verifier'))
    if (error === 'redirect') return json({ error: 'invalid_request', error_description: 'Redirect_uri does not match the one used for authorization.', log_id: logId }, 400)
    if (error === 'verifier') return json({ error: 'invalid_grant', error_description: 'Code verifier or code challenge is invalid.', log_id: logId }, 400)
    if (!grant) return json({ error: 'invalid_grant', error_description: 'Authorization code is expired.', log_id: logId }, 400)
    return json({
      access_token: this.issue('act.', grant),
      expires_in: 86400,
      open_id: grant.person.id,
      refresh_expires_in: 31536000,
      refresh_token: `rft.${random()}`,
      scope: 'user.info.basic',
      token_type: 'Bearer',
    })
  }

  private async tiktokUserInfo(req: Request, url: URL) {
    const logId = `2024${random(8)}`
    const grant = this.tokens.get(bearer(req) ?? '')
    if (!grant || grant.provider !== 'tiktok') {
      return json({ data: {}, error: { code: 'access_token_invalid', message: 'The access token is invalid or not found in the request.', log_id: logId } }, 401)
    }
    const fields = (url.searchParams.get('fields') ?? '').split(',')
    const p = grant.person
    const all: Record<string, unknown> = { open_id: p.id, union_id: `u-${p.id}`, avatar_url: 'https://p16-sign.tiktokcdn-us.com/avatar.jpeg', display_name: p.name ?? 'ada' }
    return json({ data: { user: Object.fromEntries(Object.entries(all).filter(([k]) => fields.includes(k))) }, error: { code: 'ok', message: '', log_id: logId } })
  }
}
