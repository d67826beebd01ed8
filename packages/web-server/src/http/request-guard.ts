/**
 * Cross-site requests to /api and /auth: a page elsewhere can POST `text/plain` or a form to us
 * without a CORS preflight, spending its visitors' per-IP budget (or worse). Only
 * `application/json` bodies (or none) are accepted (415 otherwise), and a request that names an
 * Origin must name one we allow (403). Runs before the rate limiter, so a refused request costs
 * nobody's budget.
 */
import type { RequestHandler } from 'express';
import type { OriginPolicy } from '../ws/origin.ts';
import { sendError } from './errors.ts';

export function requestGuard(origins: OriginPolicy): RequestHandler {
  return (req, res, next) => {
    if (!origins.allows(req.get('origin'))) return sendError(res, 403, 'forbidden', 'this Origin may not call the bridge');
    const hasBody = req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
    if (hasBody && !req.is('application/json')) {
      return sendError(res, 415, 'unsupported_media_type', 'the body must be application/json');
    }
    next();
  };
}
