/**
 * `npm run sample:client [url]`: fetches the sample's pages over HTTP/2 (TLS or h2c, from the URL) and
 * prints each pushed stream. Browsers hide pushes in their caches; this shows what went over the wire.
 */
import * as http2 from 'node:http2';

interface Fetched {
  path: string;
  status: number;
  bytes: number;
}

/** Requests `path` and waits for its response and for every stream pushed meanwhile to finish. */
function fetchWithPushes(
  session: http2.ClientHttp2Session,
  path: string,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<{ page: Fetched; pushes: Fetched[] }> {
  return new Promise((resolve, reject) => {
    const pushes: Fetched[] = [];
    const pushesDone: Promise<void>[] = [];
    const onPush = (stream: http2.ClientHttp2Stream, promised: http2.IncomingHttpHeaders) => {
      const pushed: Fetched = { path: String(promised[':path']), status: 0, bytes: 0 };
      pushes.push(pushed);
      stream.on('push', (h) => (pushed.status = Number(h[':status'])));
      stream.on('data', (chunk: Buffer) => (pushed.bytes += chunk.length));
      stream.on('error', () => undefined); // a reset push is reported with status 0
      pushesDone.push(new Promise((done) => stream.on('close', done)));
    };
    session.on('stream', onPush);
    const page: Fetched = { path, status: 0, bytes: 0 };
    const request = session.request({ ':path': path, ...headers });
    request.on('response', (h) => (page.status = Number(h[':status'])));
    request.on('data', (chunk: Buffer) => (page.bytes += chunk.length));
    request.on('error', reject);
    request.on('end', async () => {
      await Promise.all(pushesDone);
      session.off('stream', onPush);
      resolve({ page, pushes });
    });
  });
}

function connect(url: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    // The sample's certificate is self-signed; an http: URL means h2c with prior knowledge.
    const session = http2.connect(url, { rejectUnauthorized: false });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

async function main(): Promise<void> {
  const scheme = process.env.H2C === '1' ? 'http' : 'https';
  const url = process.argv[2] ?? `${scheme}://127.0.0.1:${process.env.PORT ?? 3000}/`;
  let session: http2.ClientHttp2Session;
  try {
    session = await connect(url);
  } catch (error) {
    console.error(`Cannot connect to ${url}: ${(error as Error).message}. Is the sample running (npm run sample)?`);
    process.exitCode = 1;
    return;
  }
  const requests: [string, http2.OutgoingHttpHeaders][] = [
    ['/', {}],
    ['/account', { authorization: 'Bearer demo' }],
    ['/account', {}],
  ];
  for (const [path, headers] of requests) {
    const { page, pushes } = await fetchWithPushes(session, path, headers);
    const auth = headers.authorization ? ` (authorization: ${headers.authorization})` : '';
    console.log(`GET ${path}${auth} -> ${page.status}, ${page.bytes} bytes, ${pushes.length} pushed`);
    for (const p of pushes) console.log(`  pushed ${p.path} -> ${p.status}, ${p.bytes} bytes`);
  }
  session.close();
}

void main();
