/**
 * True for a request this module synthesized for a pushed stream, false for one a client sent. Takes a
 * Fastify request, an Express request or the raw Node request (always false on Express: it cannot push).
 * The mark is the stream's ID: streams the server opens (pushes) have even IDs, and a client can only open
 * odd ones (RFC 9113 §5.1.1: nghttp2 answers an even one with a connection error), so no header, query or
 * body a client can send makes its request look pushed. Node builds request objects only for client
 * streams; the module builds them for the pushes it serves.
 */
export function isPushedRequest(request: unknown): boolean {
  if (request === null || typeof request !== 'object') return false;
  const raw = (request as { raw?: unknown }).raw ?? request;
  const id = (raw as { stream?: { id?: unknown } }).stream?.id;
  return typeof id === 'number' && id % 2 === 0;
}
