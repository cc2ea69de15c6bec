import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { Socket, createServer as createNetServer } from 'node:net';
import { resolve } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { DeliveryBodyFromEvent1764550000000 } from '../../migrations/1764550000000-DeliveryBodyFromEvent';
import { FirstAttemptInDelivery1764560000000 } from '../../migrations/1764560000000-FirstAttemptInDelivery';
import { Role } from '../../src/api/auth';
import { ManualClock, systemClock, useClock } from '../../src/common/clock';
import { createLogger } from '../../src/common/logger';
import { inTransaction } from '../../src/db/transaction';
import { ok } from '../../src/api/errors';
import { RETRY_DELAYS_MS } from '../../src/modules/webhook/webhook.rules';
import { recordEvents } from '../../src/modules/webhook/webhook.store';
import { deliverDue, fanOut, runWebhookTick, settleLateAttempts } from '../../src/modules/webhook/webhook.worker';
import { TestHub } from '../support/hub';
import { onPipelinedRequests } from '../support/pipelined-requests';
import { WebhookReceiver as Receiver } from '../support/webhook-receiver';
import { webhookTestLifecycle } from '../support/webhook-lifecycle';

/**
 * Webhooks end to end: real HTTP receivers on loopback, signatures verified with the
 * `standardwebhooks` package (a peer's implementation, not the hub's), time moved with the hub's
 * clock instead of sleeping.
 */
let hub: TestHub;
let clock: ManualClock;
const log = createLogger('silent');
// Fan-outs wait for every first attempt (up to the 10 s timeout), so a loaded machine cannot turn one into a late one.
const worker = { allowPrivate: true, log, random: () => 0.5, directWaitMs: 10_000, roundMs: 0 };
const tick = (db?: DataSource) => runWebhookTick(db ?? hub.db, worker);
const receivers: Receiver[] = [];

async function receiver(): Promise<Receiver> {
  const r = await new Receiver().start();
  receivers.push(r);
  return r;
}

