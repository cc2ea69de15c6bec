import { Client } from 'pg';
import { Role } from '../../src/api/auth';
import { TestHub, startTestHub } from '../support/hub';
import { TestPartner, createPartner, enroll, ledgerCheck, purchase, redeem, reverse, unique } from '../support/scenario';

/**
 * Settlement (docs/rules.md, Redemption and cross-redemption settlement) through GraphQL: the README's
 * worked example — three partners, members earning at one and spending at another.
 */
let hub: TestHub;
let grocer: TestPartner; // 0.010 a point redeemed
let fuel: TestPartner; // 0.008
let cinema: TestPartner; // 0.012

const CLOSE = `mutation($input: CloseSettlementPeriodInput!) { closeSettlementPeriod(input: $input) {
  run { id periodStart periodEnd lines { payer { type id name } payee { type id name } kind points amount { amount currency } }
        positions { party { type id } amount { amount } } transfers { from { id } to { id } amount { amount } } }
  userErrors { code message field } } }`;

beforeAll(async () => {
  hub = await startTestHub();
  grocer = await createPartner(hub, { pointsPerUnit: '1' }, '0.01');
  fuel = await createPartner(hub, { pointsPerUnit: '2' }, '0.008');
  cinema = await createPartner(hub, { pointsPerUnit: '1' }, '0.012');
});
afterAll(() => hub.close());

async function sharedMember() {
  const email = `${unique('s')}@example.com`;
  const member = await enroll(hub, grocer, { email });
  await enroll(hub, fuel, { email });
  await enroll(hub, cinema, { email });
  return member;
}

const pause = () => new Promise((r) => setTimeout(r, 5));

it('closes a period into lines, positions that sum to zero, and transfers that settle them', async () => {
  const periodStart = new Date();
  await pause();
  const ann = await sharedMember();
  const bob = await sharedMember();
  await purchase(hub, grocer, ann, '300.00'); // 300 grocer points
  await redeem(hub, fuel, ann, 250); // fuel redeems 250 grocer points: grocer owes fuel 250 × 0.008 = 2.00
  await purchase(hub, fuel, bob, '100.00'); // 200 fuel points
  await redeem(hub, cinema, bob, 125); // cinema redeems 125 fuel points: fuel owes cinema 125 × 0.012 = 1.50
  await redeem(hub, grocer, ann, 50); // its own points: nothing owed
  await pause();
  const periodEnd = new Date();

  const res = await hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin);
  const run = res.data.closeSettlementPeriod.run;
  expect(res.data.closeSettlementPeriod.userErrors).toEqual([]);
  expect(run.lines).toEqual([
    { payer: { type: 'PARTNER', id: fuel.id, name: `Partner ${fuel.code}` }, payee: { type: 'PARTNER', id: cinema.id, name: `Partner ${cinema.code}` },
      kind: 'REDEMPTION', points: 125, amount: { amount: '1.50', currency: 'EUR' } },
    { payer: { type: 'PARTNER', id: grocer.id, name: `Partner ${grocer.code}` }, payee: { type: 'PARTNER', id: fuel.id, name: `Partner ${fuel.code}` },
      kind: 'REDEMPTION', points: 250, amount: { amount: '2.00', currency: 'EUR' } },
  ].sort((a, b) => (a.payer.id < b.payer.id ? -1 : 1)));
  const position = (id: string) => run.positions.find((p: { party: { id: string } }) => p.party.id === id)?.amount.amount;
  expect([position(grocer.id), position(fuel.id), position(cinema.id)]).toEqual(['-2.00', '0.50', '1.50']);
  // Grocer pays; fuel and cinema receive: two payments at most, grocer never receives.
  expect(run.transfers).toEqual([
    { from: { id: grocer.id }, to: { id: cinema.id }, amount: { amount: '1.50' } },
    { from: { id: grocer.id }, to: { id: fuel.id }, amount: { amount: '0.50' } },
  ]);
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });

  // The same period again is the same run; an overlapping one is refused; a partner sees its share only.
  const again = await hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin);
  expect(again.data.closeSettlementPeriod.run.id).toBe(run.id);
  const overlap = await hub.gql(CLOSE, { input: { periodStart: new Date(periodStart.getTime() - 1000), periodEnd: new Date(periodStart.getTime() + 1) } }, hub.admin);
  expect(overlap.data.closeSettlementPeriod.userErrors).toMatchObject([{ code: 'PERIOD_OVERLAPS' }]);
  const asCinema = await hub.gql(`query($id: ID!) { settlementRun(id: $id) { lines { kind points } positions { party { id } } transfers { to { id } } } }`, { id: run.id }, cinema.token);
  expect(asCinema.data.settlementRun).toEqual({ lines: [{ kind: 'REDEMPTION', points: 125 }], positions: [{ party: { id: cinema.id } }], transfers: [{ to: { id: cinema.id } }] });

  const csv = await hub.gql(`query($id: ID!, $party: ID!) { settlementRun(id: $id) { statementCsv(partyId: $party) } }`, { id: run.id, party: fuel.id }, fuel.token);
  const rows = csv.data.settlementRun.statementCsv.trim().split('\r\n');
  expect(rows[0]).toBe('period_start,period_end,kind,direction,counterparty_type,counterparty,points,amount_EUR');
  expect(rows.slice(1, 3).map((r: string) => r.split(',').slice(2).join(','))).toEqual(expect.arrayContaining([
    `REDEMPTION,PAYABLE,PARTNER,Partner ${cinema.code},125,-1.50`,
    `REDEMPTION,RECEIVABLE,PARTNER,Partner ${grocer.code},250,2.00`,
  ]));
  expect(rows.at(-1)).toBe(',,TOTAL,NET,,,,0.50');
  const otherCsv = await hub.gql(`query($id: ID!, $party: ID!) { settlementRun(id: $id) { statementCsv(partyId: $party) } }`, { id: run.id, party: grocer.id }, fuel.token);
  expect(otherCsv.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
});

