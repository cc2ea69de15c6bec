import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/** One request a receiver got: its headers and raw body. */
export interface Received {
  headers: Record<string, string>;
  body: string;
  /** performance.now() when the body was complete. */
  at: number;
}

/**
 * A webhook receiver on loopback keeping every request it gets. It answers 200 at once unless told
 * otherwise: `answers` are the HTTP statuses to answer with, in turn (the last repeats; 0: never
 * answer, so the sender times out; -1: close the connection without an answer), each after
 * `delayMs` milliseconds, with `answerBody` (default: `ok`, or `receiver error` for a failure).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  /** The status to answer each request with, in turn; the last repeats. 0: never answer. */
  answers: number[] = [200];
  /** Milliseconds to wait before answering. */
  delayMs = 0;
  /** The body of every answer, when set. */
  answerBody: string | null = null;
  /** TCP connections opened to it so far. */
  connections = 0;
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() });
        const status = this.answers.length > 1 ? this.answers.shift()! : this.answers[0]!;
        if (status === 0) return; // hang: the sender times out or dies
        if (status === -1) return void req.socket.destroy();
        const answer = () => res.writeHead(status, { 'content-type': 'text/plain' }).end(this.answerBody ?? (status === 200 ? 'ok' : 'receiver error'));
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    this.server.on('connection', () => { this.connections++; });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  /** The events received, parsed: `{ id, type, timestamp, data }`. */
  events(): { id: string; type: string; timestamp: string; data: Record<string, unknown> }[] {
    return this.received.map((r) => JSON.parse(r.body));
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
