import type { JsonValue } from '@sessionkit/core';

type Canonicalisable = JsonValue | undefined | { [key: string]: Canonicalisable } | Canonicalisable[];

/**
 * JSON with object keys sorted at every level and undefined members left out, so a record hashes the same
 * after a round trip through jsonb, Redis or a log line, whatever order those give its keys back in.
 */
export function canonicalJson(value: Canonicalisable): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = value[key];
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
}
