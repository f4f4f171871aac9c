import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { addressRefusal, allowedRanges, embeddedIpv4, parseOutboundAllow } from './outbound.address.js';
import { checkOutboundUrl } from './outbound.guard.js';

/** Every notation of an inside address that the URL standard reads, and what the refusal says. */
const REFUSED: Array<[url: string, says: string]> = [
  ['http://127.0.0.1:8080/hook', '127.0.0.1 is a loopback address'],
  ['http://2130706433/', '127.0.0.1 is a loopback address'], // decimal
  ['http://0177.0.0.1/', '127.0.0.1 is a loopback address'], // octal
  ['http://0x7f.0.0.1/', '127.0.0.1 is a loopback address'], // hex
  ['http://0x7f000001/', '127.0.0.1 is a loopback address'], // one hex number
  ['http://017700000001/', '127.0.0.1 is a loopback address'], // one octal number
  ['http://127.1/', '127.0.0.1 is a loopback address'], // short
  ['http://0x7f.1/', '127.0.0.1 is a loopback address'], // short hex
  ['http://127.000.000.001/', '127.0.0.1 is a loopback address'], // leading zeros
  ['http://127.0.0.1./', '127.0.0.1 is a loopback address'], // trailing dot
  ['http://%31%32%37.0.0.1/', '127.0.0.1 is a loopback address'], // percent-encoded
  ['http://\uff11\uff12\uff17.0.0.1/', '127.0.0.1 is a loopback address'], // full-width digits
  ['http://127.254.3.9/', '127.254.3.9 is a loopback address'],
  ['https://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
  ['http://2852039166/', '169.254.169.254 is a link-local address'], // decimal cloud metadata
  ['http://0xa9fea9fe/', '169.254.169.254 is a link-local address'],
  ['http://0251.0376.0251.0376/', '169.254.169.254 is a link-local address'],
  ['http://10.0.0.1/', '10.0.0.1 is a private address'],
  ['http://012.1/', '10.0.0.1 is a private address'],
  ['http://172.16.0.1/', '172.16.0.1 is a private address'],
  ['http://172.31.255.254/', '172.31.255.254 is a private address'],
  ['http://192.168.1.1/', '192.168.1.1 is a private address'],
  ['http://3232235777/', '192.168.1.1 is a private address'],
  ['http://100.64.0.1/', '100.64.0.1 is a carrier-grade NAT address'],
  ['http://100.127.255.254/', '100.127.255.254 is a carrier-grade NAT address'],
  ['http://0.0.0.0/', '0.0.0.0 is an unspecified address'],
  ['http://0/', '0.0.0.0 is an unspecified address'],
  ['http://0.1.2.3/', '0.1.2.3 is an unspecified address'],
  ['http://224.0.0.1/', '224.0.0.1 is a multicast address'],
  ['http://239.255.255.250/', '239.255.255.250 is a multicast address'],
  ['http://255.255.255.255/', '255.255.255.255 is a broadcast address'],
  ['http://4294967295/', '255.255.255.255 is a broadcast address'],
  ['http://240.0.0.1/', '240.0.0.1 is a reserved address'],
  ['http://198.18.0.1/', '198.18.0.1 is a reserved address'],
  ['http://192.0.2.10/', '192.0.2.10 is a reserved address'],
  ['http://[::1]/', '::1 is a loopback address'],
  ['http://[0:0:0:0:0:0:0:1]:8080/', '::1 is a loopback address'],
  ['http://[::]/', ':: is an unspecified address'],
  ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1 carries 127.0.0.1 is a loopback address'], // IPv4-mapped
  ['http://[::ffff:7f00:1]/', '::ffff:7f00:1 carries 127.0.0.1 is a loopback address'],
  ['http://[0:0:0:0:0:ffff:127.0.0.1]/', '::ffff:7f00:1 carries 127.0.0.1 is a loopback address'],
  ['http://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe carries 169.254.169.254 is a link-local address'],
  ['http://[::ffff:10.1.2.3]/', '::ffff:a01:203 carries 10.1.2.3 is a private address'],
  ['http://[::127.0.0.1]/', '::7f00:1 carries 127.0.0.1 is a loopback address'], // IPv4-compatible
  ['http://[::ffff:0:127.0.0.1]/', '::ffff:0:7f00:1 carries 127.0.0.1 is a loopback address'], // IPv4-translated
  ['http://[64:ff9b::127.0.0.1]/', '64:ff9b::7f00:1 carries 127.0.0.1 is a loopback address'], // NAT64
  ['http://[64:ff9b::a9fe:a9fe]/', '64:ff9b::a9fe:a9fe carries 169.254.169.254 is a link-local address'],
  ['http://[2002:7f00:1::]/', '2002:7f00:1:: carries 127.0.0.1 is a loopback address'], // 6to4
  ['http://[fe80::1]/', 'fe80::1 is a link-local address'],
  ['http://[febf::1]/', 'febf::1 is a link-local address'],
  ['http://[fc00::1]/', 'fc00::1 is a unique-local address'],
  ['http://[fd12:3456:789a::1]/', 'fd12:3456:789a::1 is a unique-local address'],
  ['http://[fec0::1]/', 'fec0::1 is a site-local address'],
  ['http://[ff02::1]/', 'ff02::1 is a multicast address'],
  ['http://[2001:db8::1]/', '2001:db8::1 is a reserved address'],
  ['http://localhost:5263/', 'localhost names this machine'],
  ['http://LOCALHOST./', 'localhost names this machine'],
  ['http://api.localhost/', 'api.localhost names this machine'],
];

const ALLOWED = [
  'https://hooks.example.com/lanes',
  'http://93.184.216.34/',
  'http://1572395042/', // 93.184.216.34 in decimal
  'http://8.8.8.8:8443/in',
  'http://11.0.0.1/',
  'http://172.15.255.255/',
  'http://172.32.0.1/',
  'http://100.63.255.255/',
  'http://100.128.0.1/',
  'http://192.169.0.1/',
  'http://223.255.255.255/',
  'http://[2606:4700:4700::1111]/',
  'http://[::ffff:8.8.8.8]/',
  'http://[64:ff9b::8.8.8.8]/',
  'http://[2002:808:808::1]/',
  'http://localhost.example.com/',
];

const INVALID = [
  'ftp://example.com/',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'gopher://127.0.0.1:25/',
  'http://user:pw@example.com/',
  'http://:pw@example.com/',
  'not a url',
  'http://1.2.3.4.5/',
  'http://0x100000000/',
  'http://[::1/',
];

describe('the outbound address rules', () => {
  it.each(REFUSED)('refuses %s (%s)', (url, says) => {
    expect(checkOutboundUrl(url)).toEqual({ ok: false, reason: 'forbidden', message: says });
  });

  it.each(ALLOWED)('allows %s', (url) => {
    expect(checkOutboundUrl(url)).toMatchObject({ ok: true });
  });

  it.each(INVALID)('answers "invalid" for %s', (url) => {
    expect(checkOutboundUrl(url)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('judges addresses as resolvers give them, zone ids and dotted IPv6 tails included', () => {
    expect(addressRefusal('::ffff:127.0.0.1')).toBe('::ffff:127.0.0.1 carries 127.0.0.1 is a loopback address');
    expect(addressRefusal('fe80::1%eth0')).toBe('fe80::1%eth0 is a link-local address');
    expect(addressRefusal('0:0:0:0:0:ffff:a9fe:a9fe')).toContain('169.254.169.254 is a link-local address');
    expect(addressRefusal('93.184.216.34')).toBeNull();
    expect(addressRefusal('2a00:1450:4001:81c::200e')).toBeNull();
    expect(addressRefusal('example.com')).toBe('example.com is not an IP address');
    expect(embeddedIpv4('::ffff:0a00:0001')).toBe('10.0.0.1');
    expect(embeddedIpv4('2001:4860::8888')).toBeNull();
  });

  it('lets the admin allow named hosts and ranges, in every notation, and nothing more', () => {
    const allow = parseOutboundAllow(
      ' 127.0.0.1, 10.20.0.0/16,hooks.corp.example , *.svc.cluster.local, [fd00:1::]/64 ',
    );
    expect(allow).toEqual({
      hosts: ['hooks.corp.example', '*.svc.cluster.local'],
      ranges: ['127.0.0.1', '10.20.0.0/16', 'fd00:1::/64'],
    });
    const ok = (url: string) => checkOutboundUrl(url, allow).ok;
    expect(ok('http://127.0.0.1:9000/')).toBe(true);
    expect(ok('http://2130706433/')).toBe(true);
    expect(ok('http://[::ffff:127.0.0.1]/')).toBe(true);
    expect(ok('http://127.0.0.2/')).toBe(false);
    expect(ok('http://[::1]/')).toBe(false);
    expect(ok('http://10.20.3.4/')).toBe(true);
    expect(ok('http://10.21.0.1/')).toBe(false);
    expect(ok('http://[fd00:1::5]/')).toBe(true);
    expect(ok('http://[fd00:2::5]/')).toBe(false);
    expect(ok('http://169.254.169.254/')).toBe(false);
    // Loopback names stay refused unless allowed by name.
    expect(ok('http://localhost/')).toBe(false);
    expect(checkOutboundUrl('http://localhost/', parseOutboundAllow('localhost')).ok).toBe(true);
    expect(addressRefusal('10.20.9.9', allowedRanges(allow))).toBeNull();
    expect(addressRefusal('10.30.9.9', allowedRanges(allow))).toBe('10.30.9.9 is a private address');
  });

  it('refuses allow entries it cannot read, through the config', () => {
    for (const entry of [
      'hooks corp',
      '10.0.0.0/33',
      '::1/129',
      '10.0.0.0/8/1',
      'http://x',
      '999.1.1.1',
      '10.0.0.0/x',
    ]) {
      expect(() => parseOutboundAllow(entry), entry).toThrow(/neither a host name nor an IP range/);
    }
    expect(() => loadConfig({ LANES_OUTBOUND_ALLOW: 'intranet, 10.0.0.0/40' }, '/tmp')).toThrow(
      expect.objectContaining({
        code: 'LANES_CONFIG_INVALID',
        message: expect.stringContaining('LANES_OUTBOUND_ALLOW'),
      }),
    );
    expect(loadConfig({ LANES_OUTBOUND_ALLOW: 'intranet, 10.0.0.0/8' }, '/tmp').outboundAllow).toEqual({
      hosts: ['intranet'],
      ranges: ['10.0.0.0/8'],
    });
    expect(loadConfig({}, '/tmp').outboundAllow).toEqual({ hosts: [], ranges: [] });
  });
});
