#!/usr/bin/env node
// Keeps each package README's example programs identical to the files under packages/<pkg>/examples, which
// `pnpm test:packed` type-checks and runs from a packed install. A README names its example between markers:
//
//   <!-- example: examples/server.ts -->
//   ```ts
//   (the file, verbatim; written by --write)
//   ```
//   <!-- /example -->
//
// --write rewrites the blocks from the files; --check (the default) fails, naming each README that differs.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BLOCK = /(<!-- example: (\S+) -->\n)[\s\S]*?(<!-- \/example -->)/g;

/** Every README with its example blocks: [{ readme, packageDir, examples: ['examples/server.ts', ...] }]. */
export function readmeExamples() {
  const packagesDir = join(root, 'packages');
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const packageDir = join(packagesDir, entry.name);
      const readme = join(packageDir, 'README.md');
      const text = readFileSync(readme, 'utf8');
      const examples = [...text.matchAll(BLOCK)].map((match) => match[2]);
      return { readme, packageDir, examples };
    });
}

function render(packageDir, text) {
  return text.replace(BLOCK, (_whole, open, file, close) => {
    const source = readFileSync(join(packageDir, file), 'utf8').trimEnd();
    return `${open}\`\`\`ts\n${source}\n\`\`\`\n${close}`;
  });
}

function main(mode) {
  if (mode !== '--write' && mode !== '--check') {
    console.error('usage: node scripts/readme-examples.mjs --write | --check');
    process.exit(2);
  }
  const drifted = [];
  for (const { readme, packageDir } of readmeExamples()) {
    const text = readFileSync(readme, 'utf8');
    const next = render(packageDir, text);
    if (next === text) continue;
    if (mode === '--write') writeFileSync(readme, next);
    drifted.push(readme.slice(root.length + 1));
  }
  if (mode === '--write') {
    console.log(
      drifted.length === 0 ? 'README examples already up to date' : `rewrote ${drifted.join(', ')}`,
    );
    return;
  }
  if (drifted.length > 0) {
    console.error(
      `README examples differ from their files in ${drifted.join(', ')}: run node scripts/readme-examples.mjs --write`,
    );
    process.exit(1);
  }
  console.log('README examples match their files');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv[2] ?? '--check');
