import * as http2 from 'node:http2';

export interface PushedResponse {
  /** The promised request's headers, as the PUSH_PROMISE carried them. */
  request: http2.IncomingHttpHeaders;
  status?: number;
  headers?: http2.IncomingHttpHeaders;
  body: string;
  trailers?: http2.IncomingHttpHeaders;
}

export interface PageResponse {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
  pushes: PushedResponse[];
  /** Client-side order of events: `promise <path>`, `interim <status>` (e.g. 103) and `response`. */
  events: string[];
}

export function connect(url: string, settings: http2.Settings = {}): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, { settings, rejectUnauthorized: false });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/** Runs `use` on a connection of its own (a fresh diary, other settings), destroyed afterwards whatever happens. */
export async function withConnection<T>(url: string, settings: http2.Settings, use: (session: http2.ClientHttp2Session) => Promise<T>): Promise<T> {
  const session = await connect(url, settings);
  try {
    return await use(session);
  } finally {
    session.destroy();
  }
}

/**
 * Requests `path` on `session` (one request at a time: the pushes seen meanwhile are its pushes) and
 * collects the response and every pushed response in full.
 */
export function fetchWithPushes(
  session: http2.ClientHttp2Session,
  path: string,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<PageResponse> {
  return new Promise((resolve, reject) => {
    const events: string[] = [];
    const pushes: PushedResponse[] = [];
    const pending: Promise<void>[] = [];
    const onStream = (stream: http2.ClientHttp2Stream, requestHeaders: http2.IncomingHttpHeaders) => {
      events.push(`promise ${requestHeaders[':path']}`);
      const pushed: PushedResponse = { request: requestHeaders, body: '' };
      pushes.push(pushed);
      stream.setEncoding('utf8');
      stream.on('push', (responseHeaders) => {
        pushed.status = Number(responseHeaders[':status']);
        pushed.headers = responseHeaders;
      });
      stream.on('data', (chunk: string) => (pushed.body += chunk));
      stream.on('trailers', (trailers) => (pushed.trailers = trailers));
      pending.push(new Promise((done) => stream.on('close', done)));
      stream.on('error', () => undefined);
    };
    session.on('stream', onStream);
    const request = session.request({ ':path': path, ...headers });
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let body = '';
    request.setEncoding('utf8');
    request.on('headers', (h) => events.push(`interim ${h[':status']}`));
    request.on('response', (h) => {
      events.push('response');
      status = Number(h[':status']);
      responseHeaders = h;
    });
    request.on('data', (chunk: string) => (body += chunk));
    request.on('error', reject);
    request.on('end', () => {
      setImmediate(async () => {
        await Promise.all(pending);
        session.off('stream', onStream);
        resolve({ status, headers: responseHeaders, body, pushes, events });
      });
    });
  });
}

export function pushedPaths(page: PageResponse): string[] {
  return page.pushes.map((p) => String(p.request[':path']));
}

export interface H2Exchange {
  /** Status of every response header block, interim (1xx) ones first, e.g. `['103', '200']`. */
  events: string[];
  interim: http2.IncomingHttpHeaders[];
  final: http2.IncomingHttpHeaders;
  body: string;
  /** `performance.now()` when the request was sent, each interim response and the final headers arrived. */
  at: { sent: number; interim: number[]; response: number };
}

/** An HTTP/2 GET that records every interim (1xx) response and the final one, in order, with arrival times. */
export function h2Exchange(session: http2.ClientHttp2Session, path: string): Promise<H2Exchange> {
  return new Promise((resolve, reject) => {
    const events: string[] = [];
    const interim: http2.IncomingHttpHeaders[] = [];
    const at: H2Exchange['at'] = { sent: performance.now(), interim: [], response: 0 };
    let final: http2.IncomingHttpHeaders = {};
    let body = '';
    const request = session.request({ ':path': path });
    request.on('headers', (headers) => {
      at.interim.push(performance.now());
      events.push(String(headers[':status']));
      interim.push(headers);
    });
    request.on('response', (headers) => {
      at.response = performance.now();
      events.push(String(headers[':status']));
      final = headers;
    });
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve({ events, interim, final, body, at }));
    request.on('error', reject);
  });
}
