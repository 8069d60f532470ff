import { describe, expect, it } from 'vitest';
import { compareFingerprints, deviceFingerprint, fingerprintInputFromHeaders } from '../src/index.js';

const CHROME_WIN_120 =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const CHROME_WIN_121 =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36';
const FIREFOX_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

const laptop = {
  userAgent: CHROME_WIN_120,
  acceptLanguage: 'en-US,en;q=0.9,de;q=0.8',
  platform: 'Win32',
  timezone: 'Europe/Berlin',
  screen: '1920x1080x24',
  clientHints: { mobile: false, platform: 'Windows', platformVersion: '15.0.0', architecture: 'x86' },
  clientId: 'c1d2e3f4-laptop-0001',
};

describe('deviceFingerprint', () => {
  it('keeps structured components, the parsed user agent and only a hash of the client id', () => {
    const components = deviceFingerprint(laptop);
    expect(components).toMatchObject({
      browser: 'chrome',
      browserMajor: '120',
      engine: 'blink',
      os: 'windows',
      osVersion: '10',
      deviceType: 'desktop',
      languages: 'en-us,en,de',
      platform: 'win32',
      timezone: 'europe/berlin',
      screen: '1920x1080x24',
      'ch.mobile': 'false',
      'ch.platform': 'windows',
      'ch.platformVersion': '15',
      'ch.arch': 'x86',
    });
    expect(components.clientId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(JSON.stringify(components)).not.toContain('laptop-0001');
    expect(deviceFingerprint({ userAgent: SAFARI_IPHONE })).toMatchObject({
      browser: 'safari',
      os: 'ios',
      deviceType: 'mobile',
      deviceModel: 'apple iphone',
    });
  });

  it('reads what headers alone carry', () => {
    const input = fingerprintInputFromHeaders({
      'user-agent': CHROME_WIN_120,
      'accept-language': 'fr-CH, fr;q=0.9',
      'sec-ch-ua-mobile': '?0',
      'sec-ch-ua-platform': '"Windows"',
    });
    expect(input).toEqual({
      userAgent: CHROME_WIN_120,
      acceptLanguage: 'fr-CH, fr;q=0.9',
      clientHints: { mobile: false, platform: 'Windows' },
    });
    expect(deviceFingerprint(input).languages).toBe('fr-ch,fr');
  });

  it('rejects oversized input with input.invalid', () => {
    expect(() => deviceFingerprint({ userAgent: 'x'.repeat(2000) })).toThrow(
      expect.objectContaining({ code: 'input.invalid' }),
    );
  });
});

describe('compareFingerprints', () => {
  const known = deviceFingerprint(laptop);

  it('the same device scores 1', () => {
    expect(compareFingerprints(known, deviceFingerprint(laptop))).toEqual({
      score: 1,
      sameDevice: true,
      changed: [],
      missing: [],
      comparable: true,
    });
  });

  it('a browser update is still the same device, and says what changed', () => {
    const result = compareFingerprints(known, deviceFingerprint({ ...laptop, userAgent: CHROME_WIN_121 }));
    expect(result.changed).toEqual(['browserMajor']);
    expect(result.score).toBeGreaterThan(0.95);
    expect(result.sameDevice).toBe(true);
  });

  it('another browser on the same machine is a partial match', () => {
    const firefox = {
      ...laptop,
      userAgent: FIREFOX_WIN,
      clientHints: undefined,
      clientId: 'ffff-other-profile',
    };
    const result = compareFingerprints(known, deviceFingerprint(firefox));
    expect(result.changed).toEqual(expect.arrayContaining(['browser', 'engine', 'clientId']));
    expect(result.missing).toEqual(expect.arrayContaining(['ch.platform', 'ch.mobile']));
    expect(result.score).toBeGreaterThan(0.2);
    expect(result.score).toBeLessThan(0.7);
    expect(result.sameDevice).toBe(false);
  });

  it('a phone in another country is a different device', () => {
    const phone = deviceFingerprint({
      userAgent: SAFARI_IPHONE,
      acceptLanguage: 'pt-BR',
      timezone: 'America/Sao_Paulo',
      screen: '390x844x32',
      clientId: 'phone-9999-xyz',
    });
    const result = compareFingerprints(known, phone);
    expect(result.score).toBeLessThan(0.1);
    expect(result.sameDevice).toBe(false);
    expect(result.changed).toEqual(expect.arrayContaining(['os', 'deviceType', 'timezone', 'clientId']));
  });

  it('stripping every component does not pass as the same device', () => {
    const result = compareFingerprints(known, {});
    expect(result).toMatchObject({ score: 0, sameDevice: false, comparable: true });
    expect(result.missing).toHaveLength(Object.keys(known).length);
  });

  it('weights and threshold are configurable', () => {
    const other = { ...known, timezone: 'asia/tokyo' };
    expect(compareFingerprints(known, other).sameDevice).toBe(true);
    const strict = compareFingerprints(known, other, { weights: { timezone: 50 }, threshold: 0.9 });
    expect(strict.sameDevice).toBe(false);
    expect(strict.changed).toEqual(['timezone']);
    expect(compareFingerprints({}, known)).toMatchObject({ score: 1, comparable: false });
    expect(() => compareFingerprints(known, known, { threshold: 2 })).toThrow(
      expect.objectContaining({ code: 'input.invalid' }),
    );
  });
});
