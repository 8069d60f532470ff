import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Express 5 forwards a rejected promise to the error handler by itself; Express 4 does not. Every async
 * middleware of this package goes through here so both behave the same.
 */
export function asyncHandler(
  handler: (req: Request, res: Response, next: NextFunction) => Promise<void>,
): RequestHandler {
  return (req, res, next) => {
    handler(req, res, next).catch(next);
  };
}
