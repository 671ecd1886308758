import { crossOriginHint, inferPreloadAs, preloadParams } from '../src/hints/preload-link';
import { earlyHintLinks, preloadTargets } from '../src/hints/preload-link-parser';

describe('preload links', () => {
  it.each([
    ['/a.css', undefined, 'style'],
    ['/a.JS', undefined, 'script'],
    ['/f.woff2', undefined, 'font'],
    ['/i.webp', undefined, 'image'],
    ['/api/data', undefined, 'fetch'],
    ['/api/data', 'application/json', 'fetch'],
    ['/x', 'text/css', 'style'],
    ['/x.css', 'image/png', 'image'],
  ])('infers as for %s (accept %s): %s', (path, accept, as) => {
    expect(inferPreloadAs(path, accept)).toBe(as);
  });

  it.each([
    ['mjs', 'script'],
    ['woff', 'font'],
    ['ttf', 'font'],
    ['otf', 'font'],
    ['png', 'image'],
    ['jpg', 'image'],
    ['jpeg', 'image'],
    ['gif', 'image'],
    ['avif', 'image'],
    ['svg', 'image'],
    ['ico', 'image'],
    ['json', 'fetch'],
    ['vtt', 'track'],
  ])('infers as from the extension .%s: %s', (extension, as) => {
    expect(inferPreloadAs(`/static/file.${extension}`, undefined)).toBe(as);
  });

  it.each([
    ['application/javascript', 'script'],
    ['text/ecmascript', 'script'],
    ['font/woff2', 'font'],
    // jQuery's getJSON: JSON first, so not a script although text/javascript is named.
    ['application/json, text/javascript, */*; q=0.01', 'fetch'],
    ['*/*', 'style'], // says nothing: the extension decides
    ['text/css,*/*;q=0.1', 'style'], // Firefox's, for a stylesheet
  ])('infers as from accept %s (path /x.css, or /x when accept decides): %s', (accept, as) => {
    expect(inferPreloadAs('/x.css', accept)).toBe(as);
    if (accept !== '*/*') expect(inferPreloadAs('/x', accept)).toBe(as);
  });

  it('takes the last extension only, never a property every object has; a given as wins', () => {
    expect(inferPreloadAs('/app.css.map', undefined)).toBe('fetch');
    expect(inferPreloadAs('/x.constructor', undefined)).toBe('fetch');
    expect(inferPreloadAs('/x.css', undefined, 'image')).toBe('image');
  });

  it('adds crossorigin for fonts and fetches, and takes explicit attributes', () => {
    expect(preloadParams('font', 'font/woff2')).toBe('; rel=preload; as=font; type="font/woff2"; crossorigin');
    expect(preloadParams('fetch')).toBe('; rel=preload; as=fetch; crossorigin');
    expect(preloadParams('style')).toBe('; rel=preload; as=style');
    expect(preloadParams('style', undefined, 'anonymous')).toBe('; rel=preload; as=style; crossorigin');
    expect(preloadParams('style', undefined, 'use-credentials')).toBe('; rel=preload; as=style; crossorigin=use-credentials');
    expect(preloadParams('font', undefined, 'use-credentials')).toBe('; rel=preload; as=font; crossorigin=use-credentials');
    expect(preloadParams('font', undefined, 'anonymous')).toBe('; rel=preload; as=font; crossorigin');
  });
});

describe('crossOriginHint (resources on another authority)', () => {
  it('is a preconnect to the origin and, for https, a full-URL preload', () => {
    expect(crossOriginHint('https://cdn.test', '/x.js?v=1', '; rel=preload; as=script')).toEqual([
      '<https://cdn.test>; rel=preconnect',
      '<https://cdn.test/x.js?v=1>; rel=preload; as=script',
    ]);
    expect(crossOriginHint('http://cdn.test:8080', '/x.js', '; rel=preload; as=script')).toEqual(['<http://cdn.test:8080>; rel=preconnect']);
  });

  it('preconnects anonymously (crossorigin) for a CORS preload, as the browser keeps those connections apart', () => {
    expect(crossOriginHint('https://cdn.test', '/f.woff2', '; rel=preload; as=font; crossorigin')[0]).toBe('<https://cdn.test>; rel=preconnect; crossorigin');
    expect(crossOriginHint('https://cdn.test', '/d', '; rel=preload; as=fetch; crossorigin=use-credentials')[0]).toBe('<https://cdn.test>; rel=preconnect');
  });
});

describe('preloadTargets (Link headers to push)', () => {
  it('takes same-origin rel=preload links, skipping nopush, other rels and other origins', () => {
    expect(
      preloadTargets([
        '</a.css>; rel=preload; as=style, </b.js>; rel=preload; nopush, </c>; rel=prefetch',
        '<https://cdn.test/d.js>; rel=preload, <//cdn.test/e.js>; rel=preload, </f?x=1,2>; rel="preload stylesheet"',
      ]),
    ).toEqual(['/a.css', '/f?x=1,2']);
  });

  it('reads a single header value, links separated by a comma without a space, a comma in a parameter', () => {
    expect(preloadTargets('</a.css>; rel=preload; as=style')).toEqual(['/a.css']);
    expect(preloadTargets('</a.css>; rel=preload,</b.js>; rel=preload')).toEqual(['/a.css', '/b.js']);
    expect(preloadTargets('</a.css>; title="a, b"; rel=preload, </b.js>; rel=preload, </c.js>; as=script')).toEqual(['/a.css', '/b.js']);
  });

  it('ignores what is not a Link header', () => {
    expect(preloadTargets(undefined)).toEqual([]);
    expect(preloadTargets('garbage, <; rel=')).toEqual([]);
  });
});

describe('earlyHintLinks (the forms writeEarlyHints() accepts)', () => {
  it('keeps a link with no space or a space before a parameter, and a comma inside the URL', () => {
    expect(earlyHintLinks('</a.css>;rel=preload')).toEqual(['</a.css>;rel=preload']);
    expect(earlyHintLinks('</a.css> ; rel=preload')).toEqual(['</a.css> ; rel=preload']);
    expect(earlyHintLinks('</f?x=1,2>; rel=preload, </b.js>; rel=preload')).toEqual(['</f?x=1,2>; rel=preload', '</b.js>; rel=preload']);
  });
});
