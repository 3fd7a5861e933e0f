import type { MailSender } from './index.ts'

/** "Name <address>" or a bare address, as SendGrid's `from` object. */
function parseFrom(from: string): { email: string; name?: string } {
  const m = from.match(/^\s*(.*?)\s*<([^>]+)>\s*$/)
  return m ? { email: m[2]!, ...(m[1] ? { name: m[1] } : {}) } : { email: from.trim() }
}

/**
 * SendGrid v3 Mail Send (POST /v3/mail/send): 202 Accepted on success; errors answer
 * `{"errors":[{"message","field","help"}]}` with 4xx/5xx.
 */
export function sendgridSender(options: { apiKey: string; apiUrl: string; from: string }): MailSender {
  return {
    async send(message) {
      const res = await fetch(options.apiUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          personalizations: [{ to: [{ email: message.to }] }],
          from: parseFrom(options.from),
          subject: message.subject,
          content: [
            { type: 'text/plain', value: message.text },
            { type: 'text/html', value: message.html },
          ],
        }),
      })
      if (res.status !== 202 && !res.ok) {
        const body = await res.text().catch(() => '')
        throw new Error(`SendGrid refused the message: HTTP ${res.status} ${body.slice(0, 300)}`)
      }
    },
  }
}
