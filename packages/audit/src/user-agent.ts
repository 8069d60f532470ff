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
  readonly #cache = new Map<string, ParsedAgent>();

  describe(userAgent: string | undefined, label: string | undefined): DeviceInfo | undefined {
    if (userAgent === undefined && label === undefined) return undefined;
    const agent = userAgent === undefined ? {} : this.#parse(userAgent);
    const key = sha256(
      `${agent.browserFamily ?? ''}|${agent.osFamily ?? ''}|${agent.type ?? ''}|${label ?? ''}`,
    ).slice(0, 22);
    return {
      key,
      ...(agent.browser === undefined ? {} : { browser: agent.browser }),
      ...(agent.os === undefined ? {} : { os: agent.os }),
      ...(agent.type === undefined ? {} : { type: agent.type }),
      ...(label === undefined ? {} : { label }),
    };
  }

  #parse(userAgent: string): ParsedAgent {
    const cached = this.#cache.get(userAgent);
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
    if (this.#cache.size >= CACHE_ENTRIES) this.#cache.clear();
    this.#cache.set(userAgent, agent);
    return agent;
  }
}