const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  endpoint { id url eventTypes enabled disabledReason } secret userErrors { code message field } } }`;
const TEST = 'mutation($id: ID!) { sendTestWebhook(input: { endpointId: $id }) { delivery { id eventId status } userErrors { code } } }';
const DELIVERIES = `query($id: ID!, $status: DeliveryStatus) { webhookDeliveries(endpointId: $id, status: $status) { totalCount
  edges { node { id eventId eventType status nextAttemptAt attempts { at statusCode durationMs error responseExcerpt } } } } }`;

async function createEndpoint(token: string, url: string, eventTypes = ['*']) {
  const res = await hub.gql(CREATE, { input: { url, eventTypes, description: 'test' } }, token);
  expect(res.data.createWebhookEndpoint.userErrors).toEqual([]);
  return res.data.createWebhookEndpoint as { endpoint: { id: string }; secret: string };
}

async function deliveries(token: string, endpointId: string, status?: string) {
  const res = await hub.gql(DELIVERIES, { id: endpointId, status }, token);
  expect(res.errors).toBeUndefined();
  return res.data.webhookDeliveries.edges.map((e: { node: unknown }) => e.node) as {
    id: string; eventId: string; eventType: string; status: string; nextAttemptAt: string | null; attempts: { statusCode: number | null; error: string | null; responseExcerpt: string | null }[] }[];
}

async function createPartner(code: string): Promise<string> {
  const res = await hub.gql(`mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { message } } }`,
    { input: { code, name: code, redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' } } }, hub.admin);
  expect(res.data.createPartner.userErrors).toEqual([]);
  return res.data.createPartner.partner.id;
}

webhookTestLifecycle('Hooks', (h) => { hub = h; }, (c) => { clock = c; });
afterAll(async () => {
  for (const r of receivers) await r.stop();
  await hub.close();
});

it('a test event arrives signed (Standard Webhooks headers) and verifies with the standardwebhooks package; the delivery shows the attempt', async () => {
  const r = await receiver();
  const partner = hub.token({ role: Role.PARTNER, partnerId: await createPartner('hooks-a') });
  const { endpoint, secret } = await createEndpoint(partner, r.url);
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
  const sent = await hub.gql(TEST, { id: endpoint.id }, partner);
  expect(sent.data.sendTestWebhook.delivery.status).toBe('PENDING');
  expect(await tick()).toEqual({ fannedOut: 0, attempted: 1 });
  expect(r.received).toHaveLength(1);
  const { headers, body } = r.received[0]!;
  expect(headers['webhook-id']).toBe(sent.data.sendTestWebhook.delivery.eventId);
  expect(headers['webhook-timestamp']).toBe(String(Math.floor(clock.now().getTime() / 1000)));
  expect(new Webhook(secret).verify(body, headers)).toMatchObject({ id: headers['webhook-id'], type: 'webhook.test', data: { endpointId: endpoint.id } });
  expect(() => new Webhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(body, headers)).toThrow();
  const [delivery] = await deliveries(partner, endpoint.id);
  expect(delivery).toMatchObject({ status: 'DELIVERED', nextAttemptAt: null, attempts: [{ statusCode: 200, error: null }] });
});

it('a receiver answering 500 then 200 gets the retry 5 s later (±10%) with the same webhook-id; nothing is sent before it is due', async () => {
  const r = await receiver();
  r.answers = [500, 200];
  const { endpoint, secret } = await createEndpoint(hub.admin, r.url);
  await hub.gql(TEST, { id: endpoint.id }, hub.admin);
  await tick();
  let [delivery] = await deliveries(hub.admin, endpoint.id);
  expect(delivery).toMatchObject({ status: 'PENDING', attempts: [{ statusCode: 500, error: 'HTTP 500', responseExcerpt: 'receiver error' }] });
  expect(new Date(delivery!.nextAttemptAt!).getTime() - clock.now().getTime()).toBe(RETRY_DELAYS_MS[0]); // jitter pinned at the middle
  clock.advance(4_000);
  await tick();
  expect(r.received).toHaveLength(1);
  clock.advance(1_000);
  await tick();
  expect(r.received).toHaveLength(2);
  expect(r.received[1]!.headers['webhook-id']).toBe(r.received[0]!.headers['webhook-id']);
  expect(() => new Webhook(secret).verify(r.received[1]!.body, r.received[1]!.headers)).not.toThrow();
  [delivery] = await deliveries(hub.admin, endpoint.id);
  expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: [{ statusCode: 500 }, { statusCode: 200 }] });
});

it('an answer of a megabyte: its status stands, its first 200 characters are kept, the rest is not read; the next delivery goes out on a new connection', async () => {
  const r = await receiver();
  r.answerBody = `accepted ${'x'.repeat(300)} ${'y'.repeat(1_000_000)}`;
  const { endpoint } = await createEndpoint(hub.admin, r.url);
  for (const n of [1, 2]) {
    await hub.gql(TEST, { id: endpoint.id }, hub.admin);
    await tick();
    expect(r.received).toHaveLength(n);
  }
  // The first connection was closed unread (undici opens the next one at once, for the request it had aborted: 3).
  expect(r.connections).toBeGreaterThanOrEqual(2);
  // The owner reads the start of each answer with the attempt (responseExcerpt).
  expect((await deliveries(hub.admin, endpoint.id)).map((d) => [d.status, d.attempts])).toEqual([1, 2].map(() =>
    ['DELIVERED', [expect.objectContaining({ statusCode: 200, error: null, responseExcerpt: `accepted ${'x'.repeat(191)}` })]]));
});

it('a receiver that never answers: after 10 s the attempt is recorded as a timeout and retried with the same webhook-id; one that closes the connection, likewise', async () => {
  const r = await receiver();
  r.answers = [0, -1, 200];
  const { endpoint } = await createEndpoint(hub.admin, r.url);
  await hub.gql(TEST, { id: endpoint.id }, hub.admin);
  const started = performance.now();
  await runWebhookTick(hub.db, { ...worker, directWaitMs: 15_000 });
  expect(performance.now() - started).toBeGreaterThanOrEqual(9_900);
  let [delivery] = await deliveries(hub.admin, endpoint.id);
  expect(delivery).toMatchObject({ status: 'PENDING', attempts: [{ statusCode: null, error: 'no answer within 10 s' }] });
  for (const attempts of [2, 3]) {
    clock.advance(RETRY_DELAYS_MS[attempts - 2]! + 1_000);
    await tick();
    expect(r.received).toHaveLength(attempts);
  }
  expect(new Set(r.received.map((x) => x.headers['webhook-id'])).size).toBe(1);
  [delivery] = await deliveries(hub.admin, endpoint.id);
  expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: [{ error: 'no answer within 10 s' }, { statusCode: null, error: expect.stringMatching(/^UND_ERR_SOCKET: /) }, { statusCode: 200, error: null }] });
}, 60_000);

it('after the eighth failed attempt (~27.5 h) a delivery is FAILED; replaying failed deliveries sends the same webhook-id again', async () => {
  const r = await receiver();
  r.answers = [503];
  const { endpoint } = await createEndpoint(hub.admin, r.url);
  const since = clock.now().toISOString();
  await hub.gql(TEST, { id: endpoint.id }, hub.admin);
  for (let i = 0; i < 8; i++) {
    await tick();
    clock.advance(11 * 3_600_000);
  }
  expect(r.received).toHaveLength(8);
  const [failed] = await deliveries(hub.admin, endpoint.id);
  expect(failed).toMatchObject({ status: 'FAILED', nextAttemptAt: null });
  expect(failed!.attempts).toHaveLength(8);
  r.answers = [200];
  const replay = await hub.gql(`mutation($input: ReplayWebhookDeliveriesInput!) { replayWebhookDeliveries(input: $input) { replayed userErrors { code } } }`,
    { input: { endpointId: endpoint.id, failedSince: since } }, hub.admin);
  expect(replay.data.replayWebhookDeliveries).toEqual({ replayed: 1, userErrors: [] });
  await tick();
  expect(r.received).toHaveLength(9);
  expect(r.received[8]!.headers['webhook-id']).toBe(failed!.eventId);
  expect(await deliveries(hub.admin, endpoint.id, 'DELIVERED')).toHaveLength(1);
  expect(await deliveries(hub.admin, endpoint.id, 'FAILED')).toHaveLength(1);
});

it('an endpoint whose deliveries have all failed for 5 days is disabled with a reason; its owner re-enables it', async () => {
  const r = await receiver();
  r.answers = [500];
  const { endpoint } = await createEndpoint(hub.admin, r.url);
  for (let day = 0; day <= 5; day++) {
    await hub.gql(TEST, { id: endpoint.id }, hub.admin);
    await tick();
    clock.advance(86_400_000 + 1);
  }
  const read = async () => (await hub.gql('{ webhookEndpoints { id enabled disabledReason } }', {}, hub.admin)).data.webhookEndpoints.find((e: { id: string }) => e.id === endpoint.id);
  expect(await read()).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/^disabled: every delivery failed for 5 days .*HTTP 500/) });
  const sentBefore = r.received.length;
  await hub.gql(TEST, { id: endpoint.id }, hub.admin);
  await tick();
  expect(r.received).toHaveLength(sentBefore); // nothing goes to a disabled endpoint
  r.answers = [200];
  const enabled = await hub.gql(`mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { endpoint { enabled disabledReason } userErrors { code } } }`,
    { input: { endpointId: endpoint.id, enabled: true } }, hub.admin);
  expect(enabled.data.updateWebhookEndpoint.endpoint).toEqual({ enabled: true, disabledReason: null });
  await tick();
  expect(r.received.length).toBeGreaterThan(sentBefore);
});

it('endpoints are their owners\': a partner sees and changes only its own, an affiliate likewise, a member is refused, the operator sees all', async () => {
  const r = await receiver();
  const a = hub.token({ role: Role.PARTNER, partnerId: await createPartner('hooks-own-a') });
  const b = hub.token({ role: Role.PARTNER, partnerId: await createPartner('hooks-own-b') });
  const { endpoint } = await createEndpoint(a, r.url, ['transaction.posted']);
  const list = async (token: string) => ((await hub.gql('{ webhookEndpoints { id } }', {}, token)).data?.webhookEndpoints ?? []).map((e: { id: string }) => e.id);
  expect(await list(a)).toEqual([endpoint.id]);
  expect(await list(b)).not.toContain(endpoint.id);
  expect(await list(hub.admin)).toContain(endpoint.id);
  for (const mutation of ['sendTestWebhook(input: { endpointId: $id }) { userErrors { code } }', 'rotateWebhookSecret(input: { endpointId: $id }) { secret userErrors { code } }',
    'deleteWebhookEndpoint(input: { endpointId: $id }) { deletedId userErrors { code } }']) {
    const res = await hub.gql(`mutation($id: ID!) { ${mutation} }`, { id: endpoint.id }, b);
    expect(Object.values(res.data)[0]).toMatchObject({ userErrors: [{ code: 'NOT_FOUND' }] });
  }
  expect((await hub.gql(DELIVERIES, { id: endpoint.id }, b)).data.webhookDeliveries.totalCount).toBe(0);
  const member = await hub.gql('{ webhookEndpoints { id } }', {}, hub.token({ role: Role.MEMBER, memberId: '0190a0a0-0000-7000-8000-000000000001' }));
  expect(member.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const types = await hub.gql('{ webhookEventTypes }');
  expect(types.data.webhookEventTypes).toEqual(expect.arrayContaining(['transaction.posted', 'points.expiring', 'settlement.closed', 'commission.approved']));
  const bad = await hub.gql(CREATE, { input: { url: r.url, eventTypes: ['transaction.psoted'] } }, a);
  expect(bad.data.createWebhookEndpoint.userErrors).toEqual([{ code: 'INVALID_INPUT', message: expect.stringContaining('transaction.psoted'), field: ['input', 'eventTypes'] }]);
});

it('fan-out: each receiver gets an event only with the view written for it (two partners and an affiliate; nothing for a receiver without a view)', async () => {
  const ra = await receiver();
  const rb = await receiver();
  const rf = await receiver();
  const ro = await receiver();
  const partnerA = await createPartner('hooks-scope-a');
  const partnerB = await createPartner('hooks-scope-b');
  const affiliateId = '0190a0a0-0000-7000-8000-0000000000af';
  const a = await createEndpoint(hub.token({ role: Role.PARTNER, partnerId: partnerA }), ra.url, ['commission.created']);
  await createEndpoint(hub.token({ role: Role.PARTNER, partnerId: partnerB }), rb.url, ['*']);
  const f = await createEndpoint(hub.token({ role: Role.AFFILIATE, affiliateId }), rf.url, ['commission.created']);
  const o = await createEndpoint(hub.admin, ro.url, ['commission.created']);
  const memberId = '0190a0a0-0000-7000-8000-00000000beef';
  // An event as the posting path writes it: the operator's data, a view per receiver it names.
  await inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{
    memberId, type: 'commission.created', occurredAt: clock.now(), partnerIds: [partnerA], affiliateIds: [affiliateId],
    data: { commissionId: 'c1', memberId, partnerId: partnerA, affiliateId, amount: '1.20' },
    views: { [`partner:${partnerA}`]: { commissionId: 'c1', memberId, amount: '1.20' }, [`affiliate:${affiliateId}`]: { commissionId: 'c1', member: 'j***@e***.com', amount: '1.20' } },
  }])));
  expect(await tick()).toMatchObject({ fannedOut: 1, attempted: 3 });
  const data = (r: Receiver) => JSON.parse(r.received[0]!.body).data;
  expect(data(ra)).toEqual({ commissionId: 'c1', memberId, amount: '1.20' });
  expect(data(rf)).toEqual({ commissionId: 'c1', member: 'j***@e***.com', amount: '1.20' });
  expect(data(ro)).toMatchObject({ partnerId: partnerA, affiliateId });
  expect(rb.received).toHaveLength(0); // partner B is not named by the event
  expect(new Webhook(a.secret).verify(ra.received[0]!.body, ra.received[0]!.headers)).toBeTruthy();
  expect(() => new Webhook(f.secret).verify(ra.received[0]!.body, ra.received[0]!.headers)).toThrow();
  expect(o.endpoint.id).toBeTruthy();
});

it('receivers that see an event alike (the operator\'s endpoints, one owner\'s endpoints) get the same bytes, each signed with its own secret; other views stay apart', async () => {
  const partnerA = await createPartner('hooks-alike-a');
  const affiliateId = '0190a0a0-0000-7000-8000-0000000000a1';
  const partner = hub.token({ role: Role.PARTNER, partnerId: partnerA });
  const made = [];
  for (const [token, types] of [[hub.admin, ['commission.created']], [hub.admin, ['*']], [partner, ['commission.created']], [partner, ['*']],
    [hub.token({ role: Role.AFFILIATE, affiliateId }), ['commission.created']]] as const) {
    const r = await receiver();
    made.push({ r, endpoint: await createEndpoint(token, r.url, [...types]) });
  }
  const [o1, o2, p1, p2, f1] = made;
  const members = ['0190a0a0-0000-7000-8000-00000000a1e1', '0190a0a0-0000-7000-8000-00000000a1e2'];
  // Two events in one fan-out, each with its own views: a body is never carried over to the next event.
  await inTransaction(hub.db, async (q) => ok(await recordEvents(q, members.map((memberId, i) => ({
    memberId, type: 'commission.created', occurredAt: clock.now(), partnerIds: [partnerA], affiliateIds: [affiliateId],
    data: { commissionId: `c${i}`, memberId, partnerId: partnerA, affiliateId, amount: `${i}.20` },
    views: { [`partner:${partnerA}`]: { commissionId: `c${i}`, memberId, amount: `${i}.20` }, [`affiliate:${affiliateId}`]: { commissionId: `c${i}`, member: 'j***@e***.com', amount: `${i}.20` } },
  })))));
  expect(await tick()).toMatchObject({ fannedOut: 2, attempted: 10 });
  for (const { r, endpoint } of made) {
    expect(r.received).toHaveLength(2);
    for (const got of r.received) expect(new Webhook(endpoint.secret).verify(got.body, got.headers)).toBeTruthy();
  }
  const bodies = (x: typeof o1) => x!.r.received.map((got) => got.body).sort();
  expect(bodies(o2)).toEqual(bodies(o1));
  expect(bodies(p2)).toEqual(bodies(p1));
  const views = (x: typeof o1) => x!.r.received.map((got) => JSON.parse(got.body).data).sort((m, n) => (m.commissionId < n.commissionId ? -1 : 1));
  expect(views(o1)).toEqual(members.map((memberId, i) => ({ commissionId: `c${i}`, memberId, partnerId: partnerA, affiliateId, amount: `${i}.20` })));
  expect(views(p1)).toEqual(members.map((memberId, i) => ({ commissionId: `c${i}`, memberId, amount: `${i}.20` })));
  expect(views(f1)).toEqual(members.map((_, i) => ({ commissionId: `c${i}`, member: 'j***@e***.com', amount: `${i}.20` })));
  // Signed with each endpoint's own secret: the operator's first endpoint's signature does not verify for the second.
  expect(() => new Webhook(o2!.endpoint.secret).verify(o1!.r.received[0]!.body, o1!.r.received[0]!.headers)).toThrow();
});

it('a fan-out sends 12 deep to an endpoint not heard from, then pipelines its bursts deep on one connection once it has answered quickly; one write a connection, also on kept-alive connections (undici writes those from an immediate)', async () => {
  const r = await receiver();
  await createEndpoint(hub.admin, r.url, ['tier.changed']);
  const port = Number(new URL(r.url).port);
  const burst = async (n: number, tag: string) => {
    await inTransaction(hub.db, async (q) => ok(await recordEvents(q, Array.from({ length: n }, (_, i) => ({
      memberId: `0190a0a0-0000-7000-8000-0000${tag}${String(i).padStart(4, '0')}`, type: 'tier.changed', occurredAt: clock.now(), partnerIds: [], affiliateIds: [], data: { i }, views: {} })))));
    return fanOut(hub.db, worker);
  };
  // Not heard from: 12 deep, so 48 requests need at least four connections.
  expect(await burst(48, 'bb01')).toEqual({ taken: 48, attempted: 48 });
  const wide = r.connections;
  expect(wide).toBeGreaterThanOrEqual(4);
  // It answered quickly: the next burst opens the deep connections (one, or two while the first connects).
  expect(await burst(48, 'bb02')).toEqual({ taken: 48, attempted: 48 });
  expect(r.connections - wide).toBeGreaterThanOrEqual(1);
  expect(r.connections - wide).toBeLessThanOrEqual(2);
  const opened = r.connections;
  // They are idle (kept alive) when the third starts.
  const writes = new Map<Socket, number>();
  const count = (socket: Socket) => { if (socket.remotePort === port) writes.set(socket, (writes.get(socket) ?? 0) + 1); };
  const original = { write: Socket.prototype._write, writev: Socket.prototype._writev! };
  Socket.prototype._write = function (this: Socket, ...args: Parameters<Socket['_write']>) { count(this); return original.write.apply(this, args); };
  Socket.prototype._writev = function (this: Socket, ...args: Parameters<NonNullable<Socket['_writev']>>) { count(this); return original.writev.apply(this, args); };
  try {
    expect(await burst(48, 'bb03')).toEqual({ taken: 48, attempted: 48 });
  } finally {
    Socket.prototype._write = original.write;
    Socket.prototype._writev = original.writev;
  }
  expect(r.received).toHaveLength(144);
  expect(r.connections).toBe(opened);
  // One write a connection used, on the deep connections (at 12 deep: four at least; were each request written alone, 48).
  // (Some writes seen at all: were the spies to miss them, the line below would hold for no writes.)
  expect(writes.size).toBeGreaterThan(0);
  expect([...writes.values()]).toEqual([...writes.values()].map(() => 1));
  expect(writes.size).toBeLessThanOrEqual(2);
  // The rows carry their event's type and time as the fan-out read them (no longer joined again on insert).
  expect(await hub.db.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE d.order_at = e.occurred_at AND d.event_type = e.type)::int AS same
    FROM webhook_delivery d JOIN event e ON e.member_id = d.event_member_id AND e.id = d.event_id WHERE d.event_member_id::text LIKE '0190a0a0-0000-7000-8000-0000bb0%'`)).toEqual([{ n: 144, same: 144 }]);
});

