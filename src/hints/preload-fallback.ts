import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_PUSH_OPTIONS } from '../push.constants';
import type { PushContext } from '../context/push-context';
import type { ResolvedPushOptions } from '../module/push-module-options.interface';

/**
 * What browsers get instead of a push they refuse (HTTP/1.1, SETTINGS_ENABLE_PUSH=0, limits): one
 * 103 Early Hints response with a preload `Link` per resource, as early as possible, and the same links on
 * the final response (which CDNs and proxies turn into hints or pushes of their own).
 */
@Injectable()
export class PreloadFallback {
  constructor(@Inject(RESOLVED_PUSH_OPTIONS) private readonly options: ResolvedPushOptions) {}

  /** Whether the final response's headers need completing at all. */
  get addsLinkHeader(): boolean {
    return this.options.fallback.linkHeader || this.options.fallback.nopush;
  }

  /**
   * Sends this response's one 103 with every hint so far, unless disabled, already sent or too late; with
   * the learned hints that wait for the last guard (the PushGuard is one of the last guards too).
   */
  sendEarlyHints(context: PushContext): void {
    const hints = this.options.fallback.earlyHints ? context.hintLinks : undefined;
    const learned = context.pendingHints;
    if (learned) {
      context.pendingHints = undefined;
      writeEarlyHints(context, hints ? [...learned, ...hints.filter((link) => !learned.includes(link))] : learned);
    } else if (hints) {
      writeEarlyHints(context, hints);
    }
  }

  /**
   * For pushes asked while the handler runs: the hints of one tick go out together, in one 103. Only when
   * there is a hint: whether hints are on and none was sent yet, sendEarlyHints and writeEarlyHints check.
   */
  scheduleEarlyHints(context: PushContext): void {
    if (context.hintLinks) queueMicrotask(() => this.sendEarlyHints(context));
  }

  /**
   * The final response's `Link` value: `existing` (what the application set itself), then the preload
   * links (a resource it already links is not linked twice). Undefined when there is nothing to add.
   */
  linkHeader(context: PushContext, existing: unknown): string | undefined {
    const links: string[] = [];
    if (this.options.fallback.linkHeader && context.hintLinks) links.push(...context.hintLinks);
    if (this.options.fallback.nopush && context.pushedLinks) for (const link of context.pushedLinks) links.push(`${link}; nopush`);
    if (links.length === 0) return undefined;
    const values = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
    const linked = (target: string) => values.some((value) => value.includes(target));
    const added = links.filter((link) => !linked(link.slice(0, link.indexOf('>') + 1)));
    return added.length > 0 ? [...values, ...added].join(', ') : undefined;
  }
}

/**
 * Writes the response's one 103 Early Hints with `links`, unless one was sent already or the final
 * headers went out (browsers use only the first 103, and none after the response), or the client speaks
 * HTTP/1.0, which has no 1xx responses (RFC 9110 §15.2: a server must not send it one); the final
 * response's `Link` header still carries the links.
 */
export function writeEarlyHints(context: PushContext, links: readonly string[]): void {
  if (context.earlyHintsSent || context.responseStarted || context.raw.httpVersion === '1.0') return;
  context.earlyHintsSent = true;
  try {
    context.rawReply.writeEarlyHints({ link: links as string[] });
  } catch {
    // The stream or socket closed before the 103 (the client went away; the links are checked before they
    // get here): nothing to send, and no per-request log line (see the logEvents option).
  }
}
