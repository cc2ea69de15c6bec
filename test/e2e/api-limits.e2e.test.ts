import { getIntrospectionQuery } from 'graphql';
import jwt from 'jsonwebtoken';
import { Role } from '../../src/api/auth';
import { Logger } from '../../src/common/logger';
import { TestHub, startTestHub } from '../support/hub';
import { POSTING_FIELDS, TestPartner, createPartner, enroll, ledgerCheck } from '../support/scenario';

/**
 * The API surface (issue 9, items 17–20; issue 14, item 4): introspection and field suggestions in
 * production, the depth limit over introspection, query cost (connections by `first`, reports by
 * what they scan), the per-caller leaky bucket (429 + Retry-After), token lifetimes and automatic
 * persisted queries.
 */

let hub: TestHub;
let partner: TestPartner;
const logged: { message: string; error: unknown }[] = [];
const capture: Logger = { info: () => undefined, error: (message, error) => void logged.push({ message, error }) };

beforeAll(async () => {
  hub = await startTestHub({ log: capture });
  partner = await createPartner(hub);
});
afterAll(async () => {
  await hub?.close();
});

interface Raw {
  status: number;
  headers: Headers;
  body: any;
}

async function raw(url: string, body: unknown, token?: string): Promise<Raw> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) };
}

const codeOf = (r: Raw) => r.body.errors?.[0]?.extensions?.code;
const DAY = 86_400_000;
const period = (days: number) => ({ periodStart: new Date(Date.UTC(2026, 0, 1)).toISOString(), periodEnd: new Date(Date.UTC(2026, 0, 1) + days * DAY).toISOString() });

describe('introspection and field suggestions in production (item 17)', () => {
  let prod: TestHub;
  let prodWithIntrospection: TestHub;
  beforeAll(async () => {
    prod = await startTestHub({ config: { nodeEnv: 'production', introspection: false } });
    prodWithIntrospection = await startTestHub({ config: { nodeEnv: 'production', introspection: true } });
  });
  afterAll(async () => {
    await prod?.close();
    await prodWithIntrospection?.close();
  });

  it.each([
    ['__schema', '{ __schema { types { name } } }'],
    ['__type', '{ __type(name: "Partner") { name fields { name } } }'],
    ['the standard introspection query', getIntrospectionQuery()],
  ])('production without GRAPHQL_INTROSPECTION refuses %s: HTTP 400, no data', async (_name, query) => {
    const res = await raw(prod.url, { query }, prod.admin);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.body.data).toBeUndefined();
    expect(JSON.stringify(res.body)).not.toMatch(/"types"|PartnerConnection/);
  });

  it('production still answers __typename (not introspection of the schema)', async () => {
    const res = await raw(prod.url, { query: '{ __typename coalition { name } }' }, prod.admin);
    expect(res.status).toBe(200);
    expect(res.body.data.__typename).toBe('Query');
  });

  it.each([
    ['a misspelt field ("nam" → no "name" suggested)', '{ coalition { nam } }', {}],
    ['a misspelt argument ("firts")', '{ partners(firts: 1) { totalCount } }', {}],
    ['a misspelt type ("PartnerConection")', 'query($c: PartnerConection) { coalition { name } }', {}],
    ['a misspelt enum value in variables ("ADMN")', 'mutation($input: IssueTokenInput!) { issueToken(input: $input) { token } }', { input: { role: 'ADMN' } }],
  ])('production never suggests names: %s', async (_name, query, variables) => {
    for (const target of [prod, prodWithIntrospection]) {
      const res = await raw(target.url, { query, variables }, target.admin);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.errors)).not.toMatch(/Did you mean|"name"|"first"|PartnerConnection"|"ADMIN"/);
    }
  });

  it('outside production the suggestion is kept (development help)', async () => {
    const res = await raw(hub.url, { query: '{ coalition { nam } }' }, hub.admin);
    expect(res.body.errors[0].message).toMatch(/Did you mean "name"/);
  });

  it('GRAPHQL_INTROSPECTION=true in production serves the standard introspection query, with its cost', async () => {
    const res = await raw(prodWithIntrospection.url, { query: getIntrospectionQuery({ inputValueDeprecation: true }) }, prodWithIntrospection.admin);
    expect(res.status).toBe(200);
    expect(res.body.data.__schema.types.length).toBeGreaterThan(50);
    expect(res.body.extensions.cost.requestedQueryCost).toBeGreaterThan(100);
    expect(res.body.extensions.cost.requestedQueryCost).toBeLessThanOrEqual(1000);
    expect(res.body.extensions.cost.actualQueryCost).toBeGreaterThan(50);
  });

  it('GRAPHQL_INTROSPECTION=true: a huge introspection query (20 aliased __schema with nested fields) is refused by the cost limit, 400 MAX_COST_EXCEEDED', async () => {
    const one = 'types { name fields { name args { name type { name fields { name type { name } } } } type { name fields { name } } } }';
    const query = `{ ${Array.from({ length: 20 }, (_, i) => `s${i}: __schema { ${one} }`).join(' ')} }`;
    expect(query.length).toBeLessThan(6500);
    const res = await raw(prodWithIntrospection.url, { query }, prodWithIntrospection.admin);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('MAX_COST_EXCEEDED');
    expect(res.body.data).toBeUndefined();
    expect(res.body.extensions.cost.requestedQueryCost).toBeGreaterThan(10_000);
    expect(res.body.extensions.cost.actualQueryCost).toBe(0);
  });

  it('GRAPHQL_INTROSPECTION=true: one __schema nesting fields three times (types → fields → type → fields → type → inputFields) is refused, 400', async () => {
    const res = await raw(prodWithIntrospection.url, { query: '{ __schema { types { fields { name args { name } type { fields { name args { name } type { inputFields { name } enumValues { name } } } } } } } }' }, prodWithIntrospection.admin);
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
  });
});

