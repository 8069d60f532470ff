#!/usr/bin/env node
// The packed-install check (`pnpm test:packed`, run by .ci/run after the build): what a user gets from npm,
// never the workspace. It packs every publishable package with `pnpm pack` (which rewrites `workspace:`
// ranges), installs the tarballs with npm into clean projects outside the repository together with the peers
// the READMEs tell users to install, type-checks every README example program under strict NodeNext with
// `verbatimModuleSyntax` and `skipLibCheck: false`, then runs each one against the real Redis, PostgreSQL and
// PGlite: servers are started, driven over HTTP (scripts/packed/scenarios.mjs), sent SIGTERM and must exit 0.
// Keys and schemas are unique to the run, so it can run beside the test suite. KEEP_PACKED=1 keeps the
// temporary projects for inspection.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Browser } from './packed/browser.mjs';
import { ExampleProcess } from './packed/example-process.mjs';
import * as scenarios from './packed/scenarios.mjs';
import { readmeExamples } from './readme-examples.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = randomBytes(4).toString('hex');
const started = Date.now();
const log = (message) => console.log(`[packed +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const secret = () => randomBytes(32).toString('base64url');
const redisPrefix = `packed-${run}`;
const pgSchema = `packed_${run}`;
const auditSchema = `packed_audit_${run}`;
// outside-a's port range: examples on 7100-7119, the demo OpenID provider on 7150.
const IDP_PORT = 7150;

// Each project is one clean npm install. Express 4 and 5 cannot share one, so the Express 4 example has its own.
const PROJECTS = {
  express5: {
    packages: ['core', 'upstream', 'storage-redis', 'storage-kysely', 'audit', 'security', 'express-adapter'],
    // The peers the READMEs' `npm install` lines name.
    peers: [
      'express@^5',
      '@types/express@^5',
      'ioredis',
      // ioredis 6.1's own declarations import the untyped `redis-errors`: under `skipLibCheck: false` an ioredis 6
      // user needs its types (TS7016 otherwise). ioredis 5 does not.
      '@types/redis-errors',
      'kysely',
      'pg',
      '@types/pg',
      '@electric-sql/pglite',
      'zod',
      // @electric-sql/pglite 0.5's own declarations use the `Emscripten` namespace of @types/emscripten (which
      // it lists only as a devDependency) and DOM's `WebAssembly` and `IDBDatabase`: without these two,
      // `skipLibCheck: false` fails inside its .d.ts. A PGlite user type-checking libraries needs the same.
      '@types/emscripten',
    ],
    compilerOptions: { lib: ['ES2023', 'DOM'], types: ['node', 'emscripten'] },
  },
  express4: {
    // `upstream` and `kysely` are not used here, but today the declarations of two entries import them:
    // @sessionkit/express's main entry (back-channel-logout-router.d.ts imports @sessionkit/upstream, an optional
    // peer) and @sessionkit/security's (kysely-profile-store.d.ts imports kysely, an optional peer), so without
    // them `skipLibCheck: false` fails with TS2307. Drop both once those entries stop importing optional peers.
    packages: ['core', 'security', 'storage-redis', 'express-adapter', 'upstream'],
    peers: ['express@^4', '@types/express@^4', 'ioredis', '@types/redis-errors', 'kysely', 'zod'],
  },
};
const TOOLING = ['typescript@5.9.3', '@types/node@^20.19.0'];

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    verbatimModuleSyntax: true,
    strict: true,
    skipLibCheck: false,
    types: ['node'],
    rootDir: 'src',
    outDir: 'dist',
  },
  include: ['src'],
};

const redisEnv = () => ({ REDIS_URL, REDIS_PREFIX: redisPrefix });
/** Every example program of every README, where it runs and what it is checked with. */
const EXAMPLES = [
  { pkg: 'core', file: 'examples/server.ts', scenario: scenarios.bearerSession },
  { pkg: 'core', file: 'examples/lifecycle.ts', script: true },
  { pkg: 'storage-redis', file: 'examples/server.ts', env: redisEnv, scenario: scenarios.cookieSession },
  {
    pkg: 'storage-kysely',
    file: 'examples/postgres.ts',
    env: () => ({ DATABASE_URL, DATABASE_SCHEMA: pgSchema }),
    scenario: scenarios.cookieSession,
  },
  {
    pkg: 'storage-kysely',
    file: 'examples/pglite.ts',
    // A directory whose parent does not exist yet, as `./data/sessions` (the example's default) is on a first start.
    env: (project) => ({ PGLITE_DIR: join(project, 'pglite-data', 'sessions') }),
    scenario: scenarios.cookieSession,
  },
  { pkg: 'express-adapter', file: 'examples/server.ts', scenario: scenarios.adapterWiring },
  {
    pkg: 'express-adapter',
    file: 'examples/express4.ts',
    project: 'express4',
    env: redisEnv,
    scenario: scenarios.cookieSession,
  },
  {
    pkg: 'security',
    file: 'examples/server.ts',
    env: () => ({ ...redisEnv(), NETWORK_HASH_KEY: secret() }),
    scenario: scenarios.guardedLogin,
  },
  { pkg: 'security', file: 'examples/embedded-login.ts', script: true },
  {
    pkg: 'audit',
    file: 'examples/server.ts',
    env: () => ({ DATABASE_URL, AUDIT_SCHEMA: auditSchema, AUDIT_KEY: secret(), AUDIT_IP_KEY: secret() }),
    scenario: scenarios.auditedSession,
  },
  {
    pkg: 'upstream',
    file: 'examples/server.ts',
    idp: true,
    env: (_project, base) => ({
      APP_ORIGIN: base,
      OIDC_ISSUER: `http://127.0.0.1:${IDP_PORT}`,
      OIDC_CLIENT_ID: 'sessionkit-reference',
      OIDC_CLIENT_SECRET: 'demo-idp-client-secret-not-for-production',
      VAULT_KEY: secret(),
    }),
    scenario: (base, browser) =>
      scenarios.providerSignIn(base, browser, { username: 'alice', password: 'demo-idp-password' }),
  },
];