it('a receiver that answers pipelined requests one after another: a deep burst shows in its answer times, and its next deliveries go through the queue, at most 12 deep a connection', async () => {
  // As many servers do (Go's net/http, most Python ones): a connection's next answer waits for the one before it, 25 ms each.
  const outstanding = new Map<Socket, number>();
  let most = 0;
  const server = createNetServer((socket) => {
    let busyUntil = 0;
    outstanding.set(socket, 0);
    socket.on('error', () => undefined);
    onPipelinedRequests(socket, () => {
      outstanding.set(socket, outstanding.get(socket)! + 1);
      most = Math.max(most, outstanding.get(socket)!);
      busyUntil = Math.max(busyUntil, performance.now()) + 25;
      setTimeout(() => {
        outstanding.set(socket, outstanding.get(socket)! - 1);
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      }, busyUntil - performance.now());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/serial`;
    await createEndpoint(hub.admin, url, ['tier.changed']);
    const events = async (n: number, tag: string) => inTransaction(hub.db, async (q) => ok(await recordEvents(q, Array.from({ length: n }, (_, i) => ({
      memberId: `0190a0a0-0000-7000-8000-0000${tag}${String(i).padStart(4, '0')}`, type: 'tier.changed', occurredAt: clock.now(), partnerIds: [], affiliateIds: [], data: { i }, views: {} })))));
    // Not heard from: 12 deep on as many connections as it takes; each answer within a few × 25 ms.
    await events(24, 'cc01');
    expect(await fanOut(hub.db, worker)).toEqual({ taken: 24, attempted: 24 });
    expect(most).toBeLessThanOrEqual(12);
    // Quick so far: the next burst is pipelined deep, and the receiver's one-after-another answers make the last ones wait (40 × 25 ms).
    most = 0;
    await events(40, 'cc02');
    expect(await fanOut(hub.db, worker)).toEqual({ taken: 40, attempted: 40 });
    expect(most).toBeGreaterThan(12);
    // Those waits made its answers slow on average: the next deliveries are not sent at the fan-out but queued, then sent 12 deep.
    most = 0;
    await events(40, 'cc03');
    expect(await fanOut(hub.db, worker)).toEqual({ taken: 40, attempted: 0 });
    while ((await deliverDue(hub.db, worker)) > 0);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(12);
    expect(await hub.db.query(`SELECT status, count(*)::int AS n FROM webhook_delivery WHERE event_member_id::text LIKE '0190a0a0-0000-7000-8000-0000cc0%' GROUP BY status`))
      .toEqual([{ status: 'DELIVERED', n: 104 }]);
  } finally {
    server.close();
    for (const socket of outstanding.keys()) socket.destroy();
  }
}, 30_000);

it('an endpoint deleted while a fan-out is sending to it: the deletion waits for the fan-out and removes its deliveries too (none left orphaned)', async () => {
  const r = await receiver();
  r.delayMs = 400;
  const { endpoint } = await createEndpoint(hub.admin, r.url, ['tier.changed']);
  const memberId = '0190a0a0-0000-7000-8000-0000000000de';
  await inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{ memberId, type: 'tier.changed', occurredAt: clock.now(), partnerIds: [], affiliateIds: [], data: {}, views: {} }])));
  const fanning = fanOut(hub.db, worker);
  while (!r.received.length) await new Promise((res) => setTimeout(res, 10)); // the fan-out is waiting for the answer
  const deleted = await hub.gql('mutation($id: ID!) { deleteWebhookEndpoint(input: { endpointId: $id }) { deletedId userErrors { code } } }', { id: endpoint.id }, hub.admin);
  expect(deleted.data.deleteWebhookEndpoint).toEqual({ deletedId: endpoint.id, userErrors: [] });
  expect(await fanning).toEqual({ taken: 1, attempted: 1 });
  expect(await hub.db.query('SELECT count(*)::int AS n FROM webhook_delivery WHERE endpoint_id = $1', [endpoint.id])).toEqual([{ n: 0 }]);
});

it("one member's events reach an endpoint in commit order, even when an earlier delivery is being retried", async () => {
  const r = await receiver();
  r.answers = [500, 200];
  const { secret } = await createEndpoint(hub.admin, r.url, ['tier.changed']);
  const memberId = '0190a0a0-0000-7000-8000-0000000000cc';
  for (const n of [1, 2, 3]) {
    await inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{ memberId, type: 'tier.changed', occurredAt: clock.now(), partnerIds: [], affiliateIds: [], data: { n }, views: {} }])));
    clock.advance(1);
  }
  await tick();
  expect(r.received.map((x) => JSON.parse(x.body).data.n)).toEqual([1]); // 2 and 3 wait behind the failed 1
  clock.advance(10_000);
  await tick();
  await tick();
  await tick();
  expect(r.received.map((x) => JSON.parse(x.body).data.n)).toEqual([1, 1, 2, 3]);
  // No copy of the body is stored for an event's delivery: the retry built it again from the event, byte for byte.
  expect(r.received[1]!.body).toBe(r.received[0]!.body);
  expect(new Webhook(secret).verify(r.received[1]!.body, r.received[1]!.headers)).toMatchObject({ type: 'tier.changed', data: { n: 1 } });
  const stored = await hub.db.query(`SELECT count(*)::int AS n, count(body)::int AS with_body FROM webhook_delivery WHERE event_member_id = $1`, [memberId]);
  expect(stored).toEqual([{ n: 3, with_body: 0 }]);
});

it('a first attempt is made at fan-out: the delivery is written once, DELIVERED with its attempt; a failing endpoint\'s deliveries wait in the queue and go at its next claim', async () => {
  const ok1 = await receiver();
  const down = await receiver();
  down.answers = [500, 200];
  const good = await createEndpoint(hub.admin, ok1.url, ['tier.changed']);
  const bad = await createEndpoint(hub.admin, down.url, ['tier.changed']);
  const memberId = '0190a0a0-0000-7000-8000-0000000000d1';
  const event = (n: number) => inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{ memberId, type: 'tier.changed', occurredAt: clock.now(), partnerIds: [], affiliateIds: [], data: { n }, views: {} }])));
  await event(1);
  expect(await tick()).toEqual({ fannedOut: 1, attempted: 2 });
  const written = await hub.db.query(`SELECT d.status, d.attempt_count, d.first_status_code, d.first_at IS NOT NULL AS first_at,
      d.xmin::text = (SELECT b.xmin::text FROM webhook_delivery b WHERE b.endpoint_id = $2) AS same_transaction,
      (SELECT count(*)::int FROM webhook_attempt a WHERE a.delivery_id = d.id) AS attempt_rows
    FROM webhook_delivery d WHERE d.endpoint_id = $1`, [good.endpoint.id, bad.endpoint.id]);
  // Inserted with its outcome and its first attempt in its own row, in the fan-out's transaction (the
  // same xmin as the failing endpoint's delivery), never updated; no attempt row beside it.
  expect(written).toEqual([{ status: 'DELIVERED', attempt_count: 1, first_status_code: 200, first_at: true, same_transaction: true, attempt_rows: 0 }]);
  expect(await deliveries(hub.admin, bad.endpoint.id)).toMatchObject([{ status: 'PENDING', attempts: [{ statusCode: 500 }] }]);
  // The failing endpoint's next event is not sent at fan-out: it waits behind the retry, in order.
  clock.advance(1);
  await event(2);
  await tick();
  expect(down.received.map((x) => JSON.parse(x.body).data.n)).toEqual([1]);
  expect(ok1.received.map((x) => JSON.parse(x.body).data.n)).toEqual([1, 2]);
  clock.advance(6_000);
  await tick();
  expect(down.received.map((x) => JSON.parse(x.body).data.n)).toEqual([1, 1, 2]);
  expect((await deliveries(hub.admin, bad.endpoint.id)).map((d) => d.status)).toEqual(['DELIVERED', 'DELIVERED']);
});

it('a receiver slower than the fan-out\'s wait does not hold it: its delivery is written pending under a lease, settled when the answer comes; the member\'s next event follows it', async () => {
  const slow = await receiver();
  slow.delayMs = 1_500;
  const { endpoint } = await createEndpoint(hub.admin, slow.url, ['tier.changed']);
  const memberId = '0190a0a0-0000-7000-8000-0000000000d2';
  for (const n of [1, 2]) {
    await inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{ memberId, type: 'tier.changed', occurredAt: clock.now(), partnerIds: [], affiliateIds: [], data: { n }, views: {} }])));
    clock.advance(1);
  }
  const started = performance.now();
  await runWebhookTick(hub.db, { ...worker, directWaitMs: 300 });
  expect(performance.now() - started).toBeLessThan(1_450); // it did not wait for the answer
  const leased = await hub.db.query(`SELECT status, attempt_count, next_attempt_at FROM webhook_delivery WHERE endpoint_id = $1 ORDER BY order_at`, [endpoint.id]);
  expect(leased.map((d: { status: string; attempt_count: number }) => [d.status, d.attempt_count])).toEqual([['PENDING', 0], ['PENDING', 0]]);
  expect(new Date(leased[0].next_attempt_at).getTime() - clock.now().getTime()).toBe(15_000); // the 10 s timeout and 5 s
  // While that answer is outstanding the endpoint counts as slow: another member's event is queued, not sent at fan-out.
  await inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{ memberId: '0190a0a0-0000-7000-8000-0000000000d4', type: 'tier.changed', occurredAt: clock.now(), partnerIds: [], affiliateIds: [], data: { n: 3 }, views: {} }])));
  expect(await fanOut(hub.db, { ...worker, directWaitMs: 300 })).toEqual({ taken: 1, attempted: 0 });
  await settleLateAttempts(hub.db);
  let listed = await deliveries(hub.admin, endpoint.id);
  expect(listed.map((d) => [JSON.parse(slow.received[0]!.body).data.n, d.status, d.attempts.length])).toContainEqual([1, 'DELIVERED', 1]);
  await tick();
  expect(slow.received.map((x) => JSON.parse(x.body).data.n).sort()).toEqual([1, 2, 3]);
  expect(slow.received.map((x) => JSON.parse(x.body).data.n).filter((n) => n !== 3)).toEqual([1, 2]);
  listed = await deliveries(hub.admin, endpoint.id);
  expect(listed.map((d) => [d.status, d.attempts.map((a) => a.statusCode)])).toEqual([['DELIVERED', [200]], ['DELIVERED', [200]], ['DELIVERED', [200]]]);
});

it('an endpoint slow on average is still tried at a fan-out once a second; quick answers then bring its deliveries back to the fan-out', async () => {
  const r = await receiver();
  r.delayMs = 600;
  await createEndpoint(hub.admin, r.url, ['tier.changed']);
  const event = (n: number) => inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{ memberId: `0190a0a0-0000-7000-8000-0000000001${String(n).padStart(2, '0')}`, type: 'tier.changed', occurredAt: clock.now(), partnerIds: [], affiliateIds: [], data: { n }, views: {} }])));
  await event(1);
  expect(await fanOut(hub.db, worker)).toEqual({ taken: 1, attempted: 1 }); // answered in 600 ms: slow on average
  await event(2);
  expect(await fanOut(hub.db, worker)).toEqual({ taken: 1, attempted: 0 }); // queued
  clock.advance(1_000);
  r.delayMs = 0;
  // Ten answers bring the average (each answer weighs a fifth) from 600 ms under 250 ms even when the
  // machine is loaded enough that a "quick" answer takes up to ~200 ms (five would need each under ~80 ms).
  for (let n = 3; n <= 12; n++) await event(n);
  expect(await fanOut(hub.db, worker)).toEqual({ taken: 10, attempted: 10 }); // tried again: ten quick answers
  await event(13);
  expect(await fanOut(hub.db, worker)).toEqual({ taken: 1, attempted: 1 }); // quick on average again
});

it('two workers on two connection pools deliver each of 40 events exactly once', async () => {
  const r = await receiver();
  r.delayMs = 20;
  const { endpoint } = await createEndpoint(hub.admin, r.url);
  for (let i = 0; i < 40; i++) await hub.gql(TEST, { id: endpoint.id }, hub.admin);
  const other = createDataSource(hub.databaseUrl, 4);
  await other.initialize();
  try {
    for (let round = 0; round < 10 && r.received.length < 40; round++) await Promise.all([tick(hub.db), tick(other), tick(hub.db), tick(other)]);
  } finally {
    await other.destroy();
  }
  const ids = r.received.map((x) => x.headers['webhook-id']);
  expect(ids).toHaveLength(40);
  expect(new Set(ids).size).toBe(40);
  expect(await deliveries(hub.admin, endpoint.id, 'DELIVERED')).toHaveLength(20); // first page of 20
});

it('a rotated secret signs next to the old one for 24 hours; both verify, then only the new one', async () => {
  const r = await receiver();
  const { endpoint, secret: old } = await createEndpoint(hub.admin, r.url);
  const rotated = await hub.gql('mutation($id: ID!) { rotateWebhookSecret(input: { endpointId: $id }) { secret userErrors { code } } }', { id: endpoint.id }, hub.admin);
  const fresh = rotated.data.rotateWebhookSecret.secret as string;
  expect(fresh).not.toBe(old);
  await hub.gql(TEST, { id: endpoint.id }, hub.admin);
  await tick();
  const first = r.received[0]!;
  expect(first.headers['webhook-signature']!.split(' ')).toHaveLength(2);
  expect(() => new Webhook(fresh).verify(first.body, first.headers)).not.toThrow();
  expect(() => new Webhook(old).verify(first.body, first.headers)).not.toThrow();
  clock.advance(24 * 3_600_000 + 1_000);
  await hub.gql(TEST, { id: endpoint.id }, hub.admin);
  await tick();
  const second = r.received[1]!;
  expect(second.headers['webhook-signature']!.split(' ')).toHaveLength(1);
  // standardwebhooks checks the timestamp against the real time: compare the signatures directly.
  expect(() => new Webhook(old).verify(second.body, second.headers)).toThrow();
});

it('server-side request forgery: without WEBHOOK_ALLOW_PRIVATE, http and loopback, private, link-local and metadata targets are refused', async () => {
  hub.config.webhookAllowPrivate = false;
  try {
    for (const url of ['http://example.com/hooks', 'https://127.0.0.1/x', 'https://localhost/x', 'https://10.1.2.3/x', 'https://169.254.169.254/latest/meta-data',
      'https://[::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://192.168.0.10/x', 'https://user:pw@example.com/x',
      // IANA special-purpose blocks that are not globally reachable: TEST-NET-1/2/3, benchmarking, reserved, limited broadcast,
      // deprecated 6to4 relay; IPv6 discard-only, IPv4-translated (to 127.0.0.1), benchmarking, documentation (3fff::/20), SRv6.
      'https://192.0.2.1/x', 'https://198.51.100.7/x', 'https://203.0.113.9/x', 'https://198.19.255.1/x', 'https://240.0.0.1/x',
      'https://255.255.255.255/x', 'https://192.88.99.1/x', 'https://[100::1]/x', 'https://[::ffff:0:7f00:1]/x', 'https://[2001:2::1]/x',
      'https://[3fff::1]/x', 'https://[5f00::1]/x']) {
      const res = await hub.gql(CREATE, { input: { url, eventTypes: ['*'] } }, hub.admin);
      expect({ url, errors: res.data.createWebhookEndpoint.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field.join('.')]) })
        .toEqual({ url, errors: [['INVALID_INPUT', 'input.url']] });
    }
  } finally {
    hub.config.webhookAllowPrivate = true;
  }
});

describe('kill -9 of a server in the middle of a delivery', () => {
  let app: ChildProcess | undefined;
  afterAll(() => app?.kill('SIGKILL'));

  it('loses nothing: the delivery is retried by the next worker and arrives (same webhook-id)', async () => {
    const root = resolve(__dirname, '../..');
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
    useClock(systemClock);
    const r = await receiver();
    r.answers = [0, 200]; // the first request hangs: the server is mid-delivery
    const { endpoint } = await createEndpoint(hub.admin, r.url);
    await hub.gql(TEST, { id: endpoint.id }, hub.admin);
    app = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: root, stdio: 'ignore',
      env: { ...process.env, DATABASE_URL: hub.databaseUrl, JWT_SECRET: hub.config.jwtSecret, PORT: '0', NODE_ENV: 'test', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '50', EXPIRY_INTERVAL_SECONDS: '0' },
    });
    for (let i = 0; i < 300 && r.received.length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    expect(r.received).toHaveLength(1);
    app.kill('SIGKILL');
    await new Promise((res) => app!.once('exit', res));
    // The dead server's transaction rolled back with its connection: the delivery is still due.
    for (let i = 0; i < 50 && r.received.length < 2; i++) {
      await tick();
      if (r.received.length < 2) await new Promise((res) => setTimeout(res, 100));
    }
    expect(r.received).toHaveLength(2);
    expect(r.received[1]!.headers['webhook-id']).toBe(r.received[0]!.headers['webhook-id']);
    const [delivery] = await deliveries(hub.admin, endpoint.id);
    expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: [{ statusCode: 200 }] });
  }, 120_000);

  it('during a first attempt made at fan-out, after the fan-out committed it under a lease: sent again once the lease has run out (same webhook-id), recorded once', async () => {
    const root = resolve(__dirname, '../..');
    useClock(systemClock);
    const r = await receiver();
    r.answers = [0, 200]; // the first request hangs past the fan-out's wait
    const { endpoint } = await createEndpoint(hub.admin, r.url, ['tier.changed']);
    const memberId = '0190a0a0-0000-7000-8000-0000000000d3';
    await inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{ memberId, type: 'tier.changed', occurredAt: new Date(), partnerIds: [], affiliateIds: [], data: { n: 1 }, views: {} }])));
    app = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: root, stdio: 'ignore',
      env: { ...process.env, DATABASE_URL: hub.databaseUrl, JWT_SECRET: hub.config.jwtSecret, PORT: '0', NODE_ENV: 'test', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '50', EXPIRY_INTERVAL_SECONDS: '0' },
    });
    for (let i = 0; i < 300 && r.received.length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    expect(r.received).toHaveLength(1);
    // Wait until the fan-out has committed the delivery under its lease, then kill the server.
    let leased: { status: string; next_attempt_at: Date }[] = [];
    for (let i = 0; i < 50 && !leased.length; i++) {
      leased = await hub.db.query('SELECT status, next_attempt_at FROM webhook_delivery WHERE endpoint_id = $1', [endpoint.id]);
      if (!leased.length) await new Promise((res) => setTimeout(res, 100));
    }
    expect(leased).toHaveLength(1);
    expect(leased[0]!.status).toBe('PENDING');
    app.kill('SIGKILL');
    await new Promise((res) => app!.once('exit', res));
    await tick();
    expect(r.received).toHaveLength(1); // leased: not sent again while the dead server might still be sending it
    useClock(new ManualClock(new Date(new Date(leased[0]!.next_attempt_at).getTime() + 1)));
    await tick();
    expect(r.received).toHaveLength(2);
    expect(r.received[1]!.headers['webhook-id']).toBe(r.received[0]!.headers['webhook-id']);
    const [delivery] = await deliveries(hub.admin, endpoint.id);
    expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: [{ statusCode: 200 }] });
  }, 120_000);
});

it('endpoint changes are in the audit log with their owner, never with a secret', async () => {
  const r = await receiver();
  const partnerId = await createPartner('hooks-audit');
  const partner = hub.token({ role: Role.PARTNER, partnerId });
  const { endpoint, secret } = await createEndpoint(partner, r.url, ['transaction.posted']);
  const rotated = await hub.gql('mutation($id: ID!) { rotateWebhookSecret(input: { endpointId: $id }) { secret } }', { id: endpoint.id }, partner);
  const log = await hub.gql(`query($id: ID!) { auditLog(subjectId: $id) { edges { node { action actor { role id } subjectType input } } } }`, { id: endpoint.id }, partner);
  const entries = log.data.auditLog.edges.map((e: { node: { action: string; actor: unknown; subjectType: string; input: string } }) => e.node);
  expect(entries.map((e: { action: string }) => e.action)).toEqual(['webhook.secretRotated', 'webhook.endpointCreated']);
  expect(entries[1]).toMatchObject({ actor: { role: 'PARTNER', id: partnerId }, subjectType: 'WEBHOOK_ENDPOINT' });
  for (const e of entries) {
    expect(e.input).not.toContain(secret);
    expect(e.input).not.toContain(rotated.data.rotateWebhookSecret.secret);
  }
});

it('/metrics counts webhook attempts by outcome and shows the outbox lag', async () => {
  const metrics = async () => (await fetch(hub.url.replace(/\/graphql$/, '/metrics'))).text();
  const count = (text: string, outcome: string) => Number(new RegExp(`^hub_webhook_attempts_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const before = await metrics();
  const r = await receiver();
  r.answers = [500, 200];
  const { endpoint } = await createEndpoint(hub.admin, r.url);
  await hub.gql(TEST, { id: endpoint.id }, hub.admin);
  await tick();
  clock.advance(6_000);
  await tick();
  const after = await metrics();
  expect(count(after, 'retry') - count(before, 'retry')).toBe(1);
  expect(count(after, 'delivered') - count(before, 'delivered')).toBe(1);
  expect(after).toMatch(/^hub_outbox_lag_seconds\{stage="fan_out"\} [\d.e+-]+$/m);
  expect(after).toMatch(/^hub_outbox_lag_seconds\{stage="delivery"\} [\d.e+-]+$/m);
});

it('enrollment, linking, erasure and a settlement close write events: each partner hears of its own members and its own position only', async () => {
  const [ra, rb, ro] = [await receiver(), await receiver(), await receiver()];
  const partnerA = await createPartner('hooks-events-a');
  const partnerB = await createPartner('hooks-events-b');
  const tokenA = hub.token({ role: Role.PARTNER, partnerId: partnerA });
  const tokenB = hub.token({ role: Role.PARTNER, partnerId: partnerB });
  const types = ['member.enrolled', 'member.linked', 'member.erased', 'settlement.closed'];
  await createEndpoint(tokenA, ra.url, types);
  await createEndpoint(tokenB, rb.url, types);
  await createEndpoint(hub.admin, ro.url, types);
  useClock(systemClock);
  const periodStart = new Date(Date.now() - 1000);
  const ENROLL = 'mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id memberCode } created userErrors { code } } }';
  const email = `events-${Date.now()}@example.com`;
  const enrolled = (await hub.gql(ENROLL, { input: { email, phone: '+4915112345678' } }, tokenA)).data.enrollMember;
  const memberId = enrolled.member.id as string;
  expect((await hub.gql(ENROLL, { input: { email } }, tokenB)).data.enrollMember.created).toBe(false);
  await hub.gql(ENROLL, { input: { email } }, tokenB); // linked already: no second event
  const purchase = await hub.gql(`mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { userErrors { code } } }`,
    { input: { idempotencyKey: 'ev-1', memberId, amount: '50.00' } }, tokenA);
  expect(purchase.data.recordPurchase.userErrors).toEqual([]);
  const redeemed = await hub.gql(`mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { userErrors { code } } }`,
    { input: { idempotencyKey: 'ev-2', memberId, points: 20 } }, tokenB);
  expect(redeemed.data.redeemPoints.userErrors).toEqual([]);
  await new Promise((r) => setTimeout(r, 20));
  const closed = await hub.gql(`mutation($input: CloseSettlementPeriodInput!) { closeSettlementPeriod(input: $input) { run { id } userErrors { code message } } }`,
    { input: { periodStart: periodStart.toISOString(), periodEnd: new Date().toISOString() } }, hub.admin);
  expect(closed.data.closeSettlementPeriod.userErrors).toEqual([]);
  const erased = await hub.gql(`mutation($input: EraseMemberInput!) { eraseMember(input: $input) { userErrors { code } } }`, { input: { memberId } }, hub.admin);
  expect(erased.data.eraseMember.userErrors).toEqual([]);
  await tick();
  const events = (r: Receiver) => r.received.map((x) => JSON.parse(x.body) as { type: string; data: Record<string, unknown> });
  expect(events(ra).map((e) => e.type)).toEqual(['member.enrolled', 'settlement.closed', 'member.erased']);
  expect(events(rb).map((e) => e.type)).toEqual(['member.linked', 'settlement.closed', 'member.erased']);
  // Order is kept per member; the run (no member) may arrive between the member's events.
  expect(events(ro).filter((e) => e.type !== 'settlement.closed').map((e) => e.type)).toEqual(['member.enrolled', 'member.linked', 'member.erased']);
  expect(events(ro).filter((e) => e.type === 'settlement.closed')).toHaveLength(1);
  expect(events(ra)[0]!.data).toEqual({ memberId, memberCode: enrolled.member.memberCode });
  // A partner's settlement payload is its own position: A pays B 20 points at B's 0.01 a point.
  const runId = closed.data.closeSettlementPeriod.run.id;
  expect(events(ra)[1]!.data).toEqual({ runId, periodStart: periodStart.toISOString(), periodEnd: expect.any(String), position: { amount: '-0.20', currency: 'EUR' } });
  expect(events(rb)[1]!.data).toMatchObject({ runId, position: { amount: '0.20', currency: 'EUR' } });
  expect(JSON.stringify(events(ra))).not.toContain(partnerB);
  expect(JSON.stringify(events(rb))).not.toContain(partnerA);
  expect(JSON.stringify([...events(ra), ...events(rb), ...events(ro)])).not.toContain(email);
  expect((events(ro).find((e) => e.type === 'settlement.closed')!.data as { positions: unknown[] }).positions).toHaveLength(2);
});

it('at delivery time the address is checked where the socket connects (DNS rebinding): a name or literal that reaches loopback is not sent to', async () => {
  const r = await receiver();
  const byName = r.url.replace('127.0.0.1', 'localhost');
  const literal = await createEndpoint(hub.admin, r.url);
  const named = await createEndpoint(hub.admin, byName);
  await hub.gql(TEST, { id: literal.endpoint.id }, hub.admin);
  await hub.gql(TEST, { id: named.endpoint.id }, hub.admin);
  await runWebhookTick(hub.db, { ...worker, allowPrivate: false });
  expect(r.received).toHaveLength(0);
  const [first] = await deliveries(hub.admin, literal.endpoint.id);
  const [second] = await deliveries(hub.admin, named.endpoint.id);
  expect(first!.attempts[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/^not sent: 127\.0\.0\.1 is a loopback/) });
  expect(second!.attempts[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/^not sent: localhost resolves to (127\.0\.0\.1|::1)/) });
});

it('a purchase posts transaction.posted, signed, to its partner and the operator, in the posting\'s own write; a refused posting (userError) posts no event', async () => {
  const [ra, rb, ro] = [await receiver(), await receiver(), await receiver()];
  const partnerA = await createPartner('hooks-tx-a');
  const partnerB = await createPartner('hooks-tx-b');
  const tokenA = hub.token({ role: Role.PARTNER, partnerId: partnerA });
  const a = await createEndpoint(tokenA, ra.url, ['transaction.posted']);
  await createEndpoint(hub.token({ role: Role.PARTNER, partnerId: partnerB }), rb.url, ['transaction.posted']);
  await createEndpoint(hub.admin, ro.url, ['transaction.posted']);
  const enrolled = await hub.gql('mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id } } }', { input: { email: `tx-${Date.now()}@example.com` } }, tokenA);
  const memberId = enrolled.data.enrollMember.member.id as string;
  const purchase = await hub.gql(`mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { transaction { id points } userErrors { code } } }`,
    { input: { idempotencyKey: 'tx-1', memberId, amount: '24.00' } }, tokenA);
  expect(purchase.data.recordPurchase.transaction.points).toBe(24);
  const refused = await hub.gql(`mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { userErrors { code } } }`,
    { input: { idempotencyKey: 'tx-2', memberId, points: 1000 } }, tokenA);
  expect(refused.data.redeemPoints.userErrors).toEqual([{ code: 'INSUFFICIENT_POINTS' }]);
  // The same key again is an idempotent replay: no second event either.
  await hub.gql(`mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { userErrors { code } } }`, { input: { idempotencyKey: 'tx-1', memberId, amount: '24.00' } }, tokenA);
  await tick();
  expect(ra.received).toHaveLength(1);
  expect(ro.received).toHaveLength(1);
  expect(rb.received).toHaveLength(0);
  const event = new Webhook(a.secret).verify(ra.received[0]!.body, ra.received[0]!.headers) as { type: string; data: Record<string, unknown> };
  expect(event).toMatchObject({ type: 'transaction.posted', data: { transactionId: purchase.data.recordPurchase.transaction.id, memberId, type: 'PURCHASE', points: 24,
    partnerId: partnerA, amount: { amount: '24.00', currency: 'EUR' } } });
  const stored = await hub.db.query(`SELECT count(*)::int AS n FROM event WHERE member_id = $1 AND type = 'transaction.posted'`, [memberId]);
  expect(stored[0].n).toBe(1);
});

it('a posting also writes commission.created (partner with the member id, affiliate without any member identifier), donation.made (operator only) and tier.changed', async () => {
  const [rp, rf, ro] = [await receiver(), await receiver(), await receiver()];
  await hub.gql(`mutation { configureCoalition(input: { name: "Hooks", currency: "EUR", donationValuePerPoint: "0.01", tiers: [{ name: "Silver", qualifyingPoints: 10, earnMultiplier: "1" }] }) { userErrors { message } } }`, {}, hub.admin);
  const partner = await hub.gql(`mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { message } } }`,
    { input: { code: 'hooks-commission', name: 'Hooks commission', redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' }, commissionPlan: { type: 'PERCENT_OF_SALE', rate: '0.1', holdDays: 30 } } }, hub.admin);
  const partnerId = partner.data.createPartner.partner.id as string;
  const affiliate = (await hub.gql(`mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { affiliate { id code } } }`,
    { input: { name: 'Hooks blog', email: `blog-${Date.now()}@example.com` } }, hub.admin)).data.createAffiliate.affiliate;
  const tokenP = hub.token({ role: Role.PARTNER, partnerId });
  await createEndpoint(tokenP, rp.url, ['commission.created', 'tier.changed', 'donation.made']);
  await createEndpoint(hub.token({ role: Role.AFFILIATE, affiliateId: affiliate.id }), rf.url, ['commission.created', 'donation.made', 'tier.changed']);
  await createEndpoint(hub.admin, ro.url, ['commission.created', 'donation.made', 'tier.changed']);
  const email = `comm-${Date.now()}@example.com`;
  const memberId = (await hub.gql('mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id } } }', { input: { email, affiliateCode: affiliate.code } }, tokenP)).data.enrollMember.member.id;
  const bought = await hub.gql(`mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { transaction { points } userErrors { code } } }`,
    { input: { idempotencyKey: 'comm-1', memberId, amount: '40.00' } }, tokenP);
  expect(bought.data.recordPurchase.userErrors).toEqual([]);
  const causeId = (await hub.gql('mutation { createCause(input: { name: "Hooks cause" }) { cause { id } } }', {}, hub.admin)).data.createCause.cause.id;
  const donated = await hub.gql(`mutation($input: DonatePointsInput!) { donatePoints(input: $input) { userErrors { code } } }`,
    { input: { idempotencyKey: 'give-1', causeId, points: 5 } }, hub.token({ role: Role.MEMBER, memberId }));
  expect(donated.data.donatePoints.userErrors).toEqual([]);
  await tick();
  const types = (r: Receiver) => r.received.map((x) => JSON.parse(x.body).type).sort();
  expect(types(ro)).toEqual(['commission.created', 'donation.made', 'tier.changed']);
  expect(types(rp)).toEqual(['commission.created', 'tier.changed']);
  expect(types(rf)).toEqual(['commission.created']);
  const forAffiliate = JSON.parse(rf.received[0]!.body).data;
  expect(forAffiliate).toMatchObject({ partnerId, amount: { amount: '4.00', currency: 'EUR' }, status: 'PENDING' });
  expect(JSON.stringify(forAffiliate)).not.toContain(memberId);
  expect(JSON.parse(rp.received.find((x) => JSON.parse(x.body).type === 'commission.created')!.body).data).toMatchObject({ memberId, affiliateId: affiliate.id });
  expect(JSON.parse(rp.received.find((x) => JSON.parse(x.body).type === 'tier.changed')!.body).data).toEqual({ memberId, from: null, to: 'Silver' });
  await hub.gql(`mutation { configureCoalition(input: { name: "Hooks", currency: "EUR", donationValuePerPoint: "0.01" }) { userErrors { message } } }`, {}, hub.admin);
});

it('review4: a partner\'s and an affiliate\'s event deliveries, retried and replayed, carry the same bytes with their own view; the migration\'s down() restores those bytes', async () => {
  const rp = await receiver();
  const rf = await receiver();
  rp.answers = [500, 200, 200];
  rf.answers = [500, 200, 200];
  const partner = await createPartner('hooks-review4');
  const affiliateId = '0190a0a0-0000-7000-8000-0000000004af';
  const partnerToken = hub.token({ role: Role.PARTNER, partnerId: partner });
  const p = await createEndpoint(partnerToken, rp.url, ['commission.created']);
  const f = await createEndpoint(hub.token({ role: Role.AFFILIATE, affiliateId }), rf.url, ['commission.created']);
  const memberId = '0190a0a0-0000-7000-8000-0000000004ee';
  await inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{
    memberId, type: 'commission.created', occurredAt: clock.now(), partnerIds: [partner], affiliateIds: [affiliateId],
    data: { commissionId: 'c4', memberId, partnerId: partner, affiliateId, amount: '1.20', note: 'Café ✓ "quoted"' },
    views: { [`partner:${partner}`]: { commissionId: 'c4', memberId, amount: '1.20' }, [`affiliate:${affiliateId}`]: { commissionId: 'c4', amount: '1.20' } },
  }])));
  await tick();
  clock.advance(RETRY_DELAYS_MS[0]!);
  await tick();
  for (const [r, e] of [[rp, p], [rf, f]] as const) {
    expect(r.received).toHaveLength(2);
    expect(r.received[1]!.body).toBe(r.received[0]!.body);
    expect(new Webhook(e.secret).verify(r.received[1]!.body, r.received[1]!.headers)).toBeTruthy();
  }
  expect(JSON.parse(rp.received[0]!.body).data).toEqual({ commissionId: 'c4', memberId, amount: '1.20' });
  expect(JSON.parse(rf.received[0]!.body).data).toEqual({ commissionId: 'c4', amount: '1.20' });
  const [delivered] = await deliveries(partnerToken, p.endpoint.id);
  expect(delivered!.status).toBe('DELIVERED');
  const replay = await hub.gql('mutation($e: ID!, $d: ID!) { replayWebhookDeliveries(input: { endpointId: $e, deliveryId: $d }) { replayed userErrors { code } } }',
    { e: p.endpoint.id, d: delivered!.id }, partnerToken);
  expect(replay.data.replayWebhookDeliveries).toEqual({ replayed: 1, userErrors: [] });
  await tick();
  expect(rp.received).toHaveLength(3);
  expect(rp.received[2]!.body).toBe(rp.received[0]!.body);
  // down(): every delivery gets back the body it was sent with.
  const q = hub.db.createQueryRunner();
  try {
    await new DeliveryBodyFromEvent1764550000000().down(q);
    const bodies = await q.query('SELECT endpoint_id, body FROM webhook_delivery WHERE endpoint_id = ANY($1::uuid[])', [[p.endpoint.id, f.endpoint.id]]);
    expect(bodies).toHaveLength(3);
    for (const b of bodies) expect(b.body).toBe((b.endpoint_id === p.endpoint.id ? rp : rf).received[0]!.body);
    await new DeliveryBodyFromEvent1764550000000().up(q);
    await q.query('UPDATE webhook_delivery SET body = NULL WHERE endpoint_id = ANY($1::uuid[])', [[p.endpoint.id, f.endpoint.id]]);
  } finally {
    await q.release();
  }
});

it('a first attempt made at fan-out is kept in its delivery\'s row and listed first, before the retries; the migration\'s down() turns it into attempt 1', async () => {
  const r = await receiver();
  r.answers = [500, 200];
  const { endpoint } = await createEndpoint(hub.admin, r.url, ['tier.changed']);
  const memberId = '0190a0a0-0000-7000-8000-0000000000f1';
  await inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{ memberId, type: 'tier.changed', occurredAt: clock.now(), partnerIds: [], affiliateIds: [], data: { n: 1 }, views: {} }])));
  expect(await tick()).toEqual({ fannedOut: 1, attempted: 1 });
  clock.advance(RETRY_DELAYS_MS[0]! * 1.2);
  expect(await tick()).toEqual({ fannedOut: 0, attempted: 1 });
  const listed = async () => (await deliveries(hub.admin, endpoint.id)).map((d) =>
    ({ status: d.status, attempts: d.attempts.map((a) => [a.statusCode, a.error]) }));
  const expected = [{ status: 'DELIVERED', attempts: [[500, 'HTTP 500'], [200, null]] }];
  expect(await listed()).toEqual(expected);
  const stored = await hub.db.query(`SELECT d.first_status_code, array_agg(a.n ORDER BY a.n) AS rows FROM webhook_delivery d JOIN webhook_attempt a ON a.delivery_id = d.id
    WHERE d.endpoint_id = $1 GROUP BY d.id`, [endpoint.id]);
  expect(stored).toEqual([{ first_status_code: 500, rows: [2] }]);
  const q = hub.db.createQueryRunner();
  try {
    await new FirstAttemptInDelivery1764560000000().down(q);
    const rows = await q.query(`SELECT a.n, a.status_code FROM webhook_attempt a JOIN webhook_delivery d ON d.id = a.delivery_id WHERE d.endpoint_id = $1 ORDER BY a.n`, [endpoint.id]);
    expect(rows).toEqual([{ n: 1, status_code: 500 }, { n: 2, status_code: 200 }]);
    await new FirstAttemptInDelivery1764560000000().up(q);
  } finally {
    await q.release();
  }
  // After down() and up() again, the attempts are rows only, listed the same.
  expect(await listed()).toEqual(expected);
});

