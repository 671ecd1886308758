import { userInfo } from 'node:os';
import { join } from 'node:path';
import { startEdge, versionOf, type Edge } from './edge-process';

export type H2oEdge = Edge;

const H2O = { command: 'h2o', debianPackage: 'h2o' };

/** `h2o --version`, first line; rejects with an install hint when the binary is missing. */
export function h2oVersion(): Promise<string> {
  return versionOf(H2O, ['--version']);
}

/**
 * Starts Debian's h2o (package `h2o`) as a TLS HTTP/2 reverse proxy on a free loopback port, in front of
 * `upstream` (an `https://` origin that speaks HTTP/1.1; its certificate is not verified). Directives:
 * listen (host, port, ssl with ocsp-update-interval: 0), num-threads: 1, hosts/paths, proxy.reverse.url,
 * proxy.ssl.verify-peer: OFF. http2-push-preload is left at its default (ON). A missing binary rejects:
 * the test fails, it does not skip.
 */
export function startH2o(upstream: string, tls: { key: string; cert: string }, timeoutMs = 10_000): Promise<H2oEdge> {
  return startEdge(
    {
      ...H2O,
      args: (dir) => ['-c', join(dir, 'h2o.conf')],
      files: (dir, port) => ({
        'key.pem': tls.key,
        'cert.pem': tls.cert,
        // Started as root, h2o switches to `nobody` unless told otherwise; stay who we are.
        'h2o.conf': `${process.getuid?.() === 0 ? `user: ${userInfo().username}\n` : ''}listen:
  host: 127.0.0.1
  port: ${port}
  ssl:
    certificate-file: ${join(dir, 'cert.pem')}
    key-file: ${join(dir, 'key.pem')}
    ocsp-update-interval: 0
num-threads: 1
hosts:
  default:
    paths:
      /:
        proxy.reverse.url: ${upstream}/
        proxy.ssl.verify-peer: OFF
`,
      }),
    },
    timeoutMs,
  );
}
