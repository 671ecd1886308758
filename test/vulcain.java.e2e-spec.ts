import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startApp, type StartedApp } from './support/start-app';
import { BOOKS, DENIED_AUTHOR, guardCalls, vulcainModule } from './fixtures/vulcain.app';

/**
 * Vulcain with a client that accepts pushes: Java's HttpClient (HTTP/2 over TLS, the JDK's own
 * PushPromiseHandler), run as a single source file (test/fixtures/java/VulcainClient.java).
 */
const run = promisify(execFile);
let server: StartedApp;

beforeAll(async () => {
  server = await startApp(vulcainModule(), { tls: true });
});
afterAll(async () => {
  await server.close();
});

async function javaClient(path: string, preload: string): Promise<string[]> {
  const { stdout } = await run('java', [join(process.cwd(), 'test', 'fixtures', 'java', 'VulcainClient.java'), `${server.url}${path}`, preload], {
    timeout: 60_000,
    // The test certificate names localhost; the client trusts it, and checks no host name against it.
    env: { ...process.env, JDK_JAVA_OPTIONS: '-Djdk.internal.httpclient.disableHostnameVerification=true' },
  });
  return stdout.trim().split('\n');
}

describe("Vulcain with Java's HttpClient", () => {
  it('gets the 10 authors of 10 books pushed, each through the authors guard (the denied one as its 403), and their addresses', async () => {
    guardCalls.length = 0;
    const lines = await javaClient('/books', '"/books/*/author/address"');
    expect(lines[0]).toMatch(/^page 200 HTTP_2 /);
    const pushes = lines.slice(1).map((line) => line.split(' ').slice(1, 3).join(' '));
    const authors = BOOKS.map((book) => `${book.author} ${book.author === `/authors/${DENIED_AUTHOR}` ? 403 : 200}`);
    // maxPushesPerRequest (16): the 10 authors, then the first 6 addresses of the allowed ones.
    const addresses = BOOKS.filter((book) => String(book.id) !== DENIED_AUTHOR).slice(0, 6).map((book) => `/addresses/${book.id} 200`);
    expect(pushes).toEqual([...authors, ...addresses]);
    expect(guardCalls.filter((call) => call.pushed)).toHaveLength(10);
    expect(lines.find((line) => line.startsWith('push /addresses/1 '))).toBe('push /addresses/1 200 {"id":"1","city":"City 1"}');
  }, 90_000);
});
