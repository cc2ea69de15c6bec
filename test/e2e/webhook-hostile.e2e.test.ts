import { Server as HttpServer, createServer as createHttpServer } from 'node:http';
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { ManualClock } from '../../src/common/clock';
import { createLogger } from '../../src/common/logger';
import { fanOut, runWebhookTick, settleLateAttempts } from '../../src/modules/webhook/webhook.worker';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { inTransaction } from '../../src/db/transaction';
import { ok } from '../../src/api/errors';
import { recordEvents } from '../../src/modules/webhook/webhook.store';
import { TestHub } from '../support/hub';
import { webhookTestLifecycle } from '../support/webhook-lifecycle';
import { ledgerCheck } from '../support/scenario';
import { onPipelinedRequests } from '../support/pipelined-requests';

/**
 * Webhook delivery against hostile receivers: raw TCP servers on loopback that answer the hub's POSTs
 * the way a broken or malicious receiver would (endless bodies, 1xx storms, huge headers, resets,
 * redirects). Each attempt must end within the 10 s deadline, be recorded once, with what was seen.
 */
let hub: TestHub;
let clock: ManualClock;
const log = createLogger('silent');
const worker = { allowPrivate: true, log, random: () => 0.5, directWaitMs: 15_000, roundMs: 0 };
const servers: Server[] = [];
const httpServers: HttpServer[] = [];

