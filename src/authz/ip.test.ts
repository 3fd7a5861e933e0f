import { describe, expect, it } from 'vitest'
import { ipInRange, parseCidr, parseIp } from './ip.ts'

const inCidr = (ip: string, cidr: string) => ipInRange(parseIp(ip)!, parseCidr(cidr)!)

describe('IP addresses', () => {
  it('parses IPv4 and refuses malformed quads', () => {
    expect(parseIp('192.0.2.1')).toEqual({ version: 4, bytes: Uint8Array.from([192, 0, 2, 1]) })
    for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-1', '', 'a.b.c.d']) expect(parseIp(bad), bad).toBeNull()
  })

  it('parses IPv6 in full, compressed and IPv4-tailed forms', () => {
    const full = parseIp('2001:0db8:0000:0000:0000:0000:0000:0001')!
    expect(full.version).toBe(6)
    expect(parseIp('2001:db8::1')!.bytes).toEqual(full.bytes)
    expect(parseIp('::')!.bytes).toEqual(new Uint8Array(16))
    expect(parseIp('::1')!.bytes.at(-1)).toBe(1)
    expect(parseIp('64:ff9b::192.0.2.33')!.bytes.slice(12)).toEqual(Uint8Array.from([192, 0, 2, 33]))
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1', ':1', '1:', 'fe80::1%eth0', '1:2:3:4:5:6:7::8:9', '::1.2.3']) expect(parseIp(bad), bad).toBeNull()
  })

  it('treats an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(parseIp('::ffff:10.1.2.3')).toEqual({ version: 4, bytes: Uint8Array.from([10, 1, 2, 3]) })
    expect(inCidr('::ffff:10.1.2.3', '10.0.0.0/8')).toBe(true)
  })
})

describe('CIDR ranges', () => {
  it('matches IPv4 prefixes on and off byte boundaries', () => {
    expect(inCidr('10.20.30.40', '10.0.0.0/8')).toBe(true)
    expect(inCidr('11.0.0.1', '10.0.0.0/8')).toBe(false)
    expect(inCidr('192.168.1.130', '192.168.1.128/25')).toBe(true)
    expect(inCidr('192.168.1.127', '192.168.1.128/25')).toBe(false)
    expect(inCidr('203.0.113.9', '203.0.113.9/32')).toBe(true)
    expect(inCidr('1.2.3.4', '0.0.0.0/0')).toBe(true)
  })

  it('matches IPv6 prefixes', () => {
    expect(inCidr('2001:db8:abcd::42', '2001:db8::/32')).toBe(true)
    expect(inCidr('2001:db9::1', '2001:db8::/32')).toBe(false)
    expect(inCidr('2001:db8::1', '2001:db8::/127')).toBe(true)
    expect(inCidr('2001:db8::2', '2001:db8::/127')).toBe(false)
  })

  it('never mixes families', () => {
    expect(inCidr('10.0.0.1', '::/0')).toBe(false)
    expect(inCidr('::1', '0.0.0.0/0')).toBe(false)
  })

  it('refuses prefixes out of range and missing prefixes', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0', '10.0.0.0/', '2001:db8::/129', '10.0.0.0/8x', 'x/8']) expect(parseCidr(bad), bad).toBeNull()
    expect(parseCidr('::ffff:10.0.0.0/104')).toMatchObject({ version: 4, prefix: 8 })
  })
})