describe('the depth limit covers introspection and fragments named __schema (item 18)', () => {
  const deep = (levels: number) => `${'... on Coalition { '.repeat(levels)}name${' }'.repeat(levels)}`;

  it('a query 20 deep hidden in a fragment named __schema is refused: HTTP 400, depth limit of 12', async () => {
    const res = await raw(hub.url, { query: `{ coalition { ...__schema } } fragment __schema on Coalition { ${deep(18)} }` }, hub.admin);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/depth limit of 12 exceeded/);
    expect(res.body.data).toBeUndefined();
  });

  it('a data query spread next to a real __schema field is still counted: HTTP 400', async () => {
    const res = await raw(hub.url, { query: `query { __schema { queryType { name } } ...__schema } fragment __schema on Query { coalition { ${deep(14)} } }` }, hub.admin);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/depth limit of 12 exceeded/);
  });

  it('introspection nested 30 fields deep (was exempt from the depth limit) is refused: introspection depth limit of 15', async () => {
    const res = await raw(hub.url, { query: `{ __schema { types { ${'ofType { '.repeat(27)}name${' }'.repeat(27)} } } }` }, hub.admin);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { message: string }) => e.message).join(' ')).toMatch(/Introspection depth limit of 15 exceeded, found 30/);
    expect(res.body.data).toBeUndefined();
  });

  it('the standard introspection query (GraphiQL, codegen) passes both limits', async () => {
    for (const options of [{}, { inputValueDeprecation: true, schemaDescription: true, specifiedByUrl: true, directiveIsRepeatable: true }]) {
      const res = await raw(hub.url, { query: getIntrospectionQuery(options) }, hub.admin);
      expect(res.status).toBe(200);
      expect(res.body.data.__schema.queryType.name).toBe('Query');
    }
  });
});

