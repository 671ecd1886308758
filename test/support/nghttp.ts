import { execFile } from 'node:child_process';

/** One HTTP/2 frame as `nghttp -v` printed it, with the header block it carried. */
export interface NghttpFrame {
  direction: 'send' | 'recv';
  type: string;
  streamId: number;
  /** Payload length and flags (0x1 END_STREAM on DATA and HEADERS). */
  length: number;
  flags: number;
  headers: Record<string, string>;
  /** PUSH_PROMISE only. */
  promisedStreamId?: number;
}

/**
 * Runs the real nghttp client (package nghttp2-client). A missing binary fails the test with a clear
 * message: CI installs it, and a skipped test would hide that the wire format was never checked.
 * nghttp only warns about the sample's self-signed certificate, so no option is needed for it.
 */
export function nghttp(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('nghttp', args, { timeout: 10_000 }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        reject(new Error('nghttp not found: install nghttp2-client (apt-get install nghttp2-client) to run this test'));
      } else if (error) {
        reject(new Error(`nghttp ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

const FRAME = /^\[\s*[\d.]+\] (send|recv) (\w+) frame <length=(\d+), flags=0x([0-9a-f]+), stream_id=(\d+)>/;
/** nghttp prints a received header block as lines before its frame line; never-indexed ones as "sensitive". */
const RECV_HEADER = /^\[\s*[\d.]+\] recv \(stream_id=\d+(?:, sensitive)?\) (:?[^:\s]+): (.*)$/;
/** ...and a sent header block, like frame details, as indented lines after it. */
const DETAIL_HEADER = /^\s+(:?[^:\s]+): (.*)$/;
const PROMISED = /promised_stream_id=(\d+)/;

/** The frames of `nghttp -v` output, in wire order. */
export function parseFrames(output: string): NghttpFrame[] {
  const frames: NghttpFrame[] = [];
  let received: Record<string, string> = {};
  let current: NghttpFrame | undefined;
  for (const line of output.split('\n')) {
    let match: RegExpExecArray | null;
    if ((match = RECV_HEADER.exec(line))) {
      received[match[1]] = match[2];
    } else if ((match = FRAME.exec(line))) {
      const direction = match[1] as 'send' | 'recv';
      current = {
        direction, type: match[2], streamId: Number(match[5]), length: Number(match[3]), flags: parseInt(match[4], 16),
        headers: direction === 'recv' ? received : {},
      };
      received = {};
      frames.push(current);
    } else if (current && (match = PROMISED.exec(line))) {
      current.promisedStreamId = Number(match[1]);
    } else if (current?.direction === 'send' && current.type === 'HEADERS' && (match = DETAIL_HEADER.exec(line))) {
      current.headers[match[1]] = match[2];
    }
  }
  return frames;
}
