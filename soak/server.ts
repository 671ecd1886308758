/**
 * The soak server, in its own process (forked with --expose-gc): `{ type: 'ready', port }`, then answers
 * `snapshot` (push counters, memory after GC, active resources, error counters) until `stop`.
 * Uncaught exceptions and unhandled rejections are counted and reported, not fatal, so that the parent
 * sees them all; a crash is the process exiting before `stop`.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Http2Server, Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { writeHeapSnapshot } from 'node:v8';
import { PushMonitor } from '../src';
import { counters, countingLogger, soakModule } from './app';
import type { FromServer, ServerSnapshot, ToServer } from './protocol';

const uncaughtExceptions: string[] = [];
const unhandledRejections: string[] = [];
const warnings: Record<string, number> = {};
const sessionErrors: Record<string, number> = {};
const completedByStatus: Record<string, number> = {};
const describeError = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 300);
/** With where it was thrown: an uncaught exception is only useful with the call that raised it. */
const describeUncaught = (error: unknown) => `${describeError(error)}${error instanceof Error ? ` at ${(error.stack ?? '').split('\n').slice(1, 7).map((line) => line.trim()).join(' < ')}` : ''}`.slice(0, 1200);

process.on('uncaughtException', (error) => void uncaughtExceptions.push(describeUncaught(error)));
process.on('unhandledRejection', (reason) => void unhandledRejections.push(describeUncaught(reason)));
process.on('warning', (warning) => void (warnings[warning.name] = (warnings[warning.name] ?? 0) + 1));

const send = (message: FromServer) => process.send!(message);

async function main(): Promise<void> {
  // Fastify's idle timeout for HTTP/2 sessions (default 72 s): see closedSessionsReachable.
  const http2SessionTimeout = Number(process.env.SOAK_SESSION_TIMEOUT_MS ?? 5000);
  const app = await NestFactory.create<NestFastifyApplication>(soakModule(), new FastifyAdapter({ http2: true, http2SessionTimeout }), {
    logger: countingLogger,
    abortOnError: false,
  });
  app.get(PushMonitor).events$.subscribe((event) => {
    if (event.type === 'completed') completedByStatus[event.status] = (completedByStatus[event.status] ?? 0) + 1;
  });
  const server = app.getHttpServer() as unknown as Http2Server;
  let openSessions = 0;
  let sessions = 0;
  const closedSessions = new Set<WeakRef<Http2Session>>();
  server.on('session', (session: Http2Session) => {
    openSessions++;
    sessions++;
    session.once('close', () => {
      openSessions--;
      closedSessions.add(new WeakRef(session));
    });
  });
  server.on('sessionError', (error: NodeJS.ErrnoException) => {
    const code = error.code ?? error.name;
    sessionErrors[code] = (sessionErrors[code] ?? 0) + 1;
  });
  await app.listen(0, '127.0.0.1');
  const monitor = app.get(PushMonitor);

  const snapshot = async (gc: boolean): Promise<ServerSnapshot> => {
    const collect = (globalThis as { gc?: () => void }).gc;
    const collected = gc && typeof collect === 'function';
    if (collected) {
      // Several full collections with turns of the event loop between: closed streams and sockets let go
      // of what they hold in later ticks (weak callbacks, FinalizationRegistry).
      for (let i = 0; i < 3; i++) {
        collect!();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    for (const ref of closedSessions) if (ref.deref() === undefined) closedSessions.delete(ref);
    const resources: Record<string, number> = {};
    for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
    return {
      stats: monitor.stats(),
      completedByStatus: { ...completedByStatus },
      memory: process.memoryUsage(),
      gc: collected,
      resources,
      openSessions,
      sessions,
      closedSessionsReachable: closedSessions.size,
      pages: counters.pages,
      pushedHandled: counters.pushedHandled,
      flakyThrows: counters.flakyThrows,
      slowPending: counters.slowPending,
      errorLogs: counters.errorLogs,
      errorSamples: [...counters.errorSamples],
      sessionErrors: { ...sessionErrors },
      uncaughtExceptions: [...uncaughtExceptions],
      unhandledRejections: [...unhandledRejections],
      warnings: { ...warnings },
    };
  };

  process.on('message', (message: ToServer) => {
    if (message.type === 'snapshot') {
      void snapshot(message.gc).then((s) => send({ type: 'snapshot', id: message.id, snapshot: s }));
    } else if (message.type === 'heap-snapshot') {
      void snapshot(true).then((s) => {
        writeHeapSnapshot(message.file);
        send({ type: 'snapshot', id: message.id, snapshot: s });
      });
    } else if (message.type === 'stop') {
      const timer = setTimeout(() => process.exit(0), 3000);
      void app.close().finally(() => {
        clearTimeout(timer);
        process.exit(0);
      });
    }
  });
  // The parent going away must not leave a server behind.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
}

main().catch((error: unknown) => {
  send({ type: 'fatal', error: describeError(error) });
  process.exit(1);
});
