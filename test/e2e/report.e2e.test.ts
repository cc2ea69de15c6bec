import { TestHub, startTestHub } from '../support/hub';
import { TestPartner, bonus, createPartner, enroll, purchase, redeem, reverse, unique } from '../support/scenario';

/** Partner reports (docs/rules.md, Reports) through GraphQL, against figures worked out by hand. */
let hub: TestHub;
let grocer: TestPartner;
let fuel: TestPartner;

beforeAll(async () => {
  hub = await startTestHub();
  grocer = await createPartner(hub, { pointsPerUnit: '1' }, '0.01');
  fuel = await createPartner(hub, { pointsPerUnit: '1' }, '0.02');
});
afterAll(() => hub.close());

const STATS = `query($start: DateTime!, $end: DateTime!) { myPartner { stats(periodStart: $start, periodEnd: $end) {
  partner { id } membersLinked activeMembers pointsIssued pointsReversed pointsRedeemed pointsExpired pointsDonated
  outstandingPoints outstandingValue { amount currency } breakageRate redemptionRate retainedMembers retention } } }`;

it('reports issued, reversed, redeemed and expired points, liability, rates and retention for a period', async () => {
  const pause = () => new Promise((r) => setTimeout(r, 5));
  const ann = await enroll(hub, grocer, { email: `${unique('ann')}@example.com` });
  const bob = await enroll(hub, grocer, { email: `${unique('bob')}@example.com` });
  await enroll(hub, fuel, { email: `${unique('fuel')}@example.com` });
  const previousStart = new Date();
  await pause();
  await purchase(hub, grocer, ann, '10.00'); // ann active in the previous period
  await purchase(hub, grocer, bob, '10.00'); // bob too
  await pause();
  const start = new Date();
  await pause();
  const big = await purchase(hub, grocer, ann, '400.00'); // 400 issued
  await bonus(hub, grocer.token, ann, 100, { action: 'SURVEY' }); // 100 issued
  await reverse(hub, grocer.token, big.transaction.id, '100.00'); // 100 taken back
  const spent = await redeem(hub, grocer, ann, 120);
  await redeem(hub, grocer, ann, 30);
  await reverse(hub, grocer.token, spent.transaction.id); // the 120 come back: 30 redeemed, net
  // Expire 50 of ann's grocer points: the lot's expiry is moved into the past to stand in for time passing.
  await hub.db.query(`UPDATE lot SET expires_at = now() - interval '1 second' WHERE member_id = $1 AND transaction_id = $2`,
    [ann.id, (await hub.db.query(`SELECT id FROM ledger_transaction WHERE member_id = $1 AND type = 'BONUS'`, [ann.id]))[0].id]);
  const expired = await hub.gql('mutation { runExpiry(input: {}) { expiredPoints expiredLots userErrors { code } } }', {}, hub.admin);
  expect(expired.data.runExpiry).toMatchObject({ expiredPoints: 100, expiredLots: 1 });
  await pause();
  const end = new Date();

  // Retention compares [start, end) with the period of equal length before it.
  const previousLength = start.getTime() - previousStart.getTime();
  const res = await hub.gql(STATS, { start, end: new Date(start.getTime() + Math.max(end.getTime() - start.getTime(), previousLength)) }, grocer.token);
  const stats = res.data.myPartner.stats;
  expect(stats).toMatchObject({
    partner: { id: grocer.id }, membersLinked: 2, activeMembers: 2,
    pointsIssued: 500, pointsReversed: 100, pointsRedeemed: 30, pointsExpired: 100, pointsDonated: 0,
    breakageRate: '0.2', redemptionRate: '0.06', retainedMembers: 1, retention: '0.5',
  });
  // Outstanding: ann 10 + 400 − 100 − 30 = 280 in the purchase lots, bob 10: 290 grocer points at 0.01.
  expect(stats.outstandingPoints).toBe(290);
  expect(stats.outstandingValue).toEqual({ amount: '2.90', currency: 'EUR' });

  const all = await hub.gql(`query($start: DateTime!, $end: DateTime!) { partnerStats(periodStart: $start, periodEnd: $end) { partner { id } pointsIssued } }`,
    { start, end }, hub.admin);
  expect(all.data.partnerStats.map((s: { partner: { id: string } }) => s.partner.id).sort()).toEqual([grocer.id, fuel.id].sort());
  const refused = await hub.gql(`query($start: DateTime!, $end: DateTime!) { partnerStats(periodStart: $start, periodEnd: $end) { pointsIssued } }`,
    { start, end }, grocer.token);
  expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

  const liabilities = await hub.gql('{ liabilities { issuer { type id } points value { amount } } }', {}, hub.admin);
  expect(liabilities.data.liabilities).toContainEqual({ issuer: { type: 'PARTNER', id: grocer.id }, points: 290, value: { amount: '2.90' } });
});
