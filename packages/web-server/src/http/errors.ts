/**
 * Every HTTP error body is `{"error":{"code","message"}}` (PROTOCOL §2), written by `sendError`
 * and nothing else. `errorHandler` is the app's one Express error handler (mounted last, so it
 * also answers for the sign-in router): it maps body-parser and static-file errors to our codes
 * and never sends a stack trace.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { httpError, type HttpErrorCode, type Logger } from '@agent-bridge/common';
import { StoreUnavailable } from '../cluster/unavailable.ts';

export function sendError(res: Response, status: number, code: HttpErrorCode, message: string): void {
  res.status(status).json(httpError(code, message));
}

export function notFound(message = 'no such resource'): RequestHandler {
  return (_req, res) => sendError(res, 404, 'not_found', message);
}

export function methodNotAllowed(allowed: string): RequestHandler {
  return (_req, res) => {
    res.setHeader('Allow', allowed);
    sendError(res, 405, 'method_not_allowed', `this path accepts ${allowed} only`);
  };
}

const CLIENT_ERRORS: Record<number, [HttpErrorCode, string]> = {
  400: ['bad_request', 'the request is malformed'],
  403: ['forbidden', 'not allowed'],
  404: ['not_found', 'no such resource'],
  405: ['method_not_allowed', 'method not allowed'],
  413: ['payload_too_large', 'the body is too large'],
  415: ['unsupported_media_type', 'unsupported content type or charset'],
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      // body-parser says which limit applied: MAX_MESSAGE_BYTES on /api, 16 KiB on /auth.
      const limit = (err as { limit?: number }).limit;
      return sendError(res, 413, 'payload_too_large', limit === undefined ? 'the body is too large' : `the body is over ${limit} bytes`);
    }
    if (type === 'entity.parse.failed') return sendError(res, 400, 'bad_request', 'the body is not valid JSON');
    // Cluster mode, Redis away: the state this request needs is not reachable (PROTOCOL §10).
    // RedisLink has logged the outage once; nothing more to say per request.
    if (err instanceof StoreUnavailable) {
      res.setHeader('Retry-After', '1');
      return sendError(res, 503, 'unavailable', 'the shared store cannot be reached; try again shortly');
    }
    const status = (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const [code, message] = CLIENT_ERRORS[status] ?? ['bad_request', 'the request could not be handled'];
      return sendError(res, status, code, message);
    }
    log.error({ err, method: req.method, path: req.path }, 'request failed');
    sendError(res, 500, 'internal', 'internal error');
  };
}
