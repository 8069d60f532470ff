/**
 * A failure of the app's own logic (wrong password, missing OTP) with a stable code, answered as an RFC 9457
 * problem document like every SessionKit error.
 */
export type AppProblemCode =
  | 'auth.invalid_credentials'
  | 'otp.required'
  | 'otp.invalid'
  | 'idp.email_unverified'
  | 'idp.no_pending_sign_in'
  | 'not_found';

export class AppProblem extends Error {
  readonly status: number;
  readonly code: AppProblemCode;

  constructor(status: number, code: AppProblemCode, message: string) {
    super(message);
    this.name = 'AppProblem';
    this.status = status;
    this.code = code;
  }
}
