import { createServer as createHttpServer } from 'node:http';
import { Server, Socket, createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * Three webhook receivers on loopback for the bench's phase (f), in a child process of their own so
 * the load generator's event loop does not delay them: each answers 200 at once, then records the
 * delivery lag, now − the event's `timestamp` (its commit, within the posting's last milliseconds),
 * in ms. The parent asks over IPC: 'count' → { count, cpuMicros } (this process's CPU so far, µs), 'report' → { lags },
 * 'reset' → { lags: [] } (forgets the deliveries so far).
 *
 * A receiver elsewhere costs the hub's machine nothing; here the receivers share its two cores with
 * the hub, PostgreSQL and the load generator, so whatever they spend is charged to (f). They are
 * therefore a minimal HTTP/1.1 responder on node:net (BENCH_RECEIVERS=node-http: node:http's server,
 * as before): requests framed by Content-Length or chunked, kept alive and pipelined, the answers to
 * one read written together. Measured side by side (bench/webhook-cost.ts, two runs each): the
 * receivers' CPU a delivery 45–50 µs with node:http, 12–13 µs with this one.
 */
const lags: number[] = [];

/** Records one delivery's lag from its body (Standard Webhooks payload: { id, type, timestamp, data }). */
function received(body: string): void {
  const at = Date.now();
  try {
    lags.push(at - Date.parse((JSON.parse(body) as { timestamp: string }).timestamp));
  } catch {
    lags.push(Number.NaN);
  }
}

const OK = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\nok');
const HEADERS_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/**
 * The complete requests at the start of `data`: their bodies (UTF-8) and how many bytes they took.
 * A request still arriving is left for the next read; one this responder cannot frame (neither
 * Content-Length nor chunked, on a request with a body) throws.
 */
export function parseRequests(data: Buffer): { bodies: string[]; used: number; close: boolean } {
  const bodies: string[] = [];
  let at = 0;
  let close = false;
  for (;;) {
    const end = data.indexOf(HEADERS_END, at);
    if (end < 0) break;
    const head = data.toString('latin1', at, end);
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
    if (/\r\nconnection:[ \t]*close/i.test(head)) close = true;
    if (length) {
      const total = end + 4 + Number(length[1]);
      if (data.length < total) break;
      bodies.push(data.toString('utf8', end + 4, total));
      at = total;
    } else if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
      const chunks: Buffer[] = [];
      let p = end + 4;
      let done = false;
      for (;;) {
        const line = data.indexOf(CRLF, p);
        if (line < 0) break;
        const size = parseInt(data.toString('latin1', p, line), 16);
        if (!Number.isFinite(size)) throw new Error('bad chunk size');
        if (size === 0) {
          const last = data.indexOf(HEADERS_END, line);
          if (last === line) { p = line + 4; done = true; } else if (last > 0) { p = last + 4; done = true; } // trailers, if any, skipped
          break;
        }
        if (data.length < line + 2 + size + 2) break;
        chunks.push(data.subarray(line + 2, line + 2 + size));
        p = line + 2 + size + 2;
      }
      if (!done) break;
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      at = p;
    } else if (/^(GET|HEAD|DELETE|OPTIONS) /.test(head)) {
      bodies.push('');
      at = end + 4;
    } else throw new Error('request without Content-Length or chunked body');
  }
  return { bodies, used: at, close };
}

function netReceiver(): Server {
  return createNetServer((socket: Socket) => {
    socket.setNoDelay(true);
    let pending: Buffer | undefined;
    socket.on('data', (chunk: Buffer) => {
      const data = pending ? Buffer.concat([pending, chunk]) : chunk;
      let parsed;
      try {
        parsed = parseRequests(data);
      } catch {
        socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
        return;
      }
      pending = parsed.used < data.length ? data.subarray(parsed.used) : undefined;
      if (!parsed.bodies.length) return;
      socket.write(parsed.bodies.length === 1 ? OK : Buffer.concat(parsed.bodies.map(() => OK)));
      for (const body of parsed.bodies) if (body) received(body);
      if (parsed.close) socket.end();
    });
    socket.on('error', () => undefined);
  });
}

function httpReceiver(): Server {
  return createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      received(body);
    });
  });
}

if (process.send) {
  const servers = [0, 1, 2].map(() => (process.env.BENCH_RECEIVERS === 'node-http' ? httpReceiver() : netReceiver()));
  void Promise.all(servers.map((s) => new Promise<number>((ready) => s.listen(0, '127.0.0.1', () => ready((s.address() as AddressInfo).port)))))
    .then((ports) => process.send!({ ports }));
  process.on('message', (message) => {
    if (message === 'count') {
      const cpu = process.cpuUsage();
      process.send!({ count: lags.length, cpuMicros: cpu.user + cpu.system });
    }
    if (message === 'report') process.send!({ lags });
    if (message === 'reset') {
      lags.length = 0;
      process.send!({ lags });
    }
  });
  process.on('disconnect', () => process.exit(0));
}
