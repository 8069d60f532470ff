// The web page ships as static files beside the compiled server.
import { cpSync } from 'node:fs';

cpSync(new URL('../public', import.meta.url), new URL('../dist/public', import.meta.url), {
  recursive: true,
});