it('review4: a receiver\'s answer shown to owners (responseExcerpt) has C1 controls and invisible or bidirectional formatting blanked, as control characters are', async () => {
  const r = await receiver();
  // CSI (a terminal escape in one character), a right-to-left override, a zero-width space, an ESC.
  r.answerBody = 'ok\u009B31m \u202Edetalied\u202C \u200Bx\u001b[0m Café 🎁';
  const { endpoint } = await createEndpoint(hub.admin, r.url);
  await hub.gql(TEST, { id: endpoint.id }, hub.admin);
  await tick();
  const [delivery] = await deliveries(hub.admin, endpoint.id);
  expect(delivery!.attempts).toEqual([expect.objectContaining({ statusCode: 200, error: null, responseExcerpt: 'ok 31m  detalied   x [0m Café 🎁' })]);
});

it('review5: shared bodies never cross views — operator, two endpoints of one partner (different subscriptions), another partner, an affiliate; events of several members at one instant, one naming two partners, one naming a partner without a view', async () => {
  const partnerA = await createPartner('hooks-r5-a');
  const partnerB = await createPartner('hooks-r5-b');
  const affiliateId = '0190a0a0-0000-7000-8000-0000000005af';
  const tokenA = hub.token({ role: Role.PARTNER, partnerId: partnerA });
  const tokenB = hub.token({ role: Role.PARTNER, partnerId: partnerB });
  const tokenF = hub.token({ role: Role.AFFILIATE, affiliateId });
  const specs = [
    { who: 'operator', token: hub.admin, types: ['*'] }, { who: 'operator', token: hub.admin, types: ['tier.changed'] },
    { who: `partner:${partnerA}`, token: tokenA, types: ['commission.created'] }, { who: `partner:${partnerA}`, token: tokenA, types: ['*'] },
    { who: `partner:${partnerA}`, token: tokenA, types: ['tier.changed'] },
    { who: `partner:${partnerB}`, token: tokenB, types: ['*'] }, { who: `affiliate:${affiliateId}`, token: tokenF, types: ['*'] },
  ];
  const made = [];
  for (const s of specs) {
    const r = await receiver();
    made.push({ ...s, r, endpoint: await createEndpoint(s.token, r.url, s.types) });
  }
  // Every event at the same instant (one `o`), of three members and no member; each view names its receiver and its event.
  const members = ['0190a0a0-0000-7000-8000-0000000005e1', '0190a0a0-0000-7000-8000-0000000005e2', '0190a0a0-0000-7000-8000-0000000005e3'];
  const at = clock.now();
  const events: Parameters<typeof recordEvents>[1] = [];
  members.forEach((memberId, m) => {
    events.push({ memberId, type: 'commission.created', occurredAt: at, partnerIds: [partnerA, partnerB], affiliateIds: [affiliateId], data: { tag: `op/c${m}` },
      views: { [`partner:${partnerA}`]: { tag: `A/c${m}` }, [`partner:${partnerB}`]: { tag: `B/c${m}` }, [`affiliate:${affiliateId}`]: { tag: `F/c${m}` } } });
    events.push({ memberId, type: 'tier.changed', occurredAt: at, partnerIds: [partnerA, partnerB], affiliateIds: [], data: { tag: `op/t${m}` },
      views: { [`partner:${partnerB}`]: { tag: `B/t${m}` } } }); // names A without a view: A gets nothing
    events.push({ memberId, type: 'tier.changed', occurredAt: at, partnerIds: [partnerA], affiliateIds: [], data: { tag: `op/u${m}` }, views: { [`partner:${partnerA}`]: { tag: `A/u${m}` } } });
  });
  events.push({ memberId: null, type: 'settlement.closed', occurredAt: at, partnerIds: [partnerB], affiliateIds: [], data: { tag: 'op/s' }, views: { [`partner:${partnerB}`]: { tag: 'B/s' } } });
  await inTransaction(hub.db, async (q) => ok(await recordEvents(q, events)));
  await tick();
  for (const { who, types, r, endpoint } of made) {
    const expected = events.flatMap((e) => {
      if (!types.includes('*') && !types.includes(e.type)) return [];
      if (who === 'operator') return [e.data];
      const [kind, id] = who.split(':');
      if (!(kind === 'partner' ? e.partnerIds : e.affiliateIds).includes(id!)) return [];
      return e.views[who] ? [e.views[who]] : [];
    }).map((d) => (d as { tag: string }).tag).sort();
    for (const got of r.received) expect(new Webhook(endpoint.secret).verify(got.body, got.headers)).toBeTruthy();
    expect({ who, types, got: r.events().map((e) => (e.data as { tag: string }).tag).sort() }).toEqual({ who, types, got: expected });
  }
});

