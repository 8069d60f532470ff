import { isIPv4, isIPv6 } from 'node:net';

/**
 * The network an address belongs to, as text: IPv4 `/ipv4Bits` (default /24, a subnet of one provider's
 * customers), IPv6 `/ipv6Bits` (default /48, one site). Returns undefined for anything that is not an IP.
 * Only ever stored as a keyed hash.
 */
export function ipPrefix(ip: string, ipv4Bits = 24, ipv6Bits = 48): string | undefined {
  const address = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(address)) {
    const bytes = address.split('.').map(Number);
    return `${maskBits(bytes, ipv4Bits, 8).join('.')}/${ipv4Bits}`;
  }
  if (isIPv6(address)) {
    const groups = expandIpv6(address.split('%')[0] ?? address);
    return `${maskBits(groups, ipv6Bits, 16)
      .map((group) => group.toString(16))
      .join(':')}/${ipv6Bits}`;
  }
  return undefined;
}

function maskBits(parts: number[], keepBits: number, bitsPerPart: number): number[] {
  return parts.map((part, index) => {
    const bitsBefore = index * bitsPerPart;
    const keep = Math.max(0, Math.min(bitsPerPart, keepBits - bitsBefore));
    const mask = keep === 0 ? 0 : ((2 ** bitsPerPart - 1) << (bitsPerPart - keep)) & (2 ** bitsPerPart - 1);
    return part & mask;
  });
}

function expandIpv6(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const parse = (text: string) => {
    if (text === '') return [];
    const groups = text.split(':');
    const last = groups[groups.length - 1] ?? '';
    if (isIPv4(last)) {
      const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
      groups.splice(groups.length - 1, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
    }
    return groups.map((group) => Number.parseInt(group, 16));
  };
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
}
