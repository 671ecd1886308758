import { PUSHED_REQUEST } from '../push.constants';

/**
 * True for a request this module synthesized for a pushed stream, false for one a client sent. Takes a
 * Fastify request, an Express request or the raw Node request (always false on Express: it cannot push). The mark is a symbol set by the module: no header, query or
 * body a client can send makes a client request look pushed.
 */
export function isPushedRequest(request: unknown): boolean {
  if (request === null || typeof request !== 'object') return false;
  const raw = (request as { raw?: unknown }).raw ?? request;
  return (raw as { [PUSHED_REQUEST]?: boolean })[PUSHED_REQUEST] === true;
}
