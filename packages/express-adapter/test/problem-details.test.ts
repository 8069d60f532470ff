import type { ErrorCode, SessionKitError } from '@sessionkit/core';
import {
  AalInsufficientError,
  AuthStaleError,
  BindingRequiredError,
  ContextRejectedError,
  DpopInvalidProofError,
  DpopNonceRequiredError,
  DpopReplayError,
  InvalidInputError,
  InvalidTokenError,
  LimitExceededError,
  RateLimitedError,
  SecretRequiredError,
  SessionExpiredError,
  SessionNotFoundError,
  SessionRevokedError,
  SessionSuspendedError,
  StoreCorruptError,
  StoreUnavailableError,
  TenantMismatchError,
  TokenExpiredError,
  TokenReuseDetectedError,
  TransferInvalidError,
  VersionConflictError,
} from '@sessionkit/core';
import { UpstreamUnavailableError } from '@sessionkit/upstream';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, AuthenticationRequiredError, CsrfRejectedError } from '../src/adapter-errors.js';
import { problemHandler, STATUS_BY_CODE } from '../src/index.js';
import type { ProblemDocument } from '../src/problem-details.js';

/** One instance of every error code, built through its public constructor. */
const coreErrors: Record<ErrorCode, SessionKitError> = {
  'session.not_found': new SessionNotFoundError(),
  'session.expired': new SessionExpiredError(),
  'session.revoked': new SessionRevokedError(),
  'session.suspended': new SessionSuspendedError(),
  'session.conflict': new VersionConflictError(),
  'token.invalid': new InvalidTokenError(),
  'token.expired': new TokenExpiredError(),
  'token.reuse_detected': new TokenReuseDetectedError(),
  'limit.exceeded': new LimitExceededError(5),
  'aal.insufficient': new AalInsufficientError(2, 1),
  'auth.stale': new AuthStaleError(900_000),
  'context.rejected': new ContextRejectedError(['ip.changed']),
  'rate.limited': new RateLimitedError(2500),
  'store.unavailable': new StoreUnavailableError('ECONNREFUSED 10.1.2.3:6379'),
  'store.corrupt': new StoreCorruptError('row 42 of sessions is garbage'),
  'upstream.unavailable': new UpstreamUnavailableError('idp.example is down'),
  'input.invalid': new InvalidInputError('Invalid body: email: required', [
    { path: 'email', message: 'required' },
  ]),
  'transfer.invalid': new TransferInvalidError(),
  'config.secret_required': new SecretRequiredError(),
  'tenant.mismatch': new TenantMismatchError(),
  'auth.required': new AuthenticationRequiredError(),
  'csrf.rejected': new CsrfRejectedError(),
  'access.denied': new AccessDeniedError(),
  'binding.required': new BindingRequiredError(),
  'dpop.invalid_proof': new DpopInvalidProofError('The DPoP proof htm does not match the method'),
  'dpop.replay': new DpopReplayError(),
  'dpop.nonce_required': new DpopNonceRequiredError(),
};

function appThrowing(error: unknown) {
  const serverErrors: unknown[] = [];
  const app = express();
  app.get('/', () => {
    throw error;
  });
  app.post('/json', express.json({ limit: '1kb' }), (_req, res) => {
    res.json({ ok: true });
  });
  app.use(problemHandler({ onServerError: (caught) => serverErrors.push(caught) }));
  return { app, serverErrors };
}

describe('problem documents', () => {
  it.each(
    Object.entries(coreErrors),
  )('maps %s to its status and an RFC 9457 document', async (code, error) => {
    const { app } = appThrowing(error);
    const res = await request(app).get('/');
    const status = STATUS_BY_CODE[code as ErrorCode];
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    const body = JSON.parse(res.text) as ProblemDocument;
    expect(body).toMatchObject({ type: `urn:sessionkit:problem:${code}`, status, code });
    expect(body.title.length).toBeGreaterThan(0);
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    if (status >= 500) {
      // Backend details stay in the logs.
      expect(body.detail).toBeUndefined();
      expect(res.text).not.toMatch(/10\.1\.2\.3|row 42/);
    } else {
      expect(body.detail).toBe(error.message);
    }
  });

  it('uses the statuses the design promises for the codes clients act on', () => {
    expect(STATUS_BY_CODE).toMatchObject({
      'token.reuse_detected': 401,
      'aal.insufficient': 403,
      'auth.stale': 403,
      'rate.limited': 429,
      'session.not_found': 404,
      'store.unavailable': 503,
    });
  });

  it('adds Retry-After to rate.limited, WWW-Authenticate to 401s, and public details only where safe', async () => {
    const limited = await request(appThrowing(coreErrors['rate.limited']).app).get('/');
    expect(limited.headers['retry-after']).toBe('3');
    expect(limited.body).toMatchObject({ details: { retryAfterMs: 2500 } });
    const revoked = await request(appThrowing(coreErrors['session.revoked']).app).get('/');
    expect(revoked.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    const context = await request(appThrowing(coreErrors['context.rejected']).app).get('/');
    expect(context.body).not.toHaveProperty('details');
    const invalid = await request(appThrowing(coreErrors['input.invalid']).app).get('/');
    expect(invalid.body).toMatchObject({ details: { issues: [{ path: 'email', message: 'required' }] } });
  });

  it('maps the adapter errors', async () => {
    const csrf = await request(appThrowing(new CsrfRejectedError()).app).get('/');
    expect(csrf.status).toBe(403);
    expect(csrf.body).toMatchObject({ code: 'csrf.rejected' });
    const denied = await request(appThrowing(new AccessDeniedError()).app).get('/');
    expect(denied.body).toMatchObject({ code: 'access.denied', status: 403 });
  });

  it('turns an unknown error into a bare 500 with no message or stack, and reports it', async () => {
    const secret = new Error('password=hunter2 at db.internal');
    const { app, serverErrors } = appThrowing(secret);
    const res = await request(app).get('/').expect(500);
    expect(res.body).toEqual({
      type: 'urn:sessionkit:problem:internal',
      title: 'Internal server error',
      status: 500,
      code: 'internal',
    });
    expect(serverErrors).toEqual([secret]);
    const thrownString = await request(appThrowing('just a string').app).get('/').expect(500);
    expect(thrownString.body).toMatchObject({ code: 'internal' });
  });

  it('answers malformed JSON with 400 input.invalid and an oversized body with 413, never 500', async () => {
    const { app, serverErrors } = appThrowing(new Error('unused'));
    const malformed = await request(app).post('/json').set('content-type', 'application/json').send('{"a":');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: 'input.invalid' });
    const big = await request(app)
      .post('/json')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ a: 'x'.repeat(5000) }));
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: 'request.too_large' });
    const charset = await request(app)
      .post('/json')
      .set('content-type', 'application/json; charset=klingon')
      .send('{}');
    expect(charset.status).toBe(415);
    expect(charset.body).toMatchObject({ code: 'request.invalid' });
    expect(serverErrors).toEqual([]);
  });
});
