import { vi, type MockInstance } from 'vitest'

/**
 * A stand-in for SendGrid's v3 Mail Send API (POST https://api.sendgrid.com/v3/mail/send),
 * answering as the real one does: 202 with an empty body and an X-Message-Id header; 401 for a
 * wrong key; 400 `{"errors":[{"message","field","help"}]}` for a malformed message.
 *
 * Code inside workerd cannot listen on a socket, so a server started by the test is out of
 * reach: like the OAuth stand-ins (test/oauth-providers.ts) this answers the Worker's outbound
 * fetch to SendGrid's real URL (the Worker runs in the tests' isolate), and lets every other
 * request (the local SQL and Redis endpoints) through untouched.
 */

export interface SendGridMail {
  personalizations: Array<{ to: Array<{ email: string; name?: string }> }>
  from: { email: string; name?: string }
  subject: string
  content: Array<{ type: string; value: string }>
}

const URL_MAIL_SEND = 'https://api.sendgrid.com/v3/mail/send'
const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html'
const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/

interface SendGridError {
  message: string
  field: string | null
  help: string | null
}

const errors = (status: number, list: SendGridError[]) =>
  new Response(JSON.stringify({ errors: list }), { status, headers: { 'content-type': 'application/json' } })

/** The checks SendGrid makes on a message, with its own messages and fields. */
function problems(body: unknown): SendGridError[] {
  const mail = body as Partial<SendGridMail> | null
  const out: SendGridError[] = []
  if (!mail || typeof mail !== 'object') return [{ message: 'Bad Request', field: null, help: null }]
  if (!Array.isArray(mail.personalizations) || mail.personalizations.length === 0) {
    out.push({ message: 'The personalizations field is required and must have at least one personalization.', field: 'personalizations', help: `${HELP}#-Personalizations-Errors` })
  } else {
    mail.personalizations.forEach((p, i) => {
      if (!Array.isArray(p?.to) || p.to.length === 0) out.push({ message: 'The to array is required for all personalization objects, and must have at least one email object with a valid email address.', field: `personalizations.${i}.to`, help: `${HELP}#message.personalizations.to` })
      else p.to.forEach((to, j) => {
        if (!ADDRESS.test(to?.email ?? '')) out.push({ message: 'Does not contain a valid address.', field: `personalizations.${i}.to.${j}.email`, help: `${HELP}#message.personalizations.to` })
      })
    })
  }
  if (!mail.from || typeof mail.from.email !== 'string') out.push({ message: 'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.', field: 'from', help: `${HELP}#message.from` })
  else if (!ADDRESS.test(mail.from.email)) out.push({ message: 'The from email does not contain a valid address.', field: 'from.email', help: `${HELP}#message.from` })
  if (typeof mail.subject !== 'string' || mail.subject === '') out.push({ message: 'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.', field: 'subject', help: `${HELP}#message.subject` })
  if (!Array.isArray(mail.content) || mail.content.length === 0) {
    out.push({ message: 'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.', field: 'content', help: `${HELP}#message.content` })
  } else {
    mail.content.forEach((c, i) => {
      if (typeof c?.value !== 'string' || c.value === '') out.push({ message: 'The content value must be a string at least one character in length.', field: `content.${i}.value`, help: `${HELP}#message.content.value` })
    })
    const plain = mail.content.findIndex((c) => c?.type === 'text/plain')
    if (plain > 0) out.push({ message: 'If present, text/plain content must be first, followed by any other content.', field: 'content', help: `${HELP}#message.content.type` })
  }
  return out
}

export class SendGridStandIn {
  /** Messages answered 202, in order. */
  accepted: SendGridMail[] = []
  /** Statuses of refused requests, in order. */
  refused: number[] = []
  private spy: MockInstance<typeof fetch> | undefined
  private readonly apiKey: string

  constructor(apiKey: string) {
    this.apiKey = apiKey
  }

  start() {
    this.accepted = []
    this.refused = []
    const original = globalThis.fetch
    this.spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const req = new Request(input as RequestInfo, init)
      if (new URL(req.url).origin !== new URL(URL_MAIL_SEND).origin) return original(input as RequestInfo, init)
      const res = await this.handle(req)
      if (res.status !== 202) this.refused.push(res.status)
      return res
    })
  }

  stop() {
    this.spy?.mockRestore()
    this.spy = undefined
  }

  private async handle(req: Request): Promise<Response> {
    if (new URL(req.url).pathname !== '/v3/mail/send') return errors(404, [{ message: 'Not Found', field: null, help: null }])
    if (req.method !== 'POST') return errors(405, [{ message: 'Method Not Allowed', field: null, help: null }])
    if (req.headers.get('authorization') !== `Bearer ${this.apiKey}`) {
      return errors(401, [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }])
    }
    if (!req.headers.get('content-type')?.startsWith('application/json')) {
      return errors(415, [{ message: 'Content-Type should be application/json.', field: null, help: null }])
    }
    let body: unknown
    try {
      body = await req.json()
    } catch {
      return errors(400, [{ message: 'Bad Request', field: null, help: null }])
    }
    const found = problems(body)
    if (found.length) return errors(400, found)
    this.accepted.push(body as SendGridMail)
    return new Response(null, { status: 202, headers: { 'x-message-id': crypto.randomUUID().replaceAll('-', '') } })
  }
}
