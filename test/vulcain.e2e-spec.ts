import type { ClientHttp2Session } from 'node:http2';
import * as http from 'node:http';
import { connect, fetchWithPushes, withConnection, type PageResponse } from './support/h2-client';
import { startApp, startExpressApp, type StartedApp } from './support/start-app';
import { BOOKS, DENIED_AUTHOR, guardCalls, vulcainModule } from './fixtures/vulcain.app';

/** Vulcain's Preload and Fields (issue 22) on a real Nest + Fastify h2c server, with node:http2 and node:http clients. */
let server: StartedApp;
let client: ClientHttp2Session;

beforeAll(async () => {
  server = await startApp(vulcainModule());
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  guardCalls.length = 0;
  client = await connect(server.url);
});
afterEach(() => {
  client.destroy();
});

const pushed = (page: PageResponse) => page.pushes.map((push) => [push.request[':path'], push.status]);
const json = (body: string) => JSON.parse(body) as unknown;
const links = (page: { headers: Record<string, unknown> }) => String(page.headers.link ?? '');

describe('Preload', () => {
  it('pushes the 10 authors of a list of 10 books, each through the authors route and its guard; the denied one is pushed as its 403', async () => {
    const page = await fetchWithPushes(client, '/books', { preload: '"/books/*/author"' });
    expect(page.status).toBe(200);
    expect(pushed(page)).toEqual(BOOKS.map((book) => [book.author, book.author === `/authors/${DENIED_AUTHOR}` ? 403 : 200]));
    // Every pushed request ran the guard, as a pushed request.
    expect(guardCalls).toEqual(BOOKS.map((book) => ({ id: String(book.id), pushed: true })));
    const author3 = page.pushes.find((push) => push.request[':path'] === '/authors/3')!;
    expect(json(author3.body)).toEqual({ id: '3', name: 'Author 3', address: '/addresses/3' });
    // The denied author's data never left the server.
    expect(page.pushes.find((push) => push.request[':path'] === `/authors/${DENIED_AUTHOR}`)!.body).not.toContain('Author 7');
    // Pushed, so not linked; the list itself is whole.
    expect(links(page)).not.toContain('/authors/');
    expect(json(page.body)).toEqual({ books: BOOKS });
    expect(page.events.indexOf('response')).toBeGreaterThan(page.events.indexOf('promise /authors/10'));
  });

  it('takes the selectors from the query string too (quoted or not), and from a header list', async () => {
    const quoted = await fetchWithPushes(client, `/books?preload=${encodeURIComponent('"/books/*/author"')}`);
    expect(pushed(quoted)).toHaveLength(10);
    const bare = await withConnection(server.url, {}, (fresh) => fetchWithPushes(fresh, '/books?preload=/books/0/author&preload=/books/1/author'));
    expect(pushed(bare)).toEqual([
      ['/authors/1', 200],
      ['/authors/2', 200],
    ]);
    const list = await withConnection(server.url, {}, (other) => fetchWithPushes(other, '/books-array', { preload: '"/0/author", "/2/author"; rel=author' }));
    expect(pushed(list)).toEqual([
      ['/authors/1', 200],
      ['/authors/3', 200],
    ]);
  });

  it("pushes the next level too, on the page's stream: the pushed authors hand their addresses to the page", async () => {
    const page = await fetchWithPushes(client, '/books', { preload: '"/books/0/author/address", "/books/1/author/address"' });
    expect(pushed(page)).toEqual([
      ['/authors/1', 200],
      ['/authors/2', 200],
      ['/addresses/1', 200],
      ['/addresses/2', 200],
    ]);
    // The pushed author request carried the rest of the selector, as Vulcain's spec asks.
    expect(page.pushes[0].request.preload).toBe('"/address"');
    expect(json(page.pushes[2].body)).toEqual({ id: '1', city: 'City 1' });
    // Every promise before the page's headers; the addresses pushed, so linked nowhere.
    expect(page.events.indexOf('response')).toBeGreaterThan(page.events.indexOf('promise /addresses/2'));
    expect(String(page.pushes[0].headers?.link ?? '')).not.toContain('/addresses/');
    expect(links(page)).not.toContain('/addresses/');
  });

  it('a pushed relation denied by its guard releases the page, which answers with the other levels', async () => {
    const page = await fetchWithPushes(client, '/books', { preload: `"/books/${Number(DENIED_AUTHOR) - 1}/author/address", "/books/0/author/address"` });
    expect(page.status).toBe(200);
    expect(pushed(page)).toEqual([
      [`/authors/${DENIED_AUTHOR}`, 403],
      ['/authors/1', 200],
      ['/addresses/1', 200],
    ]);
  });

  it("a relation's own route serves Vulcain to its own clients: pushes where it can, links where it cannot", async () => {
    // A client cannot make the module think a request was pushed: this one is the client's own, it pushes.
    const own = await fetchWithPushes(client, '/authors/3', { preload: '"/address"' });
    expect(pushed(own)).toEqual([['/addresses/3', 200]]);
    const noPush = await withConnection(server.url, { enablePush: false }, (fresh) => fetchWithPushes(fresh, '/authors/3', { preload: '"/address"' }));
    expect(links(noPush)).toContain('</addresses/3>; rel=preload; as=fetch');
  });

  it('pushes a resource linked twice once, and leaves names, numbers and other origins out of the pushes', async () => {
    const page = await fetchWithPushes(client, '/mixed', { preload: '"/links", "/nested/deep/author", "/links/0"' });
    expect(pushed(page)).toEqual([
      ['/authors/1', 200],
      ['/authors/2', 200],
    ]);
    // Another origin's resource is hinted, never pushed.
    expect(links(page)).toContain('<https://cdn.example/x.json>; rel=preload; as=fetch');
    expect(links(page)).not.toContain('George');
  });

  it('is bounded: 2,000 links give maxPushesPerRequest pushes and links for the rest, and hundreds of selectors change nothing', async () => {
    const selectors = Array.from({ length: 300 }, (_, i) => `"/items/${i}/author"`).join(', ');
    const page = await fetchWithPushes(client, '/many', { preload: `"/items/*/author", ${selectors}` });
    expect(page.status).toBe(200);
    expect(page.pushes).toHaveLength(16); // the default maxPushesPerRequest
    expect(links(page)).toContain('</authors/17>; rel=preload; as=fetch');
    // The first 64 links only: the rest would make a header block the client refuses.
    expect(links(page)).toContain('</authors/64>;');
    expect(links(page)).not.toContain('</authors/65>;');
  });

  it('ignores malformed selectors and answers the resource', async () => {
    for (const preload of ['"/books/*/author', 'books/*/author', '"/books/~5"', '"\\x"', ',,,;;;']) {
      const page = await fetchWithPushes(client, '/books', { preload });
      expect([preload, page.status, page.pushes.length]).toEqual([preload, 200, 0]);
    }
  });

  it('leaves a response that is not JSON untouched, and one a @Res() handler wrote itself', async () => {
    const page = await fetchWithPushes(client, '/text', { preload: '""', fields: '"/x"' });
    expect(page.body).toBe('plain text');
    expect(page.pushes).toEqual([]);
    const raw = await fetchWithPushes(client, '/raw', { preload: '"/author"', fields: '"/x"' });
    expect([raw.status, json(raw.body), raw.pushes.length]).toEqual([200, { author: '/authors/1' }, 0]);
  });

  it('links instead of pushing for a client that disabled push, and says it varies by the selectors', async () => {
    const page = await withConnection(server.url, { enablePush: false }, (noPush) => fetchWithPushes(noPush, '/books', { preload: '"/books/*/author"' }));
    expect(page.pushes).toEqual([]);
    for (const book of BOOKS.slice(0, 16)) expect(links(page)).toContain(`<${book.author}>; rel=preload; as=fetch`);
    expect(String(page.headers.vary)).toContain('Preload, Fields');
  });

  it.each(['Fastify', 'Express'])('links over HTTP/1.1 (%s)', async (adapter) => {
    const http1 = adapter === 'Fastify' ? await startApp(vulcainModule(), { http2: false }) : await startExpressApp(vulcainModule());
    try {
      const response = await new Promise<http.IncomingMessage & { body: string }>((resolve, reject) => {
        http.get(`${http1.url}/books`, { headers: { preload: '"/books/0/author", "/books/1/author"' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(Object.assign(res, { body })));
        }).on('error', reject);
      });
      expect(response.statusCode).toBe(200);
      expect(String(response.headers.link)).toContain('</authors/1>; rel=preload; as=fetch');
      expect(String(response.headers.link)).toContain('</authors/2>; rel=preload; as=fetch');
      expect(String(response.headers.vary)).toContain('Preload, Fields');
      expect(JSON.parse(response.body)).toEqual({ books: BOOKS });
    } finally {
      await http1.close();
    }
  });
});

describe('Fields', () => {
  it('trims the response to the selected fields, and passes the rest to the pushed relations (Vulcain spec example)', async () => {
    const page = await fetchWithPushes(client, '/books', { preload: '"/books/0/author"', fields: '"/books/*/title", "/books/0/author/name", "/unknown"' });
    // Book 0 is named exactly: its own selector applies there, not the wildcard's (as Vulcain's gateway does).
    expect(json(page.body)).toEqual({ books: BOOKS.map((book, i) => (i === 0 ? { author: book.author } : { title: book.title })) });
    expect(pushed(page)).toEqual([['/authors/1', 200]]);
    expect(page.pushes[0].request.fields).toBe('"/name"');
    expect(json(page.pushes[0].body)).toEqual({ name: 'Author 1' });
  });

  it('with the query parameter, on an array document', async () => {
    const page = await fetchWithPushes(client, `/books-array?fields=${encodeURIComponent('/*/id')}`);
    expect(json(page.body)).toEqual(BOOKS.map((book) => ({ id: book.id })));
  });
});
