import { describe, expect, it } from 'vitest';
import { RecentMap } from '../src/recent-map.js';

describe('RecentMap', () => {
  it('never holds more than its capacity and always keeps the most recent half', () => {
    const map = new RecentMap<string, number>(10);
    for (let i = 0; i < 1000; i += 1) {
      map.set(`k${i}`, i);
      expect(map.size).toBeLessThanOrEqual(10);
      for (let back = 0; back < 5 && back <= i; back += 1) expect(map.get(`k${i - back}`)).toBe(i - back);
    }
  });

  it('keeps an entry that is read while newer ones arrive', () => {
    const map = new RecentMap<string, number>(4);
    map.set('hot', 0);
    for (let i = 0; i < 100; i += 1) {
      map.set(`k${i}`, i);
      expect(map.get('hot')).toBe(0);
    }
  });

  it('overwrites, deletes from either generation, clears, and keeps nothing at 0 and one entry at 1', () => {
    const map = new RecentMap<string, number>(4);
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    map.set('a', 4);
    expect(map.get('a')).toBe(4);
    map.delete('b');
    map.delete('c');
    expect([map.get('b'), map.get('c'), map.size]).toEqual([undefined, undefined, 1]);
    map.clear();
    expect(map.size).toBe(0);
    const off = new RecentMap<string, number>(0);
    off.set('a', 1);
    expect(off.get('a')).toBeUndefined();
    const one = new RecentMap<string, number>(1);
    one.set('a', 1);
    one.set('b', 2);
    expect([one.get('a'), one.get('b'), one.size]).toEqual([undefined, 2, 1]);
  });
});
