/** `pnpm rotate-data-key`: the same environment as `pnpm start` (DATABASE_URL, SESSIONKIT_KEK, ...). */
import { pino } from 'pino';
import { loadConfig } from './config.js';
import { rotateDataKey } from './data-key-rotation.js';

const config = loadConfig();
await rotateDataKey(config, pino({ level: config.LOG_LEVEL, base: { app: 'sessionkit-reference' } }));