describe('query cost (item 19; issue 14, item 4)', () => {
  it('twenty aliased myPartner { stats } for a 30-day period are refused: requested 20 × (1 + 500 + 30 + 1) = 10640 over 10000, HTTP 400, nothing run', async () => {
    const aliased = Array.from({ length: 20 }, (_, i) => `p${i}: myPartner { stats(periodStart: $s, periodEnd: $e) { pointsIssued partner { id } } }`).join(' ');
    const { periodStart, periodEnd } = period(30);
    const res = await raw(hub.url, { query: `query($s: DateTime!, $e: DateTime!) { ${aliased} }`, variables: { s: periodStart, e: periodEnd } }, partner.token);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('MAX_COST_EXCEEDED');
    expect(res.body.errors[0].message).toMatch(/Query cost 10640 is over the limit of 10000/);
    expect(res.body.data).toBeUndefined();
    expect(res.body.extensions.cost).toMatchObject({ requestedQueryCost: 10640, actualQueryCost: 0 });
  });

  it.each([
    [1, 1 + 500 + 1 + 1],
    [30, 1 + 500 + 30 + 1],
    [365, 1 + 500 + 365 + 1],
  ])('a report costs in proportion to its period: myPartner { stats } over %i days costs %i', async (days, cost) => {
    const res = await raw(hub.url, { query: 'query($s: DateTime!, $e: DateTime!) { myPartner { stats(periodStart: $s, periodEnd: $e) { pointsIssued partner { id } } } }',
      variables: { s: period(days).periodStart, e: period(days).periodEnd } }, partner.token);
    expect(res.status).toBe(200);
    expect(res.body.extensions.cost).toMatchObject({ requestedQueryCost: cost, actualQueryCost: cost });
  });

  it('reports over all of history cost a fixed high amount: ledgerCheck 4000, liabilities 1000', async () => {
    const check = await raw(hub.url, { query: '{ ledgerCheck { ok } }' }, hub.admin);
    expect(check.body.extensions.cost).toMatchObject({ requestedQueryCost: 4000, actualQueryCost: 4000 });
    const liabilities = await raw(hub.url, { query: '{ liabilities { points } }' }, hub.admin);
    expect(liabilities.body.extensions.cost.requestedQueryCost).toBe(1000);
  });

  it('a connection costs 2 + first × its selection (default 20); the actual cost counts the page returned', async () => {
    const own = await createPartner(hub);
    await enroll(hub, own);
    await enroll(hub, own);
    const q = (args: string) => `{ myPartner { members${args} { edges { node { id } } } } }`;
    const fifty = await raw(hub.url, { query: q('(first: 50)') }, own.token);
    // myPartner 1 + members 2 + 50 × (edges 1 + node 1); back: 2 members, so 1 + 2 + 2 × 2.
    expect(fifty.body.extensions.cost).toMatchObject({ requestedQueryCost: 103, actualQueryCost: 7 });
    const byDefault = await raw(hub.url, { query: q('') }, own.token);
    expect(byDefault.body.extensions.cost.requestedQueryCost).toBe(1 + 2 + 20 * 2);
    const hundred = await raw(hub.url, { query: `{ myPartner { members(first: 100) { edges { node { id transactions(first: 100) { edges { node { id } } } } } } } }` }, own.token);
    expect(hundred.status).toBe(400);
    expect(hundred.body.extensions.cost.requestedQueryCost).toBe(1 + 2 + 100 * (1 + 1 + 2 + 100 * 2));
  });

  it('every response carries extensions.cost in Shopify\'s shape, errors included', async () => {
    const ok = await raw(hub.url, { query: '{ coalition { name } }' }, partner.token);
    expect(ok.body.extensions.cost).toEqual({
      requestedQueryCost: 1, actualQueryCost: 1,
      throttleStatus: { maximumAvailable: 1_000_000_000, currentlyAvailable: expect.any(Number), restoreRate: 1_000_000_000 },
    });
    const invalid = await raw(hub.url, { query: '{ coalition { nope } }' }, partner.token);
    expect(invalid.status).toBe(400);
    expect(invalid.body.extensions.cost).toMatchObject({ requestedQueryCost: 0, actualQueryCost: 0, throttleStatus: expect.any(Object) });
    const anonymous = await raw(hub.url, { query: '{ causes { id } }' });
    expect(anonymous.body.extensions.cost.throttleStatus.maximumAvailable).toBe(1_000_000_000);
    const operator = await raw(hub.url, { query: '{ coalition { name } }' }, hub.admin);
    expect(operator.body.extensions.cost.throttleStatus.maximumAvailable).toBe(10_000_000_000);
  });

  it('a batch of 1000 purchases costs 10 + 1000 × its selection (5 for the usual payload: 5010) and fits in one request', async () => {
    const res = await raw(hub.url, { query: 'mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { transaction { id } userErrors { code } } }',
      variables: { inputs: [] } }, partner.token);
    expect(res.body.extensions.cost.requestedQueryCost).toBe(10);
    const big = await raw(hub.url, { query: `mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { ${POSTING_FIELDS} } }`,
      variables: { inputs: Array.from({ length: 1000 }, () => ({ idempotencyKey: 'x', memberId: 'not-an-id', amount: '1.00' })) } }, partner.token);
    expect(big.body.extensions.cost.requestedQueryCost).toBe(10 + 1000 * 5);
    expect(codeOf(big)).not.toBe('MAX_COST_EXCEEDED');
  });
});

