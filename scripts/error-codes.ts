/**
 * The error-code tables of the READMEs, generated from core's ERROR_CODE_MEANINGS (every `ErrorCode`) and the
 * Express adapter's STATUS_BY_CODE, so they cannot drift from the code:
 *   npx tsx --conditions=@sessionkit/source scripts/error-codes.ts --write   rewrites the tables between markers
 *   npx tsx --conditions=@sessionkit/source scripts/error-codes.ts --check   fails if a README is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_CODE_MEANINGS } from '../packages/core/src/error-meanings.js';
import { HTTP_PROBLEM_MEANINGS, STATUS_BY_CODE } from '../packages/express-adapter/src/problem-details.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function table(header: string, rows: string[][]): string {
  return [header, header.replace(/[^|]+/g, ' --- '), ...rows.map((row) => `| ${row.join(' | ')} |`)].join(
    '\n',
  );
}

const errorCodes = table(
  '| code | HTTP status (@sessionkit/express) | meaning |',
  Object.entries(ERROR_CODE_MEANINGS).map(([code, meaning]) => [
    `\`${code}\``,
    String(STATUS_BY_CODE[code as keyof typeof STATUS_BY_CODE]),
    meaning,
  ]),
);
const httpProblemCodes = table(
  '| code | meaning |',
  Object.entries(HTTP_PROBLEM_MEANINGS).map(([code, meaning]) => [`\`${code}\``, meaning]),
);

/** README path → the tables it holds, each between `<!-- name:start -->` and `<!-- name:end -->`. */
const targets: Record<string, Record<string, string>> = {
  'packages/core/README.md': { 'error-codes': errorCodes },
  'packages/express-adapter/README.md': { 'error-codes': errorCodes, 'http-problem-codes': httpProblemCodes },
};

function rendered(text: string, tables: Record<string, string>, path: string): string {
  let out = text;
  for (const [name, body] of Object.entries(tables)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${path}: markers ${start} … ${end} are missing`);
    out = `${out.slice(0, from + start.length)}\n${body}\n${out.slice(to)}`;
  }
  return out;
}

const mode = process.argv[2];
if (mode !== '--write' && mode !== '--check') {
  console.error('usage: error-codes.ts --write | --check');
  process.exit(2);
}
const stale: string[] = [];
for (const [path, tables] of Object.entries(targets)) {
  const file = `${root}${path}`;
  const text = readFileSync(file, 'utf8');
  const next = rendered(text, tables, path);
  if (next === text) continue;
  if (mode === '--write') writeFileSync(file, next);
  stale.push(path);
}
if (mode === '--check' && stale.length > 0) {
  console.error(`error-code tables out of date in ${stale.join(', ')}: run \`pnpm error-codes --write\``);
  process.exit(1);
}
console.log(
  mode === '--write' ? `rewrote: ${stale.join(', ') || 'nothing'}` : 'error-code tables are up to date',
);
