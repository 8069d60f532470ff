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

  it('counts a key set again as its newest insert, and skips deleted ones when evicting', () => {
    const cache = new ExpiringCache<number>(3);
    cache.set('a', 1, 1000);
    cache.set('b', 2, 1000);
    cache.set('c', 3, 1000);
    cache.set('a', 4, 1000);
    cache.delete('b');
    cache.set('d', 5, 1000);
    cache.set('e', 6, 1000);
    expect([cache.get('a', 0), cache.get('b', 0), cache.get('c', 0)]).toEqual([4, undefined, undefined]);
    expect([cache.get('d', 0), cache.get('e', 0)]).toEqual([5, 6]);
  });

  it('keeps shedding and evicting in insertion order through many rewrites behind a long-lived entry', () => {
    const cache = new ExpiringCache<number>(50);
    cache.set('pinned', 0, 10_000, 0);
    for (let i = 0; i < 100_000; i += 1) cache.set(`hot${i % 7}`, i, 10_000, 0);
    expect(cache.size).toBe(8);
    for (let i = 0; i < 60; i += 1) cache.set(`fresh${i}`, i, 20_000, 0);
    // The oldest live inserts go first: `pinned`, then the hot keys, whose last writes are older than any fresh one.
    expect(cache.get('pinned', 0)).toBeUndefined();
    expect(cache.get('hot0', 0)).toBeUndefined();
    expect(cache.get('fresh59', 0)).toBe(59);
    expect(cache.size).toBeLessThanOrEqual(50);
    for (let i = 0; i < 30; i += 1) cache.set(`late${i}`, i, 30_000, 10_000);
    expect(cache.get('fresh59', 10_000)).toBe(59);
    cache.set('after', 1, 40_000, 20_000);
    expect(cache.size).toBeLessThan(50);
    expect(cache.get('late0', 20_000)).toBe(0);
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