it('review5: events posted while fan-outs run (rows taken by row address) are each delivered exactly once, none left pending', async () => {
  const r = await receiver();
  const { endpoint } = await createEndpoint(hub.admin, r.url, ['tier.changed']);
  const writers = Array.from({ length: 6 }, (_, w) => (async () => {
    for (let b = 0; b < 8; b++) {
      await inTransaction(hub.db, async (q) => ok(await recordEvents(q, Array.from({ length: 40 }, (_, i) => ({
        memberId: `0190a0a0-0000-7000-8000-0000000006${String(w).padStart(2, '0')}`, type: 'tier.changed', occurredAt: new Date(clock.now().getTime() - (b * 40 + i) % 7),
        partnerIds: [], affiliateIds: [], data: { w, b, i }, views: {} })))));
    }
  })());
  let writing = true;
  const done = Promise.all(writers).finally(() => { writing = false; });
  while (writing) await fanOut(hub.db, worker);
  await done;
  for (let i = 0; i < 20 && Number((await hub.db.query('SELECT count(*)::int AS n FROM event_pending'))[0].n) > 0; i++) await tick();
  await tick();
  await settleLateAttempts(hub.db);
  expect((await hub.db.query('SELECT count(*)::int AS n FROM event_pending'))[0].n).toBe(0);
  const perEvent = await hub.db.query(`SELECT e.id, count(d.id)::int AS n FROM event e LEFT JOIN webhook_delivery d ON d.event_member_id = e.member_id AND d.event_id = e.id AND d.endpoint_id = $1
    WHERE e.type = 'tier.changed' AND e.member_id::text LIKE '0190a0a0-0000-7000-8000-0000000006%' GROUP BY e.id`, [endpoint.id]);
  expect(perEvent).toHaveLength(6 * 8 * 40);
  expect(perEvent.filter((x: { n: number }) => x.n !== 1)).toEqual([]);
  const ids = r.received.map((x) => x.headers['webhook-id']);
  expect(new Set(ids).size).toBe(6 * 8 * 40);
  expect(ids).toHaveLength(6 * 8 * 40);
});

