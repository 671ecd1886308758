import { join } from 'node:path';
import { startEdge, versionOf, type Edge } from './edge-process';

const HAPROXY = { command: 'haproxy', debianPackage: 'haproxy' };

/** `haproxy -v`, first line (`HAProxy version 2.6.12-1+deb12u3 ...`); rejects with an install hint when missing. */
export function haproxyVersion(): Promise<string> {
  return versionOf(HAPROXY, ['-v']);
}

/**
 * The configuration the tests run, as `docs/deployment.md` shows it: TLS and HTTP/2 (or HTTP/1.1, by ALPN)
 * to clients, HTTP/1.1 to the origin, nothing else changed from HAProxy's defaults. An `https://` origin
 * is reached over TLS without verifying its (self-signed) certificate.
 */
export function haproxyConfig(port: number, pemFile: string, upstream: string): string {
  const origin = new URL(upstream);
  const tls = origin.protocol === 'https:' ? ' ssl verify none' : '';
  return `global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend edge
  bind 127.0.0.1:${port} ssl crt ${pemFile} alpn h2,http/1.1
  default_backend origin
backend origin
  server origin ${origin.hostname}:${origin.port}${tls}
`;
}

/**
 * Starts Debian's HAProxy (package `haproxy`) in the foreground (`-db`) on a free loopback port, in front
 * of `upstream` (`http://` or `https://` origin speaking HTTP/1.1). A missing binary rejects: the test
 * fails, it does not skip.
 */
export function startHaproxy(upstream: string, tls: { key: string; cert: string }, timeoutMs = 10_000): Promise<Edge> {
  return startEdge(
    {
      ...HAPROXY,
      args: (dir) => ['-db', '-f', join(dir, 'haproxy.cfg')],
      files: (dir, port) => ({
        // `crt` takes the certificate and its key in one file; a PEM block must start on its own line.
        'site.pem': `${tls.cert.trimEnd()}\n${tls.key.trimEnd()}\n`,
        'haproxy.cfg': haproxyConfig(port, join(dir, 'site.pem'), upstream),
      }),
    },
    timeoutMs,
  );
}
