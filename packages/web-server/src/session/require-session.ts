/** `Authorization: Bearer <session JWT>` → `res.locals.session = {clientId, address}`, else 401. */
import type { RequestHandler } from 'express';
import { bearerToken } from '@agent-bridge/common';
import { sendError } from '../http/errors.ts';
import type { SessionTokens } from './tokens.ts';

export interface SessionLocals {
  clientId: string;
  address: string | null;
}

export function requireSession(tokens: SessionTokens): RequestHandler {
  return (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    const result = token === undefined ? undefined : tokens.verify(token);
    if (!result?.ok) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(res, 401, 'unauthorized', result?.message ?? 'Authorization: Bearer <session token> is required');
    }
    res.locals.session = { clientId: result.clientId, address: result.address } satisfies SessionLocals;
    next();
  };
}
