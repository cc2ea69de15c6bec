import { fork } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { Server, Socket, createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';

/**
 * Three webhook receivers on loopback for the bench's phase (f), in a child process of their own so
 * the load generator's event loop does not delay them: each answers 200 at once, then records the
 * delivery lag, now − the event's `timestamp` (its commit, within the posting's last milliseconds),
 * in ms, once an event a receiver (a delivery sent again is counted as a duplicate, a body without an id
 * or a timestamp as unreadable). The parent (forkReceivers) asks over IPC: 'count' → { count (deliveries
 * received for the first time since the last reset), duplicates, unreadable, cpuMicros } (this
 * process's CPU so far, µs), 'report' → { lags }, 'reset' → { lags: [] } (starts the counts and lags
 * afresh; the deliveries already seen are still known, so one sent again is a duplicate).
 *
 * A receiver elsewhere costs the hub's machine nothing; here the receivers share its two cores with
 * the hub, PostgreSQL and the load generator, so whatever they spend is charged to (f). They are
 * therefore a minimal HTTP/1.1 responder on node:net (BENCH_RECEIVERS=node-http: node:http's server,
 * as before): requests framed by Content-Length or chunked, kept alive and pipelined, the answers to
 * one read written together (a receiver answering each request as it comes would write more often;
 * the hub's worker CPU a delivery measured the same with either receiver). Measured (bench/webhook-cost.ts):
 * the receivers' CPU a delivery 45–50 µs with node:http, 12–13 µs with this one, side by side; with
 * the duplicate count, on a noisier box later, 67 µs against 20–26.
 */
const lags: number[] = [];
/**
 * `<receiver>:<event id>` of every delivery received (the body's id is the event's, the same at each
 * receiver), kept across resets: a delivery sent again, even one from before a reset, counts once.
 */
const ids = new Set<string>();
/** Since the last reset: deliveries received for the first time, again, and bodies without an id or a timestamp. */
let fresh = 0;
let duplicates = 0;
let unreadable = 0;

/** Records one delivery to receiver `receiver` (0–2) from its body (Standard Webhooks payload: { id, type, timestamp, data }): its lag, once an event a receiver. */
function received(receiver: number, body: string): void {
  const at = Date.now();
  let payload: { id?: unknown; timestamp?: unknown };
  try {
    payload = JSON.parse(body) as { id?: unknown; timestamp?: unknown };
  } catch {
    unreadable++;
    return;
  }
  const sent = typeof payload.timestamp === 'string' ? Date.parse(payload.timestamp) : Number.NaN;
  if (typeof payload.id !== 'string' || !Number.isFinite(sent)) {
    unreadable++;
    return;
  }
  const key = `${receiver}:${payload.id}`;
  if (ids.has(key)) {
    duplicates++;
    return;
  }
  ids.add(key);
  fresh++;
  lags.push(at - sent);
}

const OK = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\nok');
const OK_CLOSE = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
const BAD = Buffer.from('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** What parseRequests found at the start of a connection's unread bytes. */
export interface Parsed {
  /** The complete requests' bodies (UTF-8), in order. */
  bodies: string[];
  /** How many bytes they took; the rest is a request still arriving. */
  used: number;
  /** The last complete request asked to close the connection (nothing after it is read). */
  close: boolean;
  /** A request that cannot be framed came after them (the connection is answered 400 and closed). */
  bad: boolean;
}

/**
 * The complete HTTP/1.1 requests at the start of `data` (RFC 9112 §6: chunked framing wins over a
 * Content-Length; a request with neither has no body). A request still arriving is left for the
 * next read; parsing stops after a request with `Connection: close`, or at one it cannot frame.
 */
export function parseRequests(data: Buffer): Parsed {
  const bodies: string[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf(HEADERS_END, at);
    if (end < 0) return { bodies, used: at, close: false, bad: false };
    const head = data.toString('latin1', at, end);
    const close = /\r\nconnection:[ \t]*close/i.test(head);
    let body: string;
    let next: number;
    if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
      const chunks: Buffer[] = [];
      let p = end + 4;
      let done = false;
      for (;;) {
        const line = data.indexOf(CRLF, p);
        if (line < 0) break;
        const size = parseInt(data.toString('latin1', p, line), 16); // a chunk extension (";…") is ignored
        if (!Number.isFinite(size) || size < 0) return { bodies, used: at, close: false, bad: true };
        if (size === 0) {
          const last = data.indexOf(HEADERS_END, line); // after the trailers, if any
          if (last >= 0) { p = last + 4; done = true; }
          break;
        }
        if (data.length < line + 2 + size + 2) break;
        chunks.push(data.subarray(line + 2, line + 2 + size));
        p = line + 2 + size + 2;
      }
      if (!done) return { bodies, used: at, close: false, bad: false };
      body = Buffer.concat(chunks).toString('utf8');
      next = p;
    } else {
      const length = /\r\ncontent-length:[ \t]*(\d+)[ \t]*(?:\r|$)/i.exec(head);
      if (!length && /\r\ncontent-length:/i.test(head)) return { bodies, used: at, close: false, bad: true };
      next = end + 4 + (length ? Number(length[1]) : 0);
      if (data.length < next) return { bodies, used: at, close: false, bad: false };
      body = data.toString('utf8', end + 4, next);
    }
    bodies.push(body);
    at = next;
    if (close) return { bodies, used: at, close: true, bad: false };
  }
}

function netReceiver(receiver: number): Server {
  return createNetServer((socket: Socket) => {
    socket.setNoDelay(true);
    let pending: Buffer | undefined;
    socket.on('data', (chunk: Buffer) => {
      const data = pending ? Buffer.concat([pending, chunk]) : chunk;
      const parsed = parseRequests(data);
      pending = parsed.used < data.length ? data.subarray(parsed.used) : undefined;
      const answers = parsed.bodies.map((_, i) => (parsed.close && i === parsed.bodies.length - 1 ? OK_CLOSE : OK));
      if (parsed.bad) answers.push(BAD);
      if (answers.length) socket.write(answers.length === 1 ? answers[0]! : Buffer.concat(answers));
      for (const body of parsed.bodies) received(receiver, body);
      if (parsed.close || parsed.bad) {
        pending = undefined;
        socket.removeAllListeners('data');
        socket.end();
      }
    });
    socket.on('error', () => undefined);
  });
}

function httpReceiver(receiver: number): Server {
  return createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      received(receiver, body);
    });
  });
}

