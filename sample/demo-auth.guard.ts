import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * Lets in `authorization: Bearer demo` or the cookie `session=demo`, else 403. Pushed requests inherit
 * both headers from the client's request, so a resource pushed for an authorized page passes it too.
 */
@Injectable()
export class DemoAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { headers } = context.switchToHttp().getRequest<FastifyRequest>();
    const cookies = (headers.cookie ?? '').split(';').map((c) => c.trim());
    if (headers.authorization === 'Bearer demo' || cookies.includes('session=demo')) return true;
    throw new ForbiddenException('send "authorization: Bearer demo" or the cookie "session=demo"');
  }
}
