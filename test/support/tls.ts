import { selfSignedCertificate } from '../../sample/main';

let cached: Promise<{ key: string; cert: string }> | undefined;

/** The sample's self-signed certificate for localhost and 127.0.0.1, made once per test file. */
export function testCertificate(): Promise<{ key: string; cert: string }> {
  cached ??= selfSignedCertificate();
  return cached;
}
