import { describe, expect, it } from 'vitest';
import { randomToken, seal, unseal } from '../src/token-crypto.js';

describe('randomToken', () => {
  it('hands out each pooled byte once: no two tokens repeat across many pool refills', () => {
    const seen = new Set<string>();
    // 20,000 tokens of 16 bytes cross the 4 KiB pool's refill about 80 times, at every offset alignment.
    for (let index = 0; index < 20_000; index += 1) seen.add(randomToken(16));
    expect(seen.size).toBe(20_000);
  });

  it('encodes exactly the requested number of bytes as unpadded base64url, small and large', () => {
    for (const bytes of [1, 6, 12, 16, 32, 33, 1024, 1025, 5000]) {
      const token = randomToken(bytes);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(bytes);
    }
  });

  it('looks uniform: every base64url symbol appears in a large sample at about its expected rate', () => {
    const counts = new Map<string, number>();
    // Whole 3-byte groups, so every symbol is a full 6 random bits.
    const text = Array.from({ length: 4000 }, () => randomToken(30)).join('');
    for (const symbol of text) counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
    expect(counts.size).toBe(64);
    const expected = text.length / 64;
    for (const count of counts.values()) expect(Math.abs(count - expected)).toBeLessThan(expected * 0.2);
  });
});

describe('seal', () => {
  it('never reuses an IV: sealing the same text twice gives different boxes that both open', () => {
    const boxes = Array.from({ length: 1000 }, () => seal('secret', 'the refresh token'));
    expect(new Set(boxes.map((box) => box.slice(0, 16))).size).toBe(1000);
    for (const box of boxes.slice(0, 10)) expect(unseal('secret', box)).toBe('the refresh token');
    expect(unseal('other secret', boxes[0] as string)).toBeUndefined();
  });
});
