import { Writable } from 'node:stream';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { createLogger } from '../../src/common/logger';
import { startExpiryScheduler } from '../../src/modules/posting/expiry.service';
import { TestHub, startTestHub } from '../support/hub';
import { externalReferences } from '../support/external-refs';
import { createPartner, enroll, purchase, redeem, unique } from '../support/scenario';

/**
 * Operating the hub: GraphiQL served by the hub itself, Prometheus metrics, one JSON log line per request.
 */
let hub: TestHub;
const lines: Record<string, any>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
    done();
  },
});
const raw: string[] = [];
const rawSink = new Writable({
  write(chunk: Buffer, _enc, done) {
    raw.push(chunk.toString('utf8'));
    sink.write(chunk, done);
  },
});

beforeAll(async () => {
  hub = await startTestHub({ log: createLogger('info', rawSink) });
});
afterAll(() => hub.close());

const origin = () => new URL(hub.url).origin;

async function metricsText(url = `${origin()}/metrics`): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one sample (0 when absent), e.g. sample(text, 'hub_postings_total{type="PURCHASE"}'). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const requestLines = () => lines.filter((l) => l.msg === 'request');

describe('GraphiQL', () => {
  it('GET /graphql with Accept: text/html serves GraphiQL from the hub, referencing no other host', async () => {
    const res = await fetch(hub.url, { headers: { accept: 'text/html,application/xhtml+xml', 'accept-encoding': 'identity' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const page = await res.text();
    expect(page.length).toBeGreaterThan(1_000_000); // the whole of GraphiQL inline, no CDN
    expect(page).toContain('YogaGraphiQL.renderYogaGraphiQL');
    expect(page).toContain('npm run token -- --role ADMIN'); // the headers editor's hint
    expect(page).not.toContain('apollographql.com');
    expect(page).not.toContain('embeddable-sandbox');
    expect(externalReferences(page, new URL(hub.url).host)).toEqual([]);
    // The scanner itself finds what it must (a test that cannot fail is a defect).
    expect(externalReferences(page.replace('<title>', '<script src="https://cdn.example.net/x.js"></script><title>'), new URL(hub.url).host))
      .toHaveLength(1);
  });

  it('is sent brotli- or gzip-compressed when accepted (9 MB → under 3 MB), cached with an ETag', async () => {
    const plain = await (await fetch(hub.url, { headers: { accept: 'text/html', 'accept-encoding': 'identity' } })).arrayBuffer();
    for (const encoding of ['br', 'gzip'] as const) {
      // Node's fetch decodes bodies; node:http shows the bytes on the wire.
      const { headers, body } = await rawGet(hub.url, { accept: 'text/html', 'accept-encoding': encoding });
      expect(headers['content-encoding']).toBe(encoding);
      expect(body.length).toBeLessThan(3_000_000);
      const decoded = encoding === 'br' ? brotliDecompressSync(body) : gunzipSync(body);
      expect(decoded.equals(Buffer.from(plain))).toBe(true);
    }
    const first = await rawGet(hub.url, { accept: 'text/html', 'accept-encoding': 'gzip' });
    const again = await rawGet(hub.url, { accept: 'text/html', 'if-none-match': String(first.headers.etag) });
    expect(again.status).toBe(304);
  });

  it('a POST with JSON still runs GraphQL; a simple (CSRF-able) GET or text/plain POST is refused with 400', async () => {
    const ok = await hub.gql('{ __typename }');
    expect(ok.data).toEqual({ __typename: 'Query' });
    const simpleGet = await fetch(`${hub.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(simpleGet.status).toBe(400);
    expect(await simpleGet.text()).toMatch(/CSRF/i);
    const textPost = await fetch(hub.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(textPost.status).toBe(400);
  });
});

function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http = require('node:http') as typeof import('node:http');
  return new Promise((resolveGet, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveGet({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

describe('metrics', () => {
  it('after a purchase and a failing redemption: PURCHASE posting, INSUFFICIENT_POINTS userError, requests by operation and outcome, pool use', async () => {
    const before = await metricsText();
    const partner = await createPartner(hub);
    const member = await enroll(hub, partner);
    const bought = await purchase(hub, partner, member, '10.00');
    expect(bought.transaction.type).toBe('PURCHASE');
    // The client selects neither transaction.type nor userErrors.code: the counts come from the payload, not the response.
    const failed = await hub.gql(`mutation FailingRedemption($input: RedeemPointsInput!) { redeemPoints(input: $input) { member { id } } }`,
      { input: { idempotencyKey: unique('k'), memberId: member.id, points: 1000 } }, partner.token);
    expect(failed.data.redeemPoints.member).toBeNull();
    expect((await redeem(hub, partner, member, 1000)).userErrors[0].code).toBe('INSUFFICIENT_POINTS');

    const after = await metricsText();
    expect(sample(after, 'hub_postings_total{type="PURCHASE"}') - sample(before, 'hub_postings_total{type="PURCHASE"}')).toBe(1);
    expect(sample(after, 'hub_postings_total{type="REDEMPTION"}') - sample(before, 'hub_postings_total{type="REDEMPTION"}')).toBe(0);
    expect(sample(after, 'hub_user_errors_total{code="INSUFFICIENT_POINTS"}') - sample(before, 'hub_user_errors_total{code="INSUFFICIENT_POINTS"}')).toBe(2);
    expect(sample(after, 'hub_graphql_requests_total{operation="FailingRedemption",outcome="user_errors"}')).toBe(1);
    expect(sample(after, 'hub_graphql_request_duration_seconds_count{operation="FailingRedemption"}')).toBe(1);
    expect(after).toMatch(/^hub_graphql_request_duration_seconds_bucket\{le="0.005",operation="FailingRedemption"\} \d+$/m);
    expect(sample(after, 'hub_graphql_requests_total{operation="anonymous",outcome="ok"}')).toBeGreaterThanOrEqual(3);
    expect(sample(after, 'hub_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^hub_db_pool_connections\{state="idle"\} \d+$/m);
    expect(after).toMatch(/^hub_db_pool_connections\{state="waiting"\} 0$/m);
    expect(after).toContain('process_cpu_seconds_total');
  });

  it('GraphQL errors and refused requests are counted as errors and rejected', async () => {
    const before = await metricsText();
    await hub.gql('query NoToken { myPartner { id } }');
    await fetch(hub.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    const after = await metricsText();
    expect(sample(after, 'hub_graphql_requests_total{operation="NoToken",outcome="errors"}') - sample(before, 'hub_graphql_requests_total{operation="NoToken",outcome="errors"}')).toBe(1);
    expect(sample(after, 'hub_graphql_requests_total{operation="invalid",outcome="rejected"}') - sample(before, 'hub_graphql_requests_total{operation="invalid",outcome="rejected"}')).toBe(1);
  });

  it('the expiry job counts its runs: hub_job_runs_total{job="expiry",outcome="ok"}', async () => {
    const series = 'hub_job_runs_total{job="expiry",outcome="ok"}';
    const before = sample(await metricsText(), series);
    const stop = startExpiryScheduler(hub.db, 1, createLogger('silent'));
    try {
      const deadline = Date.now() + 10_000;
      while (sample(await metricsText(), series) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    } finally {
      stop();
    }
    expect(sample(await metricsText(), series)).toBeGreaterThan(before);
  });

  it('METRICS_PORT set: /metrics on that port only (404 on the API port)', async () => {
    const other = await startTestHub({ config: { metricsPort: 0 } });
    try {
      const apiOrigin = new URL(other.url).origin;
      const onApi = await fetch(`${apiOrigin}/metrics`);
      expect(onApi.status).toBe(404);
      expect(new URL(other.url).port).not.toBe('');
      // startTestHub's server: find its metrics URL through a second server with the same config.
      const app = await other.startAnotherServer();
      expect(new URL(app.metricsUrl).port).not.toBe(new URL(app.url).port);
      expect(await metricsText(app.metricsUrl)).toContain('hub_graphql_requests_total');
      expect((await fetch(app.metricsUrl.replace('/metrics', '/graphql'))).status).toBe(404);
    } finally {
      await other.close();
    }
  });
});

describe('request log', () => {
  it('one JSON line per request: request id from x-request-id (echoed), operation, caller role and id, duration, outcome', async () => {
    const partner = await createPartner(hub);
    const member = await enroll(hub, partner);
    lines.length = 0;
    const res = await fetch(hub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${partner.token}`, 'x-request-id': 'till-7/req 42' },
      body: JSON.stringify({ query: 'mutation Redeem($input: RedeemPointsInput!) { redeemPoints(input: $input) { userErrors { code } } }',
        variables: { input: { idempotencyKey: unique('k'), memberId: member.id, points: 5 } } }),
    });
    expect(res.headers.get('x-request-id')).toBe('till-7/req 42');
    await res.json();
    await new Promise((r) => setImmediate(r));
    const line = requestLines().find((l) => l.requestId === 'till-7/req 42');
    expect(line).toMatchObject({
      level: 30, service: 'coalition-hub', method: 'POST', path: '/graphql', status: 200, operation: 'Redeem', operationType: 'mutation',
      role: 'PARTNER', callerId: partner.id, outcome: 'userErrors:INSUFFICIENT_POINTS',
    });
    expect(typeof line!.durationMs).toBe('number');
    expect(line!.durationMs).toBeGreaterThan(0);
    expect(requestLines()).toHaveLength(1);
  });

  it('an unacceptable x-request-id (129 characters, or a control character) is replaced by a generated UUID', async () => {
    for (const given of ['x'.repeat(129), 'bad\tid', '']) {
      const res = await fetch(hub.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': given }, body: '{"query":"{ __typename }"}' });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    const kept = await fetch(hub.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'y'.repeat(128) }, body: '{"query":"{ __typename }"}' });
    expect(kept.headers.get('x-request-id')).toBe('y'.repeat(128));
  });

  it('outcomes: ok, errors:UNAUTHENTICATED, http:413 and http:404; the operator logged as ADMIN without id', async () => {
    lines.length = 0;
    await hub.gql('query Fine { coalition { name } }', undefined, hub.admin);
    await hub.gql('query Anon { myPartner { id } }');
    await fetch(hub.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(1024 * 1024 + 10) }).catch(() => undefined);
    await fetch(`${origin()}/nowhere`);
    await new Promise((r) => setTimeout(r, 50));
    const byOutcome = requestLines().map((l) => [l.operation, l.role, l.callerId, l.outcome]);
    expect(byOutcome).toEqual([
      ['Fine', 'ADMIN', null, 'ok'],
      ['Anon', null, null, 'errors:UNAUTHENTICATED'],
      [null, null, null, 'http:413'],
      [null, null, null, 'http:404'],
    ]);
  });

  it('never a token, e-mail or phone in clear: enrolling Ann@Example.com / +44 7700 900123 logs neither, nor the token', async () => {
    const partner = await createPartner(hub);
    raw.length = 0;
    const email = `${unique('ann')}@Example.com`;
    const res = await hub.gql(`mutation Enroll($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id } userErrors { code } } }`,
      { input: { email, phone: '+44 7700 900123' } }, partner.token);
    expect(res.data.enrollMember.member.id).toBeDefined();
    await hub.gql(`query Lookup { memberByIdentifier(email: "${email}") { id } }`, undefined, partner.token);
    await new Promise((r) => setImmediate(r));
    const text = raw.join('');
    expect(text).toContain('"operation":"Enroll"');
    expect(text).toContain('"operation":"Lookup"');
    for (const secret of [email, email.toLowerCase(), '7700', '900123', partner.token, partner.token.split('.')[2]!]) expect(text).not.toContain(secret);
  });
});
