import { generate } from 'selfsigned';

let cached: Promise<{ key: string; cert: string }> | undefined;

/** A self-signed certificate for localhost, made once per test file. */
export function testCertificate(): Promise<{ key: string; cert: string }> {
  cached ??= Promise.resolve(
    generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    } as never),
  ).then((pems: { private: string; cert: string }) => ({ key: pems.private, cert: pems.cert }));
  return cached;
}