it('review5: a delivery whose first attempt is in its row, retried, then replayed; listed by pages of one: every attempt once, in order', async () => {
  const r = await receiver();
  r.answers = [500, 500, 200];
  const { endpoint } = await createEndpoint(hub.admin, r.url, ['tier.changed']);
  const memberId = '0190a0a0-0000-7000-8000-0000000007f1';
  await inTransaction(hub.db, async (q) => ok(await recordEvents(q, [{ memberId, type: 'tier.changed', occurredAt: clock.now(), partnerIds: [], affiliateIds: [], data: { n: 1 }, views: {} }])));
  expect(await tick()).toEqual({ fannedOut: 1, attempted: 1 });
  clock.advance(RETRY_DELAYS_MS[0]! * 1.2);
  expect(await tick()).toEqual({ fannedOut: 0, attempted: 1 });
  clock.advance(RETRY_DELAYS_MS[1]! * 1.2);
  expect(await tick()).toEqual({ fannedOut: 0, attempted: 1 });
  const [original] = await deliveries(hub.admin, endpoint.id);
  clock.advance(1_000);
  const replayed = await hub.gql('mutation($e: ID!, $d: ID!) { replayWebhookDeliveries(input: { endpointId: $e, deliveryId: $d }) { replayed userErrors { code } } }',
    { e: endpoint.id, d: original!.id }, hub.admin);
  expect(replayed.errors).toBeUndefined();
  r.answers = [503, 200];
  expect(await tick()).toEqual({ fannedOut: 0, attempted: 1 });
  clock.advance(RETRY_DELAYS_MS[0]! * 1.2);
  expect(await tick()).toEqual({ fannedOut: 0, attempted: 1 });
  const PAGE = `query($id: ID!, $after: String) { webhookDeliveries(endpointId: $id, first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { id status attempts { at statusCode } } } } }`;
  const pages: { id: string; status: string; attempts: { at: string; statusCode: number }[] }[] = [];
  for (let after: string | null = null, i = 0; i < 5; i++) {
    const res: { errors?: unknown; data?: unknown } = await hub.gql(PAGE, { id: endpoint.id, after }, hub.admin);
    expect(res.errors).toBeUndefined();
    const c = (res.data as { webhookDeliveries: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: (typeof pages)[number] }[] } }).webhookDeliveries;
    expect(c.totalCount).toBe(2);
    pages.push(...c.edges.map((e: { node: (typeof pages)[number] }) => e.node));
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  expect(pages.map((p) => [p.status, p.attempts.map((a) => a.statusCode)])).toEqual([['DELIVERED', [503, 200]], ['DELIVERED', [500, 500, 200]]]);
  for (const p of pages) expect(p.attempts.map((a) => a.at)).toEqual([...p.attempts.map((a) => a.at)].sort());
  expect(pages[1]!.id).toBe(original!.id);
  expect(await hub.db.query('SELECT first_status_code, attempt_count FROM webhook_delivery WHERE endpoint_id = $1 ORDER BY created_at', [endpoint.id]))
    .toEqual([{ first_status_code: 500, attempt_count: 3 }, { first_status_code: null, attempt_count: 2 }]);
});