function sh(command, args, options = {}) {
  return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
}

/** Every examples/*.ts file must be a checked example, and every README block must name one. */
function assertExamplesListed() {
  const listed = new Set(EXAMPLES.map((example) => `${example.pkg}/${example.file}`));
  const problems = [];
  for (const { packageDir, examples } of readmeExamples()) {
    const pkg = packageDir.split('/').pop();
    for (const file of examples)
      if (!listed.has(`${pkg}/${file}`)) problems.push(`README block ${pkg}/${file}`);
    const dir = join(packageDir, 'examples');
    const files = readdirSync(packageDir).includes('examples') ? readdirSync(dir) : [];
    for (const file of files)
      if (!listed.has(`${pkg}/examples/${file}`)) problems.push(`${pkg}/examples/${file}`);
  }
  if (problems.length > 0) throw new Error(`not in scripts/test-packed.mjs EXAMPLES: ${problems.join(', ')}`);
}

/**
 * Runs a command to completion; rejects with its output when it fails or outlives `limitMs` (a generous bound
 * that only turns a hung install into a failure: npm has been seen to spin for minutes on a peer conflict).
 */
function spawnChecked(command, args, options, limitMs = 300_000) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk) => {
      output += chunk;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      output += `\n(killed after ${limitMs / 1000} s)`;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolveRun(output);
      else reject(new Error(`${command} ${args.join(' ')} failed:\n${output}`));
    });
  });
}

/** `pnpm pack` of every package, each into its own directory, in parallel: { pkg: tarball path }. */
async function packAll(destination) {
  // Under `pnpm test:packed` npm_execpath is the running pnpm; elsewhere the pinned one through npx.
  const execpath = process.env.npm_execpath ?? '';
  const [command, prefix] = execpath.includes('pnpm')
    ? [process.execPath, [execpath]]
    : ['npx', ['-y', 'pnpm@10.20.0']];
  const packed = await Promise.all(
    PROJECTS.express5.packages.map(async (pkg) => {
      const into = join(destination, pkg);
      mkdirSync(into, { recursive: true });
      await spawnChecked(command, [...prefix, 'pack', '--pack-destination', into], {
        cwd: join(root, 'packages', pkg),
      });
      const [tarball] = readdirSync(into);
      if (!tarball) throw new Error(`pnpm pack wrote nothing for packages/${pkg}`);
      return [pkg, join(into, tarball)];
    }),
  );
  return Object.fromEntries(packed);
}

