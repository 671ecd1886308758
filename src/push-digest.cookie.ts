import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RESOLVED_PUSH_OPTIONS } from './push.constants';
import type { PushContext } from './push-context';
import { PushDigest, readCookie } from './push-digest';
import type { ResolvedPushOptions } from './push-module-options.interface';
import type { NormalizedPush } from './push-resource.interface';

/**
 * `digestCookie`: remembers across visits what was pushed to a client, in a cookie holding a PushDigest,
 * so a returning client is not pushed what is probably in its cache.
 */
@Injectable()
export class DigestCookie {
  private readonly settings: ResolvedPushOptions['digestCookie'];

  constructor(@Inject(RESOLVED_PUSH_OPTIONS) options: ResolvedPushOptions) {
    this.settings = options.digestCookie;
  }

  get enabled(): boolean {
    return this.settings !== undefined;
  }

  /** True when the client's cookie says it was already pushed this resource (in this version). */
  has(context: PushContext, push: NormalizedPush, url: string): boolean {
    return this.settings !== undefined && this.digestOf(context).has(key(push, url));
  }

  remember(context: PushContext, push: NormalizedPush, url: string): void {
    if (this.settings !== undefined) this.digestOf(context).add(key(push, url));
  }

  /** Sets the cookie on the final response when this response pushed something new. */
  write(context: PushContext, reply: FastifyReply): void {
    const settings = this.settings;
    if (!settings || !context.digest?.dirty) return;
    const secure = context.request.protocol === 'https' ? '; Secure' : '';
    reply.header('set-cookie', `${settings.name}=${context.digest}; Max-Age=${settings.maxAge}; Path=/; HttpOnly; SameSite=Lax${secure}`);
  }

  private digestOf(context: PushContext): PushDigest {
    const settings = this.settings!;
    return (context.digest ??= PushDigest.parse(readCookie(context.request.headers.cookie, settings.name), settings.bits));
  }
}

function key(push: NormalizedPush, url: string): string {
  return `${push.method} ${url} ${push.version ?? ''}`;
}
