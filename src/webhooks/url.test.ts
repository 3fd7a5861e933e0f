import { describe, expect, it } from 'vitest'
import { webhookUrlProblem } from './url.ts'

const prod = (url: string) => webhookUrlProblem(url, 'production')

describe('webhook URL rules', () => {
  it('accepts public https URLs in production', () => {
    for (const url of ['https://hooks.example.com/atrium', 'https://example.com:8443/x?y=1', 'https://93.184.216.34/hook', 'https://[2606:4700:4700::1111]/hook', 'https://172.32.0.1/', 'https://100.128.0.1/', 'https://11.0.0.1/']) {
      expect(prod(url), url).toBeNull()
    }
  })

  it('refuses http, other schemes and malformed URLs in production', () => {
    expect(prod('http://hooks.example.com/')).toBe('must use https')
    expect(prod('ftp://hooks.example.com/')).toBe('must use https')
    expect(prod('javascript:alert(1)')).toBe('must use https')
    expect(prod('hooks.example.com/path')).toBe('must be an absolute URL')
    expect(prod('')).toBe('must be an absolute URL')
  })

  it('refuses credentials, fragments and over-long URLs everywhere', () => {
    for (const env of ['production', 'development', 'test'] as const) {
      expect(webhookUrlProblem('https://user:pass@hooks.example.com/', env)).toMatch(/user name or password/)
      expect(webhookUrlProblem('https://hooks.example.com/#x', env)).toMatch(/fragment/)
      expect(webhookUrlProblem(`https://hooks.example.com/${'a'.repeat(2100)}`, env)).toMatch(/at most 2048/)
    }
  })

  it('refuses localhost and *.localhost in production, with or without a trailing dot', () => {
    for (const url of ['https://localhost/', 'https://LOCALHOST:8443/', 'https://api.localhost/', 'https://localhost./', 'https://a.b.localhost/']) {
      expect(prod(url), url).toBe('must not point at localhost')
    }
  })

  it('refuses IPv4 literals in loopback, private, link-local, CGNAT and reserved ranges, in every spelling', () => {
    const blocked = [
      '127.0.0.1', '127.255.255.254', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.1.1',
      '169.254.169.254', '100.64.0.1', '100.127.255.255', '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1',
      // The URL parser normalises these to dotted quads first.
      '127.1', '0x7f.0.0.1', '2130706433', '0177.0.0.1',
    ]
    for (const host of blocked) expect(prod(`https://${host}/hook`), host).toMatch(/must not point at a loopback/)
  })

  it('refuses IPv6 loopback, unspecified, unique-local, link-local, multicast and IPv4-mapped private addresses', () => {
    const blocked = ['::1', '::', 'fc00::1', 'fd12:3456:789a::1', 'fe80::1', 'febf::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '64:ff9b::a00:1', '0:0:0:0:0:0:0:1']
    for (const host of blocked) expect(prod(`https://[${host}]/hook`), host).toMatch(/must not point at a loopback/)
    expect(prod('https://[::ffff:93.184.216.34]/')).toBeNull()
  })

  it('allows http and private addresses in development and test', () => {
    for (const env of ['development', 'test'] as const) {
      for (const url of ['http://localhost:8787/hook', 'http://127.0.0.1:9000/', 'https://10.0.0.5/', 'http://[::1]:3000/']) {
        expect(webhookUrlProblem(url, env), `${env} ${url}`).toBeNull()
      }
      expect(webhookUrlProblem('ftp://example.com/', env)).toBe('must use http or https')
    }
  })
})
