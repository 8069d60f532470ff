import type { Clock } from './clock.js';
import type { DeviceKey } from './dbsc-binding.js';
import { deviceKey, deviceKeyMetadata, deviceKeySchema } from './dbsc-binding.js';
import type { LocalSessionState } from './local-session-state.js';
import type { RequestContext } from './request-context.js';
import { requestContextSchema } from './request-context.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import { assertUsable } from './session-lifecycle.js';
import { isLive } from './session-record.js';
import type { SessionView } from './session-view.js';
import { toView } from './session-view.js';
import type { SessionStore } from './store.js';
import { parseInput } from './zod-input.js';

interface DeviceBindingDeps {
  store: SessionStore;
  clock: Clock;
  state: LocalSessionState;
  lifecycle: SessionLifecycle;
}

/**
 * Sender-constrained sessions on the manager's write side: the device key a DBSC browser registered, and the
 * audit record of a request refused for want of a proof of a session's key (DPoP or DBSC).
 */
export class SessionDeviceBinding {
  readonly #deps: DeviceBindingDeps;

  constructor(deps: DeviceBindingDeps) {
    this.#deps = deps;
  }

  async bindDevice(sessionId: string, key: DeviceKey): Promise<SessionView> {
    const parsed = parseInput(deviceKeySchema, key, 'device key');
    const now = this.#deps.clock.now();
    const session = await this.#deps.lifecycle.mutate(sessionId, (record) => {
      assertUsable(record, now);
      return { ...record, metadata: { ...record.metadata, ...deviceKeyMetadata(parsed) } };
    });
    await this.#deps.state.announceChanged(session);
    return toView(session);
  }

  async deviceKeyOf(sessionId: string): Promise<DeviceKey | undefined> {
    const record = await this.#deps.store.get(sessionId);
    return record && isLive(record, this.#deps.clock.now()) ? deviceKey(record) : undefined;
  }

  bindingRejected(code: string, context: RequestContext | undefined, sessionId: string | undefined): void {
    const parsed = parseInput(requestContextSchema, context ?? {}, 'request context');
    this.#deps.lifecycle.reject(parsed, code, sessionId);
  }
}