if (require.main === module) {
  const servers = [0, 1, 2].map((i) => (process.env.BENCH_RECEIVERS === 'node-http' ? httpReceiver(i) : netReceiver(i)));
  void Promise.all(servers.map((s) => new Promise<number>((ready) => s.listen(0, '127.0.0.1', () => ready((s.address() as AddressInfo).port)))))
    .then((ports) => process.send!({ ports }));
  process.on('message', (message) => {
    if (message === 'count') {
      const cpu = process.cpuUsage();
      process.send!({ count: fresh, duplicates, unreadable, cpuMicros: cpu.user + cpu.system });
    }
    if (message === 'report') process.send!({ lags });
    if (message === 'reset') {
      lags.length = 0;
      fresh = 0;
      duplicates = 0;
      unreadable = 0;
      process.send!({ lags });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/** The receivers' counts (see the module's docstring). */
export interface ReceiverCounts {
  count: number;
  duplicates: number;
  unreadable: number;
  cpuMicros: number;
}

/** The receivers running in a child process: their ports, a question over IPC, and how to stop them. */
export interface Receivers {
  ports: number[];
  /** Asks 'count', 'report' or 'reset'; rejects after `timeoutMs` (default 30 s) or if the child has exited. */
  ask<T>(message: 'count' | 'report' | 'reset', timeoutMs?: number): Promise<T>;
  stop(): void;
}

/** Starts the three receivers in a child process (this module's compiled file) and waits for their ports. */
export async function forkReceivers(): Promise<Receivers> {
  const child = fork(resolve(__dirname, 'webhook-receivers.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let exited: Error | undefined;
  const failures = new Set<(error: Error) => void>();
  child.once('exit', (code, signal) => {
    exited = new Error(`bench: the webhook receivers exited (${signal ?? code})`);
    for (const fail of failures) fail(exited);
  });
  /** The child's next message, or a rejection on exit or after `timeoutMs`. */
  const next = <T>(timeoutMs: number, send?: string) => new Promise<T>((answer, reject) => {
    if (exited) return reject(exited);
    const done = (error?: Error, message?: unknown) => {
      clearTimeout(timer);
      failures.delete(fail);
      child.off('message', onMessage);
      if (error) reject(error); else answer(message as T);
    };
    const fail = (error: Error) => done(error);
    const onMessage = (message: unknown) => done(undefined, message);
    const timer = setTimeout(() => done(new Error(`bench: the webhook receivers did not answer ${send ?? 'with their ports'} within ${timeoutMs} ms`)), timeoutMs);
    failures.add(fail);
    child.once('message', onMessage);
    if (send) child.send(send);
  });
  const { ports } = await next<{ ports: number[] }>(30_000);
  return {
    ports,
    ask: <T>(message: string, timeoutMs = 30_000) => next<T>(timeoutMs, message),
    stop() {
      if (child.connected) child.disconnect();
      child.kill('SIGTERM');
    },
  };
}
