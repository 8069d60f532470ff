import { describe, expect, it } from 'vitest';
import { ExpiringCache } from '../src/expiring-cache.js';

describe('ExpiringCache', () => {
  it('never holds more than maxEntries, evicting the oldest insert', () => {
    const cache = new ExpiringCache<number>(3);
    for (let i = 0; i < 10; i += 1) cache.set(`k${i}`, i, 1000);
    expect(cache.size).toBe(3);
    expect(cache.get('k6', 0)).toBeUndefined();
    expect([cache.get('k7', 0), cache.get('k8', 0), cache.get('k9', 0)]).toEqual([7, 8, 9]);
  });

  it('forgets entries at their deadline', () => {
    const cache = new ExpiringCache<string>(10);
    cache.set('a', 'x', 100);
    expect(cache.get('a', 99)).toBe('x');
    expect(cache.get('a', 100)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('sheds expired entries from the front as new ones arrive, without waiting to be read or full', () => {
    const cache = new ExpiringCache<number>(100);
    for (let i = 0; i < 10; i += 1) cache.set(`old${i}`, i, 100, 0);
    for (let i = 0; i < 5; i += 1) cache.set(`new${i}`, i, 1000, 200);
    expect(cache.size).toBe(5);
    expect(cache.get('new4', 200)).toBe(4);
  });

  it('stores nothing with a zero bound, and clears', () => {
    const off = new ExpiringCache<number>(0);
    off.set('a', 1, 100);
    expect(off.size).toBe(0);
    const cache = new ExpiringCache<number>(2);
    cache.set('a', 1, 100);
    cache.clear();
    expect(cache.get('a', 0)).toBeUndefined();
  });
});
