import { UseInterceptors } from '@nestjs/common';
import { VulcainInterceptor } from './vulcain.interceptor';

/**
 * Serves Vulcain's `Preload` and `Fields` (headers or `preload`/`fields` query parameters) on a JSON handler,
 * or on every handler of a controller: the relations a client selects are pushed through their own routes,
 * or linked with `rel=preload` where they cannot be, and the returned object is trimmed to the selected
 * fields. Per route, not global: a route opts in when its JSON holds links (`"/authors/1"`) worth preloading.
 *
 * @example @Get('books') @Vulcain() list() { return { books: [{ title: '1984', author: '/authors/1' }] }; }
 */
export function Vulcain(): ClassDecorator & MethodDecorator {
  return UseInterceptors(VulcainInterceptor);
}
