import { Keyring } from '../../src/index.js';

export const integrityKeys = new Keyring({
  currentKeyId: 'int-2026-01',
  keys: { 'int-2026-01': 'integrity-key-0123456789abcdef0123456789abcdef' },
});

export const ipKeys = {
  currentKeyId: 'ip-2026-01',
  keys: { 'ip-2026-01': 'ip-hash-key-0123456789abcdef0123456789abcdef' },
};
