import * as http from 'node:http';
import * as https from 'node:https';

export interface Http1Exchange {
  /** Every status line the client read, interim (1xx) ones first, e.g. `[103, 200]`. */
  statuses: number[];
  /** The headers of each interim response, in order. */
  interim: http.IncomingHttpHeaders[];
  /** The final response's status and headers. */
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** `performance.now()` when each interim response and the final headers arrived, and when the body ended. */
  at: { interim: number[]; response: number; end: number };
}

/**
 * One HTTP/1.1 request (a GET, or a POST of `body` as JSON) with `node:http` or `node:https` (by the URL;
 * certificates are not verified), recording every interim response (the `'information'` event) and the
 * final one, in order. A fresh connection each time (no agent), so nothing is shared between requests.
 */
export function http1Exchange(url: string, headers: http.OutgoingHttpHeaders = {}, body?: unknown): Promise<Http1Exchange> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const statuses: number[] = [];
    const interim: http.IncomingHttpHeaders[] = [];
    const at: Http1Exchange['at'] = { interim: [], response: 0, end: 0 };
    const json = body === undefined ? undefined : JSON.stringify(body);
    const method = json === undefined ? 'GET' : 'POST';
    const allHeaders = json === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) };
    const request = client.request(url, { method, headers: allHeaders, agent: false, rejectUnauthorized: false }, (response) => {
      at.response = performance.now();
      statuses.push(response.statusCode ?? 0);
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        at.end = performance.now();
        resolve({ statuses, interim, status: response.statusCode ?? 0, headers: response.headers, body, at });
      });
      response.on('error', reject);
    });
    request.on('information', (info) => {
      at.interim.push(performance.now());
      statuses.push(info.statusCode);
      interim.push(info.headers);
    });
    request.on('error', reject);
    request.end(json);
  });
}
