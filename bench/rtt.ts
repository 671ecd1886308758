/**
 * Part 3: time for a client on an already-connected session to have a page and its assets through a
 * proxy adding a 50 ms RTT: pushed, fetched after the page body, fetched on the 103 Early Hints.
 */
import type * as http2 from 'node:http2';
import { BODY_LENGTHS, PAGE_PATH, SHAPE_ASSETS, type Shape } from './assets';
import { forkChild, type Child } from './ipc';
import { bareRequest, connectVia, pageThenAssets, pageWithEarlyHints, pageWithPushes } from './latency';
import { fmt, log, median, quantile, startServer, stopServer, table, type Server } from './measure';

const RTT_MS = 50;
const RATE = 1_000_000; // bytes/s (8 Mbit/s) for the bandwidth-limited latency rows
/** The shape of the first benchmark (mixed), h2c: the proxy speaks TCP only. */
const SHAPE: Shape = 'mixed';

export interface LatencySettings {
  samples: number;
  nodeVersion: string;
}

async function startProxy(targetPort: number, rate?: number): Promise<{ child: Child; port: number }> {
  const child = forkChild('delay-proxy', [String(targetPort), String(RTT_MS), ...(rate ? [String(rate)] : [])]);
  const { port } = await child.next<{ port: number }>('ready', 10_000);
  return { child, port };
}

async function samplesOf(session: http2.ClientHttp2Session, fetch: (s: http2.ClientHttp2Session) => Promise<number>, count: number) {
  for (let i = 0; i < 3; i++) await fetch(session); // warm-up on this session
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push(await fetch(session));
  return times;
}

export async function latencySection(settings: LatencySettings): Promise<string> {
  const push = await startServer({ app: 'nest', shape: SHAPE, push: true });
  const nopush = await startServer({ app: 'nest', shape: SHAPE });
  try {
    return await latency(push, nopush, settings);
  } finally {
    await Promise.all([stopServer(push), stopServer(nopush)]);
  }
}

async function latency(push: Server, nopush: Server, settings: LatencySettings): Promise<string> {
  const LATENCY_SAMPLES = settings.samples;
  const assets = SHAPE_ASSETS[SHAPE];
  log(`3. latency through the delaying proxy (RTT ${RTT_MS} ms)`);
  const rows: string[][] = [];
  const describe = (label: string, times: number[], expectation: string) => {
    const med = median(times);
    rows.push([label, med.toFixed(1), quantile(times, 0.9).toFixed(1), (med / RTT_MS).toFixed(2), expectation]);
    return med;
  };

  // Self-check of the proxy, and the same request without it.
  const direct = await connectVia(nopush.port, false);
  describe('bare `GET /plain`, direct (no proxy)', await samplesOf(direct, bareRequest, LATENCY_SAMPLES), '≈ 0');
  direct.destroy();
  const proxies = [await startProxy(push.port), await startProxy(nopush.port), await startProxy(push.port, RATE), await startProxy(nopush.port, RATE)];
  const [pushProxy, nopushProxy, pushRated, nopushRated] = proxies;
  const bare = await connectVia(nopushProxy.port, false);
  const bareMed = describe('proxy self-check: bare `GET /plain` through the proxy', await samplesOf(bare, bareRequest, LATENCY_SAMPLES), '≈ 1 RTT');
  bare.destroy();

  const pair = async (pushPort: number, nopushPort: number, suffix: string) => {
    const withPush = await connectVia(pushPort, true);
    const without = await connectVia(nopushPort, false);
    // The PushModule server, push refused by the client: it gets a 103 naming the assets instead.
    const hinted = await connectVia(pushPort, false);
    for (let i = 0; i < 3; i++) {
      await pageWithPushes(withPush, assets);
      await pageThenAssets(without, assets);
      await pageWithEarlyHints(hinted, assets);
    }
    // Alternate the three, sample by sample.
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      a.push(await pageWithPushes(withPush, assets));
      b.push(await pageThenAssets(without, assets));
      c.push(await pageWithEarlyHints(hinted, assets));
    }
    withPush.destroy();
    without.destroy();
    hinted.destroy();
    const am = describe(`(a) page + 3 assets, pushed${suffix}`, a, '≈ 1 RTT + transfer');
    const bm = describe(`(b) page, then 3 GETs after its body${suffix}`, b, '≈ 2 RTT + transfer');
    describe(`(c) push refused: 103 Early Hints, 3 GETs on the 103${suffix}`, c, '≈ 2 RTT + transfer (no think time to hide it in)');
    return { am, bm };
  };
  const plain = await pair(pushProxy.port, nopushProxy.port, '');
  const rated = await pair(pushRated.port, nopushRated.port, `, ${RATE * 8 / 1e6} Mbit/s`);
  for (const proxy of proxies) {
    proxy.child.process.kill();
    await proxy.child.exited;
  }
  const bytes = BODY_LENGTHS[PAGE_PATH] + assets.reduce((sum, p) => sum + BODY_LENGTHS[p], 0);
  return [
    `### 3. Latency under a ${RTT_MS} ms RTT — Node ${settings.nodeVersion}`,
    '',
    `\`bench/delay-proxy\` holds every chunk ${RTT_MS / 2} ms in each direction (order kept). Measured on an **already-connected** ` +
      'HTTP/2 session (3 warm-up fetches on it first), so no TCP/TLS set-up is included; the proxy accepts the TCP connection ' +
      'locally, so it could not model the handshake RTT anyway (add 1 RTT for TCP, 1–2 for TLS, on a new connection). ' +
      `${LATENCY_SAMPLES} samples each, (a), (b) and (c) alternated. Bodies: ${bytes} B per page + assets. ` +
      'The page handler answers at once: early hints (c) can only win when the server thinks before answering (the Chromium ' +
      'test, test/browser.e2e-spec.ts, measures that with a 300 ms handler). ' +
      `The rate-limited rows add ${fmt(RATE)} B/s (${RATE * 8 / 1e6} Mbit/s) per direction, serialised by the proxy.`,
    '',
    table(['case', 'median ms', 'p90 ms', 'RTT multiples', 'expected'], rows),
    '',
    `Push saves ${(plain.bm - plain.am).toFixed(1)} ms (${((plain.bm - plain.am) / RTT_MS).toFixed(2)} RTT) per page at ${RTT_MS} ms RTT, ` +
      `${(rated.bm - rated.am).toFixed(1)} ms with the rate limit. Proxy self-check: ${bareMed.toFixed(1)} ms for a bare request ` +
      `(${(bareMed / RTT_MS).toFixed(2)} RTT).`,
  ].join('\n');
}

