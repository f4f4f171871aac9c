import { BlockList, isIP } from 'node:net';

/**
 * Which network addresses Lanes may connect to on a user's behalf (issue 13):
 * everything public, nothing inside — loopback, private, link-local, CGNAT,
 * multicast, unspecified, broadcast, reserved and documentation ranges, IPv6
 * unique-local and site-local, and IPv6 forms that embed a refused IPv4
 * address (IPv4-mapped, -compatible, -translated, NAT64 64:ff9b::/96, 6to4) —
 * unless the admin's allow list (`LANES_OUTBOUND_ALLOW`) names the host or a
 * range holding the address. Pure: no I/O; `outbound.guard.ts` applies it to
 * the addresses actually connected to.
 */

/** The admin's allowances, as read from `LANES_OUTBOUND_ALLOW`. */
export interface OutboundAllow {
  /** Lower-case host names; `*.corp.example` allows every name under corp.example. */
  hosts: readonly string[];
  /** CIDR ranges such as `10.20.0.0/16` or `fd00:1::/64`; a bare address is one host. */
  ranges: readonly string[];
}

export const NO_OUTBOUND_ALLOWANCES: OutboundAllow = Object.freeze({ hosts: [], ranges: [] });

type Family = 'ipv4' | 'ipv6';
interface Range {
  address: string;
  prefix: number;
  family: Family;
}

const range = (text: string): Range => {
  const [address = '', prefix] = text.split('/');
  const family: Family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  return { address, prefix: prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix), family };
};

const listOf = (ranges: readonly string[]): BlockList => {
  const list = new BlockList();
  for (const r of ranges.map(range)) list.addSubnet(r.address, r.prefix, r.family);
  return list;
};

/** Why each range is refused, most specific first. */
const REFUSED: ReadonlyArray<{ reason: string; list: BlockList }> = [
  { reason: 'a broadcast address', ranges: ['255.255.255.255'] },
  { reason: 'a loopback address', ranges: ['127.0.0.0/8', '::1/128'] },
  { reason: 'an unspecified address', ranges: ['0.0.0.0/8', '::/128'] },
  { reason: 'a private address', ranges: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] },
  { reason: 'a link-local address', ranges: ['169.254.0.0/16', 'fe80::/10'] },
  { reason: 'a carrier-grade NAT address', ranges: ['100.64.0.0/10'] },
  { reason: 'a multicast address', ranges: ['224.0.0.0/4', 'ff00::/8'] },
  { reason: 'a unique-local address', ranges: ['fc00::/7'] },
  { reason: 'a site-local address', ranges: ['fec0::/10'] },
  {
    reason: 'a reserved address',
    ranges: [
      '240.0.0.0/4',
      '192.0.0.0/24',
      '192.0.2.0/24',
      '192.88.99.0/24',
      '198.18.0.0/15',
      '198.51.100.0/24',
      '203.0.113.0/24',
      '100::/64',
      '2001::/23',
      '2001:db8::/32',
      '64:ff9b:1::/48',
    ],
  },
].map(({ reason, ranges }) => ({ reason, list: listOf(ranges) }));

/** The eight 16-bit groups of an IPv6 address (any valid notation, zone id ignored), or null. */
const ipv6Groups = (text: string): number[] | null => {
  let address = text.split('%')[0]!;
  if (isIP(address) !== 6) return null;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    address = `${address.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = address.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
};

const dottedOf = (high: number, low: number): string => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * The IPv4 address an IPv6 address stands for or carries, if any:
 * ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), ::ffff:0:a.b.c.d
 * (translated), 64:ff9b::a.b.c.d (NAT64) and 2002:aabb:ccdd:: (6to4).
 */
export const embeddedIpv4 = (address: string): string | null => {
  const g = ipv6Groups(address);
  if (!g) return null;
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return dottedOf(g[6]!, g[7]!);
  if (zero(0, 6) && (g[6] !== 0 || g[7]! > 1)) return dottedOf(g[6]!, g[7]!);
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return dottedOf(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return dottedOf(g[6]!, g[7]!);
  if (g[0] === 0x2002) return dottedOf(g[1]!, g[2]!);
  return null;
};

const familyOf = (address: string): Family | null => {
  const v = isIP(address.split('%')[0]!);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : null;
};

/**
 * Judges one IP address (dotted IPv4 or any IPv6 notation) against the
 * refused ranges and `allowRanges`: null when Lanes may connect to it, or why
 * not ("127.0.0.1 is a loopback address"). Anything that is not an IP address
 * is refused.
 */
export const addressRefusal = (address: string, allowRanges?: BlockList): string | null => {
  const bare = address.split('%')[0]!;
  const family = familyOf(bare);
  if (family === null) return `${address} is not an IP address`;
  if (allowRanges?.check(bare, family)) return null;
  const inner = family === 'ipv6' ? embeddedIpv4(bare) : null;
  if (inner !== null) {
    const refusal = addressRefusal(inner, allowRanges);
    return refusal === null ? null : `${address} carries ${refusal}`;
  }
  const hit = REFUSED.find((r) => r.list.check(bare, family));
  return hit ? `${address} is ${hit.reason}` : null;
};

const HOST_NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

const isRange = (text: string): boolean => {
  const [address = '', prefix, extra] = text.split('/');
  const family = familyOf(address);
  if (family === null || address.includes('%') || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 'ipv4' ? 32 : 128);
};

/**
 * Reads `LANES_OUTBOUND_ALLOW`: comma-separated host names (`hooks.corp.example`,
 * `*.corp.example`) and CIDR ranges or addresses (`10.20.0.0/16`, `127.0.0.1`,
 * `fd00::/8`). Throws an Error naming the first entry it cannot read.
 */
export const parseOutboundAllow = (text: string | undefined): OutboundAllow => {
  const hosts: string[] = [];
  const ranges: string[] = [];
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim().toLowerCase().replace(/\.$/, '');
    if (entry === '') continue;
    const unbracketed = entry.replace(/^\[([^\]]+)\]/, '$1');
    if (isRange(unbracketed)) ranges.push(unbracketed);
    else if (HOST_NAME.test(entry) && !/^[\d.]+$/.test(entry)) hosts.push(entry);
    else throw new Error(`"${raw.trim()}" is neither a host name nor an IP range (10.0.0.0/8, fd00::/8)`);
  }
  return Object.freeze({ hosts: Object.freeze(hosts), ranges: Object.freeze(ranges) });
};

/** The allowed ranges as one BlockList (for `addressRefusal`). */
export const allowedRanges = (allow: OutboundAllow): BlockList => listOf(allow.ranges);

/** Whether a host name (lower case, no trailing dot) is one the admin allowed by name. */
export const hostAllowed = (allow: OutboundAllow, host: string): boolean =>
  allow.hosts.some((h) => (h.startsWith('*.') ? host.endsWith(h.slice(1)) : h === host));

/** Names that always mean this machine (RFC 6761 and the usual /etc/hosts entries). */
export const isLoopbackName = (host: string): boolean =>
  host === 'localhost' ||
  host.endsWith('.localhost') ||
  host === 'localhost.localdomain' ||
  host === 'ip6-localhost' ||
  host === 'ip6-loopback';
