import { DemoError, graphqlRequest, runDemo } from '../../src/cli/demo';
import { TestHub, startTestHub } from '../support/hub';
import { ledgerCheck } from '../support/scenario';

/**
 * npm run demo against a running hub: it seeds through the GraphQL API only, and the tokens it
 * prints work for their roles. Running it again posts nothing twice.
 */
let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

/** Runs the demo and returns what it printed, as the user sees it. */
async function demo(now?: Date) {
  const out: string[] = [];
  const result = await runDemo({ url: hub.url, adminToken: hub.admin, print: (line) => out.push(line), ...(now ? { now } : {}) });
  const text = out.join('\n');
  const tokens = Object.fromEntries([...text.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const posted = /the demo posted .* = (-?\d+) points$/m.exec(text);
  return { result, text, tokens, postedSum: posted ? Number(posted[1]) : undefined };
}

async function countOf(table: string): Promise<number> {
  return Number((await hub.db.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);
}

it('seeds 3 partners, 20 members, a month of purchases, a refund, redemptions, donations and an affiliate; the printed tokens work for each role', async () => {
  const { result, text, tokens, postedSum } = await demo();
  expect(result.mode).toBe('seeded');
  expect(text).toContain(`GraphiQL: open ${hub.url}`);
  expect(Object.keys(tokens).sort()).toEqual(['AFFILIATE_TOKEN', 'MEMBER_TOKEN', 'OPERATOR_TOKEN',
    'PARTNER_FUEL_STOP_TOKEN', 'PARTNER_GREEN_GROCER_TOKEN', 'PARTNER_STAR_CINEMA_TOKEN']);

  // The member token: its balance is the sum of the postings the demo printed for it.
  expect(postedSum).toBeDefined();
  const me = await hub.gql('{ me { email balance transactions(first: 100) { totalCount edges { node { type occurredAt } } } } }', {}, tokens.MEMBER_TOKEN);
  expect(me.data.me.email).toBe('ann.demo@example.com');
  expect(me.data.me.balance).toBe(postedSum);
  expect(postedSum).toBeGreaterThan(0);
  const types = new Set(me.data.me.transactions.edges.map((e: any) => e.node.type));
  expect(types).toEqual(new Set(['PURCHASE', 'REDEMPTION', 'DONATION']));
  // A month of purchases, none backdated more than 28 days.
  const oldest = Math.min(...me.data.me.transactions.edges.map((e: any) => Date.parse(e.node.occurredAt)));
  expect(Date.now() - oldest).toBeLessThan(28 * 24 * 3600 * 1000);

  // A partner token reads its own partner and its members.
  const grocer = await hub.gql('{ myPartner { code members(first: 1) { totalCount } transactions(first: 1) { totalCount } } }', {}, tokens.PARTNER_GREEN_GROCER_TOKEN);
  expect(grocer.data.myPartner.code).toBe('green-grocer');
  expect(grocer.data.myPartner.members.totalCount).toBeGreaterThanOrEqual(7);
  const fuel = await hub.gql('{ myPartner { code } }', {}, tokens.PARTNER_FUEL_STOP_TOKEN);
  expect(fuel.data.myPartner.code).toBe('fuel-stop');

  // The affiliate token: one member attributed, commissions from the grocer and the cinema plans.
  const affiliate = await hub.gql('{ myAffiliate { code referredMembers commissions(first: 10) { totalCount } } }', {}, tokens.AFFILIATE_TOKEN);
  expect(affiliate.data.myAffiliate.code).toBe(result.affiliate.code);
  expect(affiliate.data.myAffiliate.referredMembers).toBe(1);
  expect(affiliate.data.myAffiliate.commissions.totalCount).toBeGreaterThan(0);

  // The operator token: 20 members, cross-partner redemptions owed, a refund, a cause with matched donations; the ledger is clean.
  expect(await countOf('member')).toBe(20);
  expect(await countOf('obligation')).toBeGreaterThan(0);
  expect(Number((await hub.db.query("SELECT count(*)::int AS n FROM ledger_transaction WHERE type = 'REVERSAL'"))[0].n)).toBe(1);
  const causes = await hub.gql('{ causes { name donatedPoints matchedPoints donors } }', {}, tokens.OPERATOR_TOKEN);
  expect(causes.data.causes).toEqual([expect.objectContaining({ name: 'City Food Bank', matchedPoints: expect.any(Number) })]);
  expect(causes.data.causes[0].donors).toBeGreaterThanOrEqual(3);
  expect(causes.data.causes[0].matchedPoints).toBeGreaterThan(0);
  const referrals = await hub.gql('{ member: memberByIdentifier(email: "bob.demo@example.com") { referralStats { successfulReferrals } } }', {}, tokens.OPERATOR_TOKEN);
  expect(referrals.data.member.referralStats.successfulReferrals).toBe(3);
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

it('a second run against the same hub says it was already seeded and posts nothing twice; its tokens work', async () => {
  const before = { transactions: await countOf('ledger_transaction'), members: await countOf('member'), partners: await countOf('partner') };
  const { result, text, tokens, postedSum } = await demo();
  expect(result.mode).toBe('replayed');
  expect(text).toContain('was already seeded by the demo');
  expect({ transactions: await countOf('ledger_transaction'), members: await countOf('member'), partners: await countOf('partner') }).toEqual(before);
  const me = await hub.gql('{ me { balance } }', {}, tokens.MEMBER_TOKEN);
  expect(me.data.me.balance).toBe(postedSum);
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

it('more than a day after seeding, a run only prints fresh tokens for the data there', async () => {
  const before = await countOf('ledger_transaction');
  const later = new Date(Date.now() + 2 * 24 * 3600 * 1000);
  const { result, text, tokens } = await demo(later);
  expect(result.mode).toBe('tokens-only');
  expect(text).toContain('it is not seeded again');
  expect(await countOf('ledger_transaction')).toBe(before);
  const me = await hub.gql('{ me { balance } }', {}, tokens.MEMBER_TOKEN);
  expect(me.data.me.balance).toBe(result.member.balance);
  expect(text).toContain(`balance ${result.member.balance} points`);
});

it('an operator token the hub does not accept stops the demo with one sentence naming the fix', async () => {
  await expect(runDemo({ url: hub.url, adminToken: 'not-a-token', print: () => undefined }))
    .rejects.toThrow(new DemoError('the hub refused the operator token: run the demo with the same DATA_DIR (or JWT_SECRET) as the hub'));
});

it('a hub that is not running is named with how to start it', async () => {
  const { createServer } = await import('node:http');
  const closed = createServer();
  await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
  const { port } = closed.address() as { port: number };
  await new Promise((done) => closed.close(done));
  await expect(runDemo({ url: `http://127.0.0.1:${port}/graphql`, adminToken: hub.admin, print: () => undefined }))
    .rejects.toThrow(new RegExp(`cannot reach the hub at http://127\\.0\\.0\\.1:${port}/graphql \\(.*ECONNREFUSED.*npm start`));
});

it('a throttled request (HTTP 429) is sent again after Retry-After, so a rate-limited hub can still be seeded', async () => {
  const { createServer } = await import('node:http');
  let calls = 0;
  const server = createServer((req, res) => {
    calls += 1;
    req.resume();
    if (calls === 1) {
      res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"errors":[{"message":"throttled"}]}');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"coalition":{"name":"City Rewards"}}}');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  try {
    const { port } = server.address() as { port: number };
    const data = await graphqlRequest(`http://127.0.0.1:${port}/graphql`, hub.admin, '{ coalition { name } }');
    expect({ data, calls }).toEqual({ data: { coalition: { name: 'City Rewards' } }, calls: 2 });
  } finally {
    server.close();
  }
});