it('refuses a period that has not ended with PERIOD_NOT_ENDED, and a member with FORBIDDEN', async () => {
  const now = Date.now();
  const res = await hub.gql(CLOSE, { input: { periodStart: new Date(now - 1000), periodEnd: new Date(now + 60_000) } }, hub.admin);
  expect(res.data.closeSettlementPeriod).toMatchObject({ run: null, userErrors: [{ code: 'PERIOD_NOT_ENDED' }] });
  const member = await sharedMember();
  const asMember = await hub.gql('{ settlementRuns { totalCount } }', {}, hub.token({ role: Role.MEMBER, memberId: member.id }));
  expect(asMember.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
});

it('a posting in flight at the close (open 1 s, stamped inside the period) makes the close wait and succeed right after its commit, including it (not PERIOD_NOT_ENDED after 30 s)', async () => {
  const member = await sharedMember();
  const periodStart = new Date();
  await pause();
  // A posting that began before the period end, has written, and commits about a second later.
  const posting = new Client({ connectionString: hub.databaseUrl });
  await posting.connect();
  try {
    await posting.query('BEGIN');
    await posting.query(`INSERT INTO obligation (member_id, id, transaction_id, kind, payer_type, payer_id, payee_type, payee_id, points, rate, posted_at)
      VALUES ($1, gen_random_uuid(), gen_random_uuid(), 'REDEMPTION', 'PARTNER', $2, 'PARTNER', $3, 10, 0.012, now())`, [member.id, fuel.id, cinema.id]);
    await pause();
    const periodEnd = new Date();
    await pause();
    const began = Date.now();
    const closing = hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin).then((res) => ({ res, at: Date.now() }));
    await new Promise((r) => setTimeout(r, 1000));
    await posting.query('COMMIT');
    const committedAt = Date.now();
    const { res, at } = await closing;
    expect(res.data.closeSettlementPeriod.userErrors).toEqual([]);
    expect(at).toBeGreaterThanOrEqual(committedAt); // it waited for the posting
    expect(at - committedAt).toBeLessThan(5_000); // and went on right after its commit
    expect(at - began).toBeLessThan(10_000);
    expect(res.data.closeSettlementPeriod.run.lines).toEqual([{ payer: expect.objectContaining({ id: fuel.id }), payee: expect.objectContaining({ id: cinema.id }),
      kind: 'REDEMPTION', points: 10, amount: { amount: '0.12', currency: 'EUR' } }]);
  } finally {
    await posting.query('ROLLBACK').catch(() => undefined);
    await posting.end();
  }
});

it('a returned reward reverses its obligations in the period the return is posted', async () => {
  const member = await sharedMember();
  await purchase(hub, grocer, member, '100.00');
  const first = new Date();
  await pause();
  const spent = await redeem(hub, cinema, member, 80);
  await pause();
  const middle = new Date();
  await pause();
  await reverse(hub, cinema.token, spent.transaction.id);
  await pause();
  const end = new Date();
  const one = (await hub.gql(CLOSE, { input: { periodStart: first, periodEnd: middle } }, hub.admin)).data.closeSettlementPeriod.run;
  const two = (await hub.gql(CLOSE, { input: { periodStart: middle, periodEnd: end } }, hub.admin)).data.closeSettlementPeriod.run;
  expect(one.lines).toMatchObject([{ kind: 'REDEMPTION', points: 80, amount: { amount: '0.96' } }]);
  expect(two.lines).toMatchObject([{ kind: 'REDEMPTION', points: -80, amount: { amount: '-0.96' } }]);
  expect(two.transfers).toEqual([{ from: { id: cinema.id }, to: { id: grocer.id }, amount: { amount: '0.96' } }]);
});
