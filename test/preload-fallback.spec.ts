/**
 * The final response's `Link` value (PreloadFallback.linkHeader): pure string work on what one response
 * hinted and pushed, and on what the application set itself. The e2e suites (early-hints, observability)
 * check the same through real responses; these pin the merge's edge cases.
 */
import { PreloadFallback } from '../src/hints/preload-fallback';
import type { PushContext } from '../src/context/push-context';
import type { PushModuleOptions } from '../src';
import { resolvePushOptions } from '../src/push/push-validation';

const STYLE = '</static/style.css>; rel=preload; as=style';
const SCRIPT = '</static/app.js>; rel=preload; as=script';

/** Only the two lists linkHeader() reads of a response's PushContext. */
const responseWith = (hintLinks?: string[], pushedLinks?: string[]) => ({ hintLinks, pushedLinks }) as unknown as PushContext;

const linkHeader = (fallback: PushModuleOptions['fallback'], context: PushContext, existing?: unknown) =>
  new PreloadFallback(resolvePushOptions({ fallback })).linkHeader(context, existing);

describe('PreloadFallback.linkHeader', () => {
  it('without a Link of the application: exactly the hinted links', () => {
    expect(linkHeader({}, responseWith([STYLE, SCRIPT]))).toBe(`${STYLE}, ${SCRIPT}`);
  });

  it('the application\'s own Link comes first, whether one value or several', () => {
    const own = '</next>; rel=next';
    expect(linkHeader({}, responseWith([STYLE]), own)).toBe(`${own}, ${STYLE}`);
    expect(linkHeader({}, responseWith([STYLE]), [own, '</up>; rel=up'])).toBe(`${own}, </up>; rel=up, ${STYLE}`);
  });

  it('a resource the application links already is not linked twice, and nothing to add is undefined', () => {
    const own = '</static/style.css>; rel=preload; as=style; crossorigin';
    expect(linkHeader({}, responseWith([STYLE, SCRIPT]), own)).toBe(`${own}, ${SCRIPT}`);
    expect(linkHeader({}, responseWith([STYLE]), own)).toBeUndefined();
    expect(linkHeader({}, responseWith([STYLE]), [SCRIPT, own])).toBeUndefined();
  });

  it('"already linked" compares whole targets: a link to /static/app.json does not hide /static/app.js', () => {
    const json = '</static/app.json>; rel=preload; as=fetch';
    expect(linkHeader({}, responseWith([SCRIPT]), json)).toBe(`${json}, ${SCRIPT}`);
  });

  it('pushed resources are linked with nopush only when asked, after the hints', () => {
    const response = responseWith([SCRIPT], [STYLE]);
    expect(linkHeader({}, response)).toBe(SCRIPT);
    expect(linkHeader({ nopush: true }, response)).toBe(`${SCRIPT}, ${STYLE}; nopush`);
    expect(linkHeader({ nopush: true, linkHeader: false }, response)).toBe(`${STYLE}; nopush`);
  });

  it('nothing hinted, or the Link header turned off: undefined, the application\'s Link untouched', () => {
    expect(linkHeader({}, responseWith(), '</next>; rel=next')).toBeUndefined();
    expect(linkHeader({ linkHeader: false }, responseWith([STYLE]), '</next>; rel=next')).toBeUndefined();
  });
});