describe('the leaky bucket per caller (issue 14, item 4)', () => {
  let small: TestHub;
  beforeAll(async () => {
    small = await startTestHub({ config: { rateLimitMaxCost: 2000, rateLimitRestoreRate: 10 } });
  });
  afterAll(async () => {
    await small?.close();
  });

  const stats = 'query($s: DateTime!, $e: DateTime!) { myPartner { stats(periodStart: $s, periodEnd: $e) { pointsIssued } } }';
  const month = { s: period(30).periodStart, e: period(30).periodEnd };

  it('a partner spending its 2000-point bucket on 531-point reports is refused the fourth: HTTP 429, Retry-After about 10 s, THROTTLED; another partner and the operator are not', async () => {
    const a = await createPartner(small);
    const b = await createPartner(small);
    const seen: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await raw(small.url, { query: stats, variables: month }, a.token);
      expect(res.status).toBe(200);
      expect(res.body.extensions.cost.requestedQueryCost).toBe(531);
      seen.push(res.body.extensions.cost.throttleStatus.currentlyAvailable);
    }
    expect(seen[0]).toBeGreaterThanOrEqual(1469);
    expect(seen[2]).toBeLessThan(531);
    const refused = await raw(small.url, { query: stats, variables: month }, a.token);
    expect(refused.status).toBe(429);
    expect(codeOf(refused)).toBe('THROTTLED');
    expect(refused.body.data).toBeUndefined();
    // (531 − what is left) / 10 a second, rounded up: 13 s when exactly 407 are left, less as it refills meanwhile.
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(13);
    expect(refused.body.errors[0].extensions.retryAfterSeconds).toBe(retryAfter);
    expect(refused.body.extensions.cost).toMatchObject({ requestedQueryCost: 531, actualQueryCost: 0, throttleStatus: { maximumAvailable: 2000, restoreRate: 10 } });

    expect((await raw(small.url, { query: stats, variables: month }, b.token)).status).toBe(200);
    expect((await raw(small.url, { query: '{ ledgerCheck { ok } }' }, small.admin)).status).toBe(200);

    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    const again = await raw(small.url, { query: stats, variables: month }, a.token);
    expect(again.status).toBe(200);
    expect(await ledgerCheck(small)).toEqual({ ok: true, violations: [] });
  });

  it('a request cheaper than what is left still passes while an expensive one waits (the bucket is points, not requests)', async () => {
    const a = await createPartner(small);
    for (let i = 0; i < 3; i += 1) await raw(small.url, { query: stats, variables: month }, a.token);
    expect((await raw(small.url, { query: stats, variables: month }, a.token)).status).toBe(429);
    const cheap = await raw(small.url, { query: '{ myPartner { id } }' }, a.token);
    expect(cheap.status).toBe(200);
    expect(cheap.body.extensions.cost.requestedQueryCost).toBe(1);
  });

  it('members are throttled each on their own bucket', async () => {
    const p = await createPartner(small);
    const m = await enroll(small, p);
    const res = await raw(small.url, { query: '{ me { id } }' }, m.token);
    expect(res.body.extensions.cost.throttleStatus).toEqual({ maximumAvailable: 2000, currentlyAvailable: expect.any(Number), restoreRate: 10 });
    expect(res.body.extensions.cost.throttleStatus.currentlyAvailable).toBeGreaterThanOrEqual(1999);
  });
});

