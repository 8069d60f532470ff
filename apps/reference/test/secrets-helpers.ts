import type { CryptoKey, JWK } from 'jose';
import { importJWK, SignJWT } from 'jose';
import pg from 'pg';
import request from 'supertest';
import { expect } from 'vitest';
import type { DemoUser } from '../src/user-directory.js';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A database of its own on the test PostgreSQL, dropped afterwards. */
export async function createDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  const admin = async (text: string) => {
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  return {
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}

export type Rows = Record<string, unknown>[];
export type Query = (text: string) => Promise<Rows>;

export async function withPg<T>(url: string, use: (query: Query) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(async (text) => (await client.query(text)).rows);
  } finally {
    await client.end();
  }
}

/** What an attacker holding a dump has: every row of every table, keyed `schema.table`, and as one text. */
export async function copyEveryRow(query: Query): Promise<{ tables: Record<string, Rows>; text: string }> {
  const names = await query(
    `select table_schema, table_name from information_schema.tables
     where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
  );
  const tables: Record<string, Rows> = {};
  for (const { table_schema, table_name } of names) {
    tables[`${table_schema}.${table_name}`] = await query(`select * from "${table_schema}"."${table_name}"`);
  }
  const text = JSON.stringify(tables, (_key, value) => (typeof value === 'bigint' ? String(value) : value));
  return { tables, text };
}

export interface LoginAnswer {
  session: { id: string; userId: string };
  accessToken: string;
  refreshToken: string;
}

export async function login(url: string, user: DemoUser, otp?: string): Promise<LoginAnswer> {
  const body = {
    email: user.email,
    password: user.password,
    transport: 'bearer',
    ...(otp === undefined ? {} : { otp }),
  };
  const answer = await request(url).post('/api/auth/login').send(body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as LoginAnswer;
}

/** The status of a request that authenticates with this bearer access token alone. */
export async function bearerStatus(url: string, token: string): Promise<number> {
  return (await request(url).get('/api/me/sessions/current').set('authorization', `Bearer ${token}`)).status;
}

export function kidOf(token: string): string {
  const header: unknown = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString());
  return (header as { kid: string }).kid;
}

/** An access token for a live session, as the reference app would sign it, signed with whatever key is given. */
export async function forgeAccessToken(input: {
  key: CryptoKey | Uint8Array;
  alg: string;
  kid: string;
  sub: string;
  sid: string;
  now: number;
}): Promise<string> {
  const seconds = Math.floor(input.now / 1000);
  return new SignJWT({ sid: input.sid, aal: 2, auth_time: seconds })
    .setProtectedHeader({ alg: input.alg, kid: input.kid, typ: 'at+jwt' })
    .setSubject(input.sub)
    .setIssuer('sessionkit-reference')
    .setAudience('sessionkit-reference')
    .setIssuedAt(seconds)
    .setExpirationTime(seconds + 300)
    .setJti(`forged-${seconds}-${Math.random()}`)
    .sign(input.key);
}

export async function privateKeyOf(jwk: JWK & { alg: string }): Promise<CryptoKey> {
  const { retiresAt: _retiresAt, ...key } = jwk as JWK & { alg: string; retiresAt?: number };
  return (await importJWK(key, jwk.alg)) as CryptoKey;
}
