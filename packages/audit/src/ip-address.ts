import { isIPv4, isIPv6 } from 'node:net';

export type ParsedIp = { version: 4; octets: number[] } | { version: 6; groups: number[] };

/**
 * Parses an address into numbers so equal addresses written differently (`::ffff:1.2.3.4`, `2001:DB8::1`,
 * `fe80::1%eth0`) hash the same. Returns undefined for anything that is not an IP address.
 */
export function parseIp(text: string): ParsedIp | undefined {
  const address = text.trim().replace(/%.*$/, '');
  if (isIPv4(address)) return { version: 4, octets: address.split('.').map(Number) };
  if (!isIPv6(address)) return undefined;
  const groups = ipv6Groups(address.toLowerCase());
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  if (mapped) {
    const high = groups[6] as number;
    const low = groups[7] as number;
    return { version: 4, octets: [high >> 8, high & 0xff, low >> 8, low & 0xff] };
  }
  return { version: 6, groups };
}

function ipv6Groups(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const parse = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((piece) => {
      if (!piece.includes('.')) return [Number.parseInt(piece, 16)];
      const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

export function formatIp(ip: ParsedIp): string {
  return ip.version === 4 ? ip.octets.join('.') : ip.groups.map((group) => group.toString(16)).join(':');
}

/** The network the address is in, e.g. `203.0.113.0/24` or `2001:db8:1::/48`. */
export function ipPrefix(ip: ParsedIp, bits: number): string {
  const parts = ip.version === 4 ? ip.octets : ip.groups;
  const width = ip.version === 4 ? 8 : 16;
  const masked = parts.map((part, index) => {
    const keep = Math.min(width, Math.max(0, bits - index * width));
    return keep === 0 ? 0 : part & (((1 << keep) - 1) << (width - keep));
  });
  if (ip.version === 4) return `${masked.join('.')}/${bits}`;
  const significant = Math.ceil(bits / 16);
  const lead = masked.slice(0, significant).map((group) => group.toString(16));
  return significant >= 8 ? `${lead.join(':')}/${bits}` : `${lead.join(':')}::/${bits}`;
}