describe('tokens (item 20)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: object) => jwt.sign(claims, hub.config.jwtSecret, { algorithm: 'HS256', issuer: 'coalition-hub', audience: 'coalition-hub' });
  const ask = (token: string) => raw(hub.url, { query: '{ coalition { name } }' }, token);

  it.each([
    ['exp in 2200 (lifetime 174 years)', () => sign({ role: 'ADMIN', iat: now(), exp: Date.UTC(2200, 0, 1) / 1000 })],
    ['a lifetime one second over 30 days', () => sign({ role: 'ADMIN', iat: now(), exp: now() + 30 * 86400 + 1 })],
    ['no iat (exp in an hour)', () => jwt.sign({ role: 'ADMIN', exp: now() + 3600 }, hub.config.jwtSecret, { algorithm: 'HS256', issuer: 'coalition-hub', audience: 'coalition-hub', noTimestamp: true })],
    ['iat in 2199 and exp in 2200 (issued in the future)', () => sign({ role: 'ADMIN', iat: Date.UTC(2199, 11, 20) / 1000, exp: Date.UTC(2200, 0, 1) / 1000 })],
  ])('a token with %s is UNAUTHENTICATED', async (_name, token) => {
    const res = await ask(token());
    expect(codeOf(res)).toBe('UNAUTHENTICATED');
    expect(res.body.data?.coalition ?? null).toBeNull();
  });

  it('a token living exactly 30 days is accepted', async () => {
    const res = await ask(sign({ role: 'ADMIN', iat: now(), exp: now() + 30 * 86400 }));
    expect(res.status).toBe(200);
    expect(res.body.data.coalition.name).toEqual(expect.any(String));
  });

  it('issueToken with the longest ttl still signs a token that works', async () => {
    const res = await raw(hub.url, { query: 'mutation($input: IssueTokenInput!) { issueToken(input: $input) { token } }',
      variables: { input: { role: 'PARTNER', subjectId: partner.id, ttlSeconds: 30 * 86400 } } }, hub.admin);
    const token = res.body.data.issueToken.token;
    expect((await raw(hub.url, { query: '{ myPartner { id } }' }, token)).body.data.myPartner.id).toBe(partner.id);
    expect(hub.token({ role: Role.PARTNER, partnerId: partner.id })).toEqual(expect.any(String));
  });

  it('an automatic persisted query with a wrong sha256Hash is a clean 400 (APQ off), nothing logged as a fault', async () => {
    logged.length = 0;
    for (const body of [
      { query: '{ coalition { name } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } },
      { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } },
    ]) {
      const res = await raw(hub.url, body, hub.admin);
      expect(res.status).toBe(400);
      expect(codeOf(res)).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
      expect(JSON.stringify(res.body)).not.toMatch(/stacktrace|at .*\.js:\d+/);
    }
    expect(logged).toEqual([]);
  });
});