/** A raw receiver: `answer` is called once per complete request (headers + content-length body), with the request's index. */
async function rawReceiver(answer: (socket: Socket, n: number, head: string) => void): Promise<{ url: string; requests: string[]; connections: number }> {
  const state = { url: '', requests: [] as string[], connections: 0 };
  const server = createServer((socket) => {
    state.connections++;
    socket.on('error', () => undefined);
    onPipelinedRequests(socket, (head) => {
      state.requests.push(head);
      answer(socket, state.requests.length, head);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return state;
}

const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } userErrors { code message } } }`;
const TEST = 'mutation($id: ID!) { sendTestWebhook(input: { endpointId: $id }) { delivery { id } userErrors { code } } }';

async function endpointFor(url: string): Promise<string> {
  const res = await hub.gql(CREATE, { input: { url, eventTypes: ['*'] } }, hub.admin);
  expect(res.data.createWebhookEndpoint.userErrors).toEqual([]);
  return res.data.createWebhookEndpoint.endpoint.id;
}

async function attemptsOf(endpointId: string): Promise<{ status_code: number | null; error: string | null; response_excerpt: string | null }[]> {
  // A first attempt made at fan-out is in its delivery's row (first_*), the others in webhook_attempt.
  return hub.db.query(`SELECT status_code, error, response_excerpt FROM (
      SELECT d.first_at AS at, 1 AS n, d.first_status_code AS status_code, d.first_error AS error, d.first_response_excerpt AS response_excerpt
      FROM webhook_delivery d WHERE d.endpoint_id = $1 AND d.first_at IS NOT NULL
      UNION ALL SELECT a.at, a.n, a.status_code, a.error, a.response_excerpt FROM webhook_attempt a JOIN webhook_delivery d ON d.id = a.delivery_id WHERE d.endpoint_id = $1) x
    ORDER BY at, n`, [endpointId]);
}

/** Sends one test event to a new endpoint at `url`, runs a tick; returns the attempts recorded and how long the tick took (ms). */
async function oneDelivery(url: string, options = worker) {
  const id = await endpointFor(url);
  await hub.gql(TEST, { id }, hub.admin);
  const started = performance.now();
  await runWebhookTick(hub.db, options);
  return { id, ms: performance.now() - started, attempts: await attemptsOf(id) };
}

webhookTestLifecycle('Hostile', (h) => { hub = h; }, (c) => { clock = c; });
afterAll(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
  for (const s of servers) s.close();
  for (const s of httpServers) { s.closeAllConnections(); s.close(); }
  await hub.close();
});

it('an endless chunked answer: read up to 16 KB, the connection closed, its 200 stands, quickly', async () => {
  const r = await rawReceiver((socket) => {
    socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
    const pump = () => { while (!socket.destroyed && socket.write(`400\r\n${'z'.repeat(1024)}\r\n`)); if (!socket.destroyed) socket.once('drain', pump); };
    pump();
  });
  const { ms, attempts } = await oneDelivery(r.url);
  expect(attempts).toEqual([{ status_code: 200, error: null, response_excerpt: 'z'.repeat(200) }]);
  expect(ms).toBeLessThan(3_000);
});

it('a storm of 1xx answers and then a 204: delivered, the final status recorded', async () => {
  const r = await rawReceiver((socket) => {
    socket.write('HTTP/1.1 102 Processing\r\n\r\n'.repeat(2_000));
    socket.write('HTTP/1.1 204 No Content\r\n\r\n');
  });
  const { attempts } = await oneDelivery(r.url);
  expect(attempts).toEqual([{ status_code: 204, error: null, response_excerpt: '' }]);
});

it('a redirect is a failure, not followed; huge headers and a reset mid-answer are failures without a status', async () => {
  const redirect = await rawReceiver((socket) => socket.write('HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n'));
  expect((await oneDelivery(redirect.url)).attempts).toEqual([{ status_code: 302, error: 'HTTP 302', response_excerpt: '' }]);
  expect(redirect.requests).toHaveLength(1);
  const huge = await rawReceiver((socket) => socket.write(`HTTP/1.1 200 OK\r\nx-big: ${'h'.repeat(100_000)}\r\ncontent-length: 2\r\n\r\nok`));
  expect((await oneDelivery(huge.url)).attempts).toEqual([expect.objectContaining({ status_code: null, error: expect.stringMatching(/^UND_ERR_HEADERS_OVERFLOW/) })]);
  const reset = await rawReceiver((socket) => { socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhalf'); setTimeout(() => socket.resetAndDestroy(), 50); });
  expect((await oneDelivery(reset.url)).attempts).toEqual([expect.objectContaining({ status_code: null, error: expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET)/) })]);
});

it('a name that resolves to loopback is not connected to when private addresses are not allowed (the lookup is still checked)', async () => {
  const r = await rawReceiver((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
  const { attempts } = await oneDelivery(r.url.replace('127.0.0.1', 'localhost'), { ...worker, allowPrivate: false });
  expect(attempts).toEqual([expect.objectContaining({ status_code: null, error: expect.stringMatching(/^not sent: localhost resolves to/) })]);
  expect(r.connections).toBe(0);
});

it('a slowloris answer (a byte a second) ends at the 10 s deadline as a timeout', async () => {
  const r = await rawReceiver((socket) => {
    const head = 'HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n';
    let i = 0;
    const drip = setInterval(() => { if (socket.destroyed || i >= head.length) clearInterval(drip); else socket.write(head[i++]!); }, 500);
  });
  const { ms, attempts } = await oneDelivery(r.url);
  expect(attempts).toEqual([{ status_code: null, error: 'no answer within 10 s', response_excerpt: null }]);
  expect(ms).toBeGreaterThanOrEqual(9_900);
  expect(ms).toBeLessThan(13_000);
}, 30_000);

it('an answer whose status came but whose body trickles past the 10 s deadline: a failure that keeps its status and what came of the body', async () => {
  const r = await rawReceiver((socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nslow');
    const drip = setInterval(() => { if (socket.destroyed) clearInterval(drip); else socket.write('.'); }, 1_000);
  });
  const { ms, attempts } = await oneDelivery(r.url);
  expect(attempts).toEqual([{ status_code: 200, error: 'answer not complete within 10 s', response_excerpt: expect.stringMatching(/^slow\.{8,10}$/) }]);
  expect(ms).toBeGreaterThanOrEqual(9_900);
  expect(ms).toBeLessThan(13_000);
}, 30_000);

it('an endpoint that never answers does not make another endpoint on the same host time out (requests pipelined behind it)', async () => {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => { if (req.url !== '/hang') res.writeHead(200).end('ok'); });
  });
  httpServers.push(server);
  const requests: string[] = [];
  server.on('request', (req) => requests.push(req.url!));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fast = await endpointFor(`${base}/fast`);
  // A kept-alive connection to the host, as a busy hub has.
  await hub.gql(TEST, { id: fast }, hub.admin);
  await runWebhookTick(hub.db, worker);
  const hang = await endpointFor(`${base}/hang`);
  await hub.gql(TEST, { id: hang }, hub.admin);
  // Its claim waits for the answer (10 s at most); meanwhile another claim sends to the other endpoint.
  const hanging = runWebhookTick(hub.db, worker);
  while (!requests.includes('/hang')) await new Promise((r) => setTimeout(r, 10));
  await hub.gql(TEST, { id: fast }, hub.admin);
  const started = performance.now();
  await runWebhookTick(hub.db, worker);
  const fastMs = performance.now() - started;
  await hanging;
  await settleLateAttempts(hub.db);
  expect((await attemptsOf(hang)).map((a) => a.error)).toEqual(['no answer within 10 s']);
  expect((await attemptsOf(fast)).map((a) => [a.status_code, a.error])).toEqual([[200, null], [200, null]]);
  expect(fastMs).toBeLessThan(2_000);
}, 30_000);

it('an unsolicited extra answer after each real one: every delivery is recorded once, with its own answer', async () => {
  const r = await rawReceiver((socket, n) => socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nok-${n % 10}HTTP/1.1 500 Extra\r\ncontent-length: 5\r\n\r\nextra`));
  const id = await endpointFor(r.url);
  for (let i = 0; i < 3; i++) await hub.gql(TEST, { id }, hub.admin);
  await runWebhookTick(hub.db, worker);
  await hub.gql(TEST, { id }, hub.admin);
  await runWebhookTick(hub.db, worker);
  const attempts = await attemptsOf(id);
  expect(attempts).toHaveLength(4);
  expect(attempts.every((a) => a.status_code === 200 && a.error === null && /^ok-\d$/.test(a.response_excerpt!))).toBe(true);
  expect(r.requests).toHaveLength(4);
});

