/**
 * Preloaded (`--import`) into a bench child to measure SessionKit as an application without `@opentelemetry/api`
 * runs it: the package cannot be resolved, whatever the workspace has installed.
 */
import { register } from 'node:module';

const hook = `export async function resolve(specifier, context, next) {
  if (specifier === '@opentelemetry/api') {
    const error = new Error('Cannot find package @opentelemetry/api (hidden by the bench)');
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
