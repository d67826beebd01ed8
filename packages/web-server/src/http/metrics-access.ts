/**
 * Who may read /metrics: with METRICS_TOKEN, a caller presenting it (Authorization: Bearer,
 * compared in constant time); without, only a loopback caller that came through no proxy
 * (a local reverse proxy would make every visitor look like 127.0.0.1). Anyone else gets 404, as
 * if there were no such path; a wrong token gets 401.
 */
import type { RequestHandler } from 'express';
import { bearerToken, tokenMatches } from '@agent-bridge/common';
import { sendError } from './errors.ts';
import { isLoopback } from './trust-proxy.ts';

export function metricsAccess(token: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (token !== undefined) {
      if (tokenMatches(bearerToken(req.get('authorization')), [token])) return next();
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(res, 401, 'unauthorized', 'Authorization: Bearer <METRICS_TOKEN> is required');
    }
    const proxied = req.get('x-forwarded-for') !== undefined || req.get('forwarded') !== undefined;
    if (!proxied && isLoopback(req.socket.remoteAddress) && isLoopback(req.ip)) return next();
    sendError(res, 404, 'not_found', 'no such resource');
  };
}