/**
 * Runs `body` with the port of a listening socket that never accepts, its backlog full: a new
 * connection stays half-open, as to a host that drops SYNs. (Node accepts every connection itself,
 * so python3, which the machine has.)
 */
async function withHostThatNeverAccepts(body: (port: number) => Promise<void>): Promise<void> {
  const listener = spawn('python3', ['-c', 'import socket, sys, time\ns = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)\nprint(s.getsockname()[1], flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const fillers: Socket[] = [];
  try {
    const port = Number(await new Promise<string>((res) => listener.stdout!.once('data', (d: Buffer) => res(d.toString().trim()))));
    fillers.push(...[0, 1, 2].map(() => connect(port, '127.0.0.1').on('error', () => undefined))); // the backlog
    await new Promise((res) => setTimeout(res, 200));
    await body(port);
  } finally {
    for (const f of fillers) f.destroy();
    listener.kill('SIGKILL');
  }
}

it('a receiver host that does not take the connection within the fan-out\'s wait: the request, never written, is withdrawn — its delivery waits in the queue due now, not leased, and the endpoint is not counted slow', async () => {
  await withHostThatNeverAccepts(async (port) => {
    const endpointId = await endpointFor(`http://127.0.0.1:${port}/hooks`);
    const event = (memberId: string) => inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{ memberId, type: 'tier.changed', occurredAt: clock.now(), partnerIds: [], affiliateIds: [], data: {}, views: {} }])));
    await event('0190a0a0-0000-7000-8000-0000000000f1');
    expect(await fanOut(hub.db, { ...worker, directWaitMs: 300 })).toEqual({ taken: 1, attempted: 0 });
    const rows = await hub.db.query(`SELECT status, attempt_count, next_attempt_at FROM webhook_delivery WHERE endpoint_id = $1`, [endpointId]);
    expect(rows).toEqual([{ status: 'PENDING', attempt_count: 0, next_attempt_at: clock.now() }]); // due now: no lease
    expect(await attemptsOf(endpointId)).toEqual([]);
    // Not counted slow: another member's event is tried at fan-out again (the fan-out waits for it), not queued at once.
    await event('0190a0a0-0000-7000-8000-0000000000f2');
    const started = performance.now();
    expect(await fanOut(hub.db, { ...worker, directWaitMs: 300 })).toEqual({ taken: 1, attempted: 0 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });
}, 30_000);

it('review5: on the claim path, requests to a host that never takes the connection all end at the 10 s deadline (the sweep), not at the connect backstop a second later', async () => {
  await withHostThatNeverAccepts(async (port) => {
    const id = await endpointFor(`http://127.0.0.1:${port}/hooks`);
    for (let i = 0; i < 3; i++) await hub.gql(TEST, { id }, hub.admin); // test events: the queue (claims), never the fan-out
    const started = performance.now();
    await runWebhookTick(hub.db, worker);
    const ms = performance.now() - started;
    expect((await attemptsOf(id)).map((a) => a.error)).toEqual(['no answer within 10 s', 'no answer within 10 s', 'no answer within 10 s']);
    expect(ms).toBeGreaterThanOrEqual(9_900);
    expect(ms).toBeLessThan(10_900);
  });
}, 30_000);