function setUpProject(dir, name, tarballs) {
  const spec = PROJECTS[name];
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `packed-${name}`, private: true, type: 'module' }, null, 2)}\n`,
  );
  const tsconfig = { ...TSCONFIG, compilerOptions: { ...TSCONFIG.compilerOptions, ...spec.compilerOptions } };
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  for (const example of EXAMPLES.filter((candidate) => (candidate.project ?? 'express5') === name)) {
    cpSync(
      join(root, 'packages', example.pkg, example.file),
      join(dir, 'src', example.pkg, example.file.replace('examples/', '')),
    );
  }
  const install = [...spec.packages.map((pkg) => tarballs[pkg]), ...spec.peers, ...TOOLING];
  return spawnChecked(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...install],
    {
      cwd: dir,
    },
  );
}

function typecheck(dir, name) {
  try {
    sh(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: dir });
  } catch (error) {
    throw new Error(
      `type errors in the ${name} project (strict, NodeNext, skipLibCheck: false):\n${error.stdout}${error.stderr}`,
    );
  }
}

async function runExample(example, index, dirs) {
  const project = dirs[example.project ?? 'express5'];
  const port = 7100 + index;
  const base = `http://127.0.0.1:${port}`;
  const entry = join(
    project,
    'dist',
    example.pkg,
    example.file.replace('examples/', '').replace(/\.ts$/, '.js'),
  );
  const env = {
    ...process.env,
    PORT: String(port),
    SESSIONKIT_SECRET: secret(),
    ...(example.env?.(project, base) ?? {}),
  };
  const child = new ExampleProcess(entry, { cwd: project, env });
  const name = `${example.pkg}/${example.file}`;
  try {
    if (example.script) {
      await child.exited(60_000, 'run to completion');
    } else {
      // Generous: PGlite compiles PostgreSQL's WebAssembly and runs initdb on a first start, slow on a busy machine.
      await child.listening(180_000);
      await example.scenario(base, new Browser());
      await child.stop(15_000);
    }
    log(`ok   ${name}`);
  } catch (error) {
    child.kill();
    throw new Error(`${name}: ${error.message}\n--- its output ---\n${child.output}`);
  }
}

async function cleanUp(dir) {
  const require = createRequire(join(dir, 'package.json'));
  const pg = require('pg');
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  for (const schema of [pgSchema, auditSchema]) await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
  const { Redis } = require('ioredis');
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${redisPrefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}

async function main() {
  sh(process.execPath, [join(root, 'scripts', 'readme-examples.mjs'), '--check']);
  assertExamplesListed();
  const temp = mkdtempSync(join(tmpdir(), 'sessionkit-packed-'));
  const dirs = { express5: join(temp, 'express5'), express4: join(temp, 'express4') };
  let idp;
  let passed = false;
  try {
    const tarballs = await packAll(join(temp, 'tarballs'));
    log(`packed ${Object.keys(tarballs).length} packages into ${temp}`);
    await Promise.all(Object.entries(dirs).map(([name, dir]) => setUpProject(dir, name, tarballs)));
    log('installed the tarballs and peers with npm');
    for (const [name, dir] of Object.entries(dirs)) typecheck(dir, name);
    log('type-checked every example (strict, NodeNext, verbatimModuleSyntax, skipLibCheck: false)');
    idp = new ExampleProcess(join(root, 'apps', 'demo-idp', 'dist', 'main.js'), {
      cwd: join(root, 'apps', 'demo-idp'),
      env: {
        ...process.env,
        DEMO_IDP_PORT: String(IDP_PORT),
        DEMO_IDP_APP_ORIGIN: `http://127.0.0.1:${7100 + EXAMPLES.findIndex((example) => example.idp)}`,
      },
    });
    await idp.listening(120_000);
    for (const [index, example] of EXAMPLES.entries()) await runExample(example, index, dirs);
    passed = true;
  } finally {
    idp?.kill();
    await cleanUp(dirs.express5).catch((error) => console.error(`cleanup: ${error.message}`));
    if (passed && process.env.KEEP_PACKED !== '1') rmSync(temp, { recursive: true, force: true });
    else console.log(`projects kept in ${temp}`);
  }
  log(`all ${EXAMPLES.length} README examples type-check and run from a packed install`);
}

main().catch((error) => {
  console.error(`test:packed failed: ${error.message}`);
  process.exit(1);
});
