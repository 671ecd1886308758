import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_PUSH_OPTIONS } from '../push.constants';
import type { PushContext } from '../context/push-context';
import { PushDigest, readCookie } from './push-digest';
import type { ResolvedPushOptions } from '../module/push-module-options.interface';
import type { NormalizedPush } from '../push/push-resource.interface';

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

  /** The `set-cookie` value for the final response when this response pushed something new, else undefined. */
  cookie(context: PushContext): string | undefined {
    const settings = this.settings;
    if (!settings || !context.digest?.dirty) return undefined;
    const secure = context.request.protocol === 'https' ? '; Secure' : '';
    return `${settings.name}=${context.digest}; Max-Age=${settings.maxAge}; Path=/; HttpOnly; SameSite=Lax${secure}`;
  }

  private digestOf(context: PushContext): PushDigest {
    const settings = this.settings!;
    return (context.digest ??= PushDigest.parse(readCookie(context.raw.headers.cookie, settings.name), settings.bits));
  }
}

function key(push: NormalizedPush, url: string): string {
  return `${push.method} ${url} ${push.version ?? ''}`;
}
