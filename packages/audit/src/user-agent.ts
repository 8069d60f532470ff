import { sha256 } from '@sessionkit/core';
import Bowser from 'bowser';
import type { DeviceInfo } from './audit-record.js';

const CACHE_ENTRIES = 1000;

interface ParsedAgent {
  browser?: string;
  browserFamily?: string;
  os?: string;
  osFamily?: string;
  type?: string;
}

/**
 * Turns a user-agent string into browser, OS and device type, coarsely (major versions only): the raw string
 * is a good fingerprint, so it is never stored. Few distinct agents make up most traffic, hence the cache.
 */
export class UserAgentParser {
  readonly #agents = new Map<string, ParsedAgent>();
  readonly #devices = new Map<string, DeviceInfo>();

  describe(userAgent: string | undefined, label: string | undefined): DeviceInfo | undefined {
    if (userAgent === undefined && label === undefined) return undefined;
    const cacheKey = `${userAgent ?? ''}\u0000${label ?? ''}`;
    const cached = this.#devices.get(cacheKey);
    if (cached) return cached;
    const agent = userAgent === undefined ? {} : this.#parse(userAgent);
    const key = sha256(
      `${agent.browserFamily ?? ''}|${agent.osFamily ?? ''}|${agent.type ?? ''}|${label ?? ''}`,
    ).slice(0, 22);
    const device: DeviceInfo = {
      key,
      ...(agent.browser === undefined ? {} : { browser: agent.browser }),
      ...(agent.os === undefined ? {} : { os: agent.os }),
      ...(agent.type === undefined ? {} : { type: agent.type }),
      ...(label === undefined ? {} : { label }),
    };
    remember(this.#devices, cacheKey, device);
    return device;
  }

  #parse(userAgent: string): ParsedAgent {
    const cached = this.#agents.get(userAgent);
    if (cached) return cached;
    const parsed = Bowser.parse(userAgent);
    const major = parsed.browser.version?.split('.')[0];
    const osVersion = parsed.os.versionName ?? parsed.os.version?.split('.')[0];
    const agent: ParsedAgent = {
      ...(parsed.browser.name ? { browserFamily: parsed.browser.name } : {}),
      ...(parsed.browser.name
        ? { browser: major ? `${parsed.browser.name} ${major}` : parsed.browser.name }
        : {}),
      ...(parsed.os.name ? { osFamily: parsed.os.name } : {}),
      ...(parsed.os.name ? { os: osVersion ? `${parsed.os.name} ${osVersion}` : parsed.os.name } : {}),
      ...(parsed.platform.type ? { type: parsed.platform.type } : {}),
    };
    remember(this.#agents, userAgent, agent);
    return agent;
  }
}

/** A bounded cache: cleared when full, which is cheap and enough for the few agents real traffic has. */
function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= CACHE_ENTRIES) cache.clear();
  cache.set(key, value);
}
