import { isIPv4, isIPv6 } from 'node:net';
import { parseInput } from '@sessionkit/core';
import { z } from 'zod';

/**
 * How wide one client's network is wherever a client is a key (rate limits, lockout). An IPv6 subscriber
 * gets a whole /64 (RFC 6177) and picks any of its 2^64 addresses at will, so keying on the /128 gives one
 * attacker unlimited budgets and lets one machine count as many "distinct IPs" against an account.
 */
export const clientNetworkOptionsSchema = z
  .object({
    ipv4PrefixBits: z.number().int().min(8).max(32).default(32),
    ipv6PrefixBits: z.number().int().min(16).max(128).default(64),
  })
  .strict();
export type ClientNetworkOptions = z.input<typeof clientNetworkOptionsSchema>;
export type ClientNetworkBits = z.output<typeof clientNetworkOptionsSchema>;

export function parseClientNetworkOptions(input: unknown): ClientNetworkBits {
  return parseInput(clientNetworkOptionsSchema, input ?? {}, 'client network options');
}

const DEFAULT_BITS: ClientNetworkBits = Object.freeze(parseClientNetworkOptions({}));

/**
 * The network a client counts as: the address masked to `ipv4PrefixBits` (default /32, the address) or
 * `ipv6PrefixBits` (default /64), in one canonical spelling (an IPv4-mapped IPv6 address is its IPv4
 * address; `2001:db8::1` and `2001:0db8:0::1` are one client). Anything that is not an IP is returned as
 * is, so it still counts, under its own key. Hash it before it becomes a key (`SessionManager.hashIp`).
 */
export function clientNetwork(ip: string, bits: ClientNetworkBits = DEFAULT_BITS): string {
  return ipPrefix(ip, bits.ipv4PrefixBits, bits.ipv6PrefixBits) ?? ip;
}

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