it('review6: a body written out as text is byte for byte jsonb_build_object(…)::text — quotes, backslashes, control characters, U+2028, emoji, numbers as jsonb prints them, a JSON null view, an odd event type — at fan-out and at a retry; order_at is the event\'s time to the microsecond', async () => {
  // Only this test's endpoints receive (an earlier test's receiver that never answers would hold the fan-out).
  await hub.db.query('UPDATE webhook_endpoint SET enabled = false');
  const op = await receiver();
  const pr = await receiver();
  pr.answers = [500, 200];
  const partner = await createPartner('hooks-review6');
  const operator = await createEndpoint(hub.admin, op.url, ['*']);
  const partnerEndpoint = await createEndpoint(hub.token({ role: Role.PARTNER, partnerId: partner }), pr.url, ['*']);
  const odd = 'Ünïcode 😀 "quoted" back\\slash \u0001\u001f\u007f\u0080\u2028\u2029 </script> \t\n';
  const types = ['tier.changed', 'odd "type" \\ é😀\u0001\u2028'];
  await inTransaction(hub.db, async (q) => ok(await recordEvents(q, types.map((type, i) => ({
    memberId: `0190a0a0-0000-7000-8000-0000000006b${i}`, type, occurredAt: clock.now(), partnerIds: [partner], affiliateIds: [],
    data: { [odd]: odd, '': [odd, { nested: { deeper: [true, false, null, {}, []] } }], zz: 1, a: 2, bb: 3 },
    // A view that is JSON null (NewEvent does not allow it; the column does): "data": null, as jsonb_build_object writes it.
    views: { [`partner:${partner}`]: i === 0 ? { note: odd, list: [odd] } : (null as unknown as object) },
  })))));
  // Numbers as written by hand (jsonb keeps them as numeric and prints them its own way), and a time with microseconds.
  await hub.db.query(`UPDATE event SET data = data || '{"n": [1e3, 0.10, -0, 1E-7, 123456789012345678901234567890.000, 1.5e+300]}'::jsonb,
      occurred_at = occurred_at + interval '123457 microseconds' WHERE member_id::text LIKE '0190a0a0-0000-7000-8000-0000000006b%'`);
  await hub.db.query(`UPDATE event_pending p SET occurred_at = e.occurred_at FROM event e WHERE e.member_id = p.member_id AND e.id = p.event_id
      AND p.member_id::text LIKE '0190a0a0-0000-7000-8000-0000000006b%'`);
  expect(await fanOut(hub.db, worker)).toEqual({ taken: 2, attempted: 4 });
  clock.advance(RETRY_DELAYS_MS[0]! * 1.2);
  await tick();
  expect(op.received).toHaveLength(2);
  expect(pr.received).toHaveLength(3); // the partner's: 500, its retry (built by the claim), then the second event
  const expected = await hub.db.query(`SELECT d.endpoint_id, d.order_at = e.occurred_at AS same_time, d.event_type = e.type AS same_type,
      jsonb_build_object('id', e.id, 'type', e.type, 'timestamp', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'data', CASE WHEN ep.owner_type = 'OPERATOR' THEN e.data ELSE e.views -> ('partner:' || ep.owner_id::text) END)::text AS body
    FROM webhook_delivery d JOIN event e ON e.member_id = d.event_member_id AND e.id = d.event_id JOIN webhook_endpoint ep ON ep.id = d.endpoint_id
    WHERE d.endpoint_id = ANY($1::uuid[]) ORDER BY d.order_at, e.id`, [[operator.endpoint.id, partnerEndpoint.endpoint.id]]);
  expect(expected).toHaveLength(4);
  expect(expected.every((x: { same_time: boolean; same_type: boolean }) => x.same_time && x.same_type)).toBe(true);
  const bodies = (id: string) => expected.filter((x: { endpoint_id: string }) => x.endpoint_id === id).map((x: { body: string }) => x.body);
  expect(op.received.map((r) => r.body).sort()).toEqual(bodies(operator.endpoint.id).sort());
  expect(pr.received.map((r) => r.body).sort()).toEqual([...bodies(partnerEndpoint.endpoint.id), bodies(partnerEndpoint.endpoint.id)[0]].sort());
  expect(JSON.parse(pr.received.find((r) => JSON.parse(r.body).type === types[1])!.body).data).toBeNull();
  expect(JSON.parse(op.received[0]!.body).data.n).toEqual([1000, 0.1, 0, 1e-7, 1.2345678901234568e29, 1.5e300]);
  for (const r of pr.received) expect(new Webhook(partnerEndpoint.secret).verify(r.body, r.headers)).toBeTruthy();
  await hub.db.query('UPDATE webhook_endpoint SET enabled = true WHERE id <> ALL($1::uuid[])', [[operator.endpoint.id, partnerEndpoint.endpoint.id]]);
});
