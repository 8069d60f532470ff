import { SessionKitError } from './errors.js';

/** A session bound to a key (DPoP or a device) was presented without the proof of that key, or unbound where binding is required. */
export class BindingRequiredError extends SessionKitError {
  constructor(message = 'This session is bound to a key; present it with a proof of that key') {
    super('binding.required', message);
  }
}

/** A DPoP proof failed one of the checks of RFC 9449 §4.3 (the message says which; never the key material). */
export class DpopInvalidProofError extends SessionKitError {
  constructor(message: string) {
    super('dpop.invalid_proof', message);
  }
}

/** The proof's `jti` was seen before within its lifetime: a replayed proof (RFC 9449 §11.1). */
export class DpopReplayError extends SessionKitError {
  constructor() {
    super('dpop.replay', 'This DPoP proof was already used');
  }
}

/** The proof carries no nonce or a stale one: retry with the nonce of the `DPoP-Nonce` header (RFC 9449 §8, §9). */
export class DpopNonceRequiredError extends SessionKitError {
  constructor(message = 'Retry with the nonce from the DPoP-Nonce header') {
    super('dpop.nonce_required', message);
  }
}
