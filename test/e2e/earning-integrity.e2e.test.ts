import { Role } from '../../src/api/auth';
import { decodeTransactionId } from '../../src/common/ids';
import { TestHub, startTestHub } from '../support/hub';
import {
  POSTING_FIELDS, TestMember, TestPartner, balanceOf, createPartner, enroll, ledgerCheck, ledgerRowCounts, purchase, redeem, reverse, unique,
} from '../support/scenario';

/**
 * Program integrity on the earning side (issue 9, items 5, 6 and 14; docs/rules.md, Earning; Tiers):
 * visits (minSpend reached, not fully refunded) drive the first-purchase bonus and the punch card;
 * occurredAt is bounded by the coalition's maxBackdateDays; commission holds count from the later
 * of occurredAt and the posting; tier qualification sums in 64 bits; the expiry job skips a member
 * that fails and goes on. This file configures one tier (Gold, 2,000,000,000 qualifying points,
 * ×1) so tier sums are computed on every purchase; no scenario but the 64-bit ones comes near it.
 */
let hub: TestHub;

const CONFIGURE = `mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) {
  coalition { maxBackdateDays tiers { name qualifyingPoints } } userErrors { code message field } } }`;
const GOLD = { name: 'Gold', qualifyingPoints: 2_000_000_000, earnMultiplier: '1' };
const COALITION = { name: 'Integrity Rewards', currency: 'EUR', donationValuePerPoint: '0.01', tiers: [GOLD] };

beforeAll(async () => {
  hub = await startTestHub();
  const res = await hub.gql(CONFIGURE, { input: COALITION }, hub.admin);
  expect(res.data.configureCoalition).toEqual({ coalition: { maxBackdateDays: 30, tiers: [{ name: 'Gold', qualifyingPoints: 2_000_000_000 }] }, userErrors: [] });
});
afterAll(() => hub.close());

afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

const DAY_MS = 86_400_000;
const RECORD = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { ${POSTING_FIELDS} } }`;
const RECORD_MANY = `mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { ${POSTING_FIELDS} } }`;
const QUOTE = 'query($input: RecordPurchaseInput!) { quotePurchase(input: $input) { points breakdown { rule points detail } userErrors { code message field } } }';
const RUN_EXPIRY = 'mutation { runExpiry { expiredPoints expiredLots tierChanges skippedMembers userErrors { code message field } } }';
const TIER_FIELDS = 'tier { name } tierProgress { qualifyingPoints nextTier { name } pointsToNextTier }';

const steps = (breakdown: { rule: string; points: number }[]) => breakdown.map((b) => [b.rule, b.points]);

async function buy(partner: TestPartner, member: TestMember, amount: string, extra: Record<string, unknown> = {}) {
  const res = await purchase(hub, partner, member, amount, extra);
  expect(res.userErrors).toEqual([]);
  return res.transaction as { id: string; points: number; postedAt: string; breakdown: { rule: string; points: number }[] };
}

async function refund(partner: TestPartner, transactionId: string, amount?: string) {
  const res = await reverse(hub, partner.token, transactionId, amount);
  expect(res.userErrors).toEqual([]);
  return res.transaction as { points: number };
}

describe('visits: a purchase reaching minSpend and not fully refunded', () => {
  it('a fully refunded first purchase stops counting: the next purchase is "first" again and gets the 50 bonus (the refund took the first one back)', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1', firstPurchaseBonus: 50 });
    const member = await enroll(hub, partner);
    const first = await buy(partner, member, '10.00');
    expect(steps(first.breakdown)).toEqual([['BASE', 10], ['FIRST_PURCHASE_BONUS', 50]]);
    // Bonuses within a purchase are reversed with it: the full refund takes back all 60.
    expect((await refund(partner, first.id)).points).toBe(-60);
    const again = await buy(partner, member, '10.00');
    expect(steps(again.breakdown)).toEqual([['BASE', 10], ['FIRST_PURCHASE_BONUS', 50]]);
    expect(steps((await buy(partner, member, '10.00')).breakdown)).toEqual([['BASE', 10]]);
    expect(await balanceOf(hub, member)).toBe(70);
  });

  it('a partly refunded purchase stays a visit: no second first-purchase bonus after a refund of 9.99 of 10.00', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1', firstPurchaseBonus: 50 });
    const member = await enroll(hub, partner);
    const first = await buy(partner, member, '10.00');
    await refund(partner, first.id, '9.99');
    expect(steps((await buy(partner, member, '10.00')).breakdown)).toEqual([['BASE', 10]]);
  });

  it('punch card every 3rd visit: a fully refunded visit drops out of the count, so the 4th purchase is the 3rd visit and earns the 20 bonus', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1', everyNthVisit: 3, visitBonus: 20 });
    const member = await enroll(hub, partner);
    await buy(partner, member, '10.00');
    const second = await buy(partner, member, '10.00');
    await refund(partner, second.id);
    expect(steps((await buy(partner, member, '10.00')).breakdown)).toEqual([['BASE', 10]]);
    expect(steps((await buy(partner, member, '10.00')).breakdown)).toEqual([['BASE', 10], ['VISIT_BONUS', 20]]);
  });

  it('punch card: refunding the visit that earned the bonus takes the 20 back with it (−30), and the next visit completes the card again', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1', everyNthVisit: 3, visitBonus: 20 });
    const member = await enroll(hub, partner);
    await buy(partner, member, '10.00');
    await buy(partner, member, '10.00');
    const third = await buy(partner, member, '10.00');
    expect(third.points).toBe(30);
    expect((await refund(partner, third.id)).points).toBe(-30);
    expect(steps((await buy(partner, member, '10.00')).breakdown)).toEqual([['BASE', 10], ['VISIT_BONUS', 20]]);
    expect(await balanceOf(hub, member)).toBe(50);
  });

  it('punch card: refunding an earlier visit after the card was completed pays no second bonus for the same card; the 6th visit does', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1', everyNthVisit: 3, visitBonus: 20 });
    const member = await enroll(hub, partner);
    const first = await buy(partner, member, '10.00');
    await buy(partner, member, '10.00');
    expect((await buy(partner, member, '10.00')).points).toBe(30);
    await refund(partner, first.id);
    // Visits left: 2 (the card they completed is paid). These are visits 3, 4 and 5: no bonus.
    for (let i = 0; i < 3; i++) expect(steps((await buy(partner, member, '10.00')).breakdown)).toEqual([['BASE', 10]]);
    expect(steps((await buy(partner, member, '10.00')).breakdown)).toEqual([['BASE', 10], ['VISIT_BONUS', 20]]);
  });

  it('two purchases in one recordPurchases batch: a below-minSpend one (4.99 of 5.00) between them does not count, the 5.00 one is the first', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1', minSpend: '5.00', firstPurchaseBonus: 50, everyNthVisit: 2, visitBonus: 20 });
    const member = await enroll(hub, partner);
    const item = (amount: string) => ({ idempotencyKey: unique('k'), memberId: member.id, amount });
    const res = await hub.gql(RECORD_MANY, { inputs: [item('4.99'), item('5.00'), item('4.99'), item('5.00')] }, partner.token);
    expect(res.errors).toBeUndefined();
    expect(res.data.recordPurchases.map((r: { transaction: { breakdown: { rule: string; points: number }[] } }) => steps(r.transaction.breakdown))).toEqual([
      [['MIN_SPEND', 0]],
      [['BASE', 5], ['FIRST_PURCHASE_BONUS', 50]],
      [['MIN_SPEND', 0]],
      [['BASE', 5], ['VISIT_BONUS', 20]],
    ]);
  });
});

describe('backdating: occurredAt within maxBackdateDays (default 30) in the past and 5 minutes ahead', () => {
  const ago = (days: number, ms = 0) => new Date(Date.now() - days * DAY_MS + ms).toISOString();

  it.each([
    ['31 days ago', () => ago(31), /at most 30 days in the past/],
    ['30 days and a minute ago', () => ago(30, -60_000), /at most 30 days in the past/],
    ['in 2000 (the old floor)', () => '2000-06-01T00:00:00Z', /at most 30 days in the past/],
    ['6 minutes ahead', () => new Date(Date.now() + 6 * 60_000).toISOString(), /future/],
  ])('an occurredAt %s is INVALID_INPUT on occurredAt in recordPurchase, recordPurchases and quotePurchase, and writes nothing', async (_why, when, message) => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await enroll(hub, partner);
    const input = { idempotencyKey: unique('k'), memberId: member.id, amount: '10.00', occurredAt: when() };
    const before = await ledgerRowCounts(hub);
    const single = await hub.gql(RECORD, { input }, partner.token);
    expect(single.data.recordPurchase).toMatchObject({ transaction: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'occurredAt'], message: expect.stringMatching(message) }] });
    const batch = await hub.gql(RECORD_MANY, { inputs: [input] }, partner.token);
    expect(batch.data.recordPurchases).toMatchObject([{ transaction: null, userErrors: [{ code: 'INVALID_INPUT', field: ['inputs', '0', 'occurredAt'] }] }]);
    const quote = await hub.gql(QUOTE, { input }, partner.token);
    expect(quote.data.quotePurchase).toMatchObject({ points: 0, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'occurredAt'] }] });
    expect(await ledgerRowCounts(hub)).toEqual(before);
  });

  it('accepts 29 days ago and 4 minutes ahead', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await enroll(hub, partner);
    expect((await buy(partner, member, '10.00', { occurredAt: ago(29) })).points).toBe(10);
    expect((await buy(partner, member, '10.00', { occurredAt: new Date(Date.now() + 4 * 60_000).toISOString() })).points).toBe(10);
  });

  it('maxBackdateDays is the operator\'s: 7 refuses 8 days ago and accepts 6; it shows on Coalition; 0 is INVALID_INPUT; omitted it stays as it is', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await enroll(hub, partner);
    try {
      const set = await hub.gql(CONFIGURE, { input: { ...COALITION, maxBackdateDays: 7 } }, hub.admin);
      expect(set.data.configureCoalition).toMatchObject({ coalition: { maxBackdateDays: 7 }, userErrors: [] });
      expect((await hub.gql('{ coalition { maxBackdateDays } }', {}, partner.token)).data.coalition).toEqual({ maxBackdateDays: 7 });
      const refused = await purchase(hub, partner, member, '10.00', { occurredAt: ago(8) });
      expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'occurredAt'], message: expect.stringMatching(/at most 7 days/) })]);
      expect((await buy(partner, member, '10.00', { occurredAt: ago(6) })).points).toBe(10);
      const zero = await hub.gql(CONFIGURE, { input: { ...COALITION, maxBackdateDays: 0 } }, hub.admin);
      expect(zero.data.configureCoalition).toMatchObject({ coalition: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'maxBackdateDays'] }] });
      const omitted = await hub.gql(CONFIGURE, { input: COALITION }, hub.admin);
      expect(omitted.data.configureCoalition).toMatchObject({ coalition: { maxBackdateDays: 7 }, userErrors: [] });
    } finally {
      const reset = await hub.gql(CONFIGURE, { input: { ...COALITION, maxBackdateDays: 30 } }, hub.admin);
      expect(reset.data.configureCoalition).toMatchObject({ coalition: { maxBackdateDays: 30 }, userErrors: [] });
    }
  });

  it('daily cap farming across past days is bounded by the window: 40 past days at a 100-a-day cap earn 3,000 (30 days), the 10 older ones are refused', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1', maxPointsPerMemberPerDay: 100 });
    const member = await enroll(hub, partner);
    // Day d: d days ago plus an hour, so day 30 is just inside the window and day 31 just outside it.
    const inputs = Array.from({ length: 40 }, (_, i) => ({ idempotencyKey: unique('k'), memberId: member.id, amount: '1000.00', occurredAt: ago(i + 1, 3_600_000) }));
    const res = await hub.gql(RECORD_MANY, { inputs }, partner.token);
    expect(res.errors).toBeUndefined();
    const results = res.data.recordPurchases as { transaction: { points: number } | null; userErrors: { code: string }[] }[];
    expect(results.slice(0, 30).map((r) => r.transaction?.points)).toEqual(Array(30).fill(100));
    expect(results.slice(30).map((r) => r.userErrors.map((e) => e.code))).toEqual(Array(10).fill(['INVALID_INPUT']));
    expect(await balanceOf(hub, member)).toBe(3000);
  });
});

describe('commission hold from the later of occurredAt and the posting', () => {
  it('a purchase backdated 20 days under a 30-day hold is PENDING, and approves 30 days after its posting (not 10 days from now)', async () => {
    const code = unique('p');
    const created = await hub.gql(`mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code message } } }`,
      { input: { code, name: `Partner ${code}`, redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' }, commissionPlan: { type: 'PERCENT_OF_SALE', rate: '0.1', holdDays: 30 } } },
      hub.admin);
    const partnerId = created.data.createPartner.partner.id;
    const partner: TestPartner = { id: partnerId, code, token: hub.token({ role: Role.PARTNER, partnerId }) };
    const aff = await hub.gql('mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { affiliate { id code } userErrors { code } } }',
      { input: { name: 'Blog', email: `${unique('aff')}@example.com` } }, hub.admin);
    const affiliate = aff.data.createAffiliate.affiliate;
    const member = await enroll(hub, partner, { affiliateCode: affiliate.code });
    // Attributed long ago, so the backdated purchase is the affiliate's (a sale before attribution earns nothing).
    await hub.db.query(`UPDATE member SET affiliate_attributed_at = now() - interval '400 days' WHERE id = $1`, [member.id]);
    const occurredAt = new Date(Date.now() - 20 * DAY_MS);
    const tx = await buy(partner, member, '10.00', { occurredAt: occurredAt.toISOString() });
    const token = hub.token({ role: Role.AFFILIATE, affiliateId: affiliate.id });
    const listed = await hub.gql('{ myAffiliate { commissions(first: 5) { edges { node { status occurredAt approvesAt amount { amount } } } } } }', {}, token);
    expect(listed.data.myAffiliate.commissions.edges.map((e: { node: unknown }) => e.node)).toEqual([{
      status: 'PENDING', occurredAt: occurredAt.toISOString(), approvesAt: new Date(new Date(tx.postedAt).getTime() + 30 * DAY_MS).toISOString(), amount: { amount: '1.00' },
    }]);
    const { memberId, transactionId } = decodeTransactionId(tx.id)!;
    const [row] = await hub.db.query('SELECT approves_at FROM commission WHERE member_id = $1 AND purchase_id = $2', [memberId, transactionId]);
    expect(new Date(row.approves_at).getTime()).toBeGreaterThan(Date.now() + 29 * DAY_MS);
  });
});

describe('64-bit tier qualification', () => {
  /** A partner generous enough that 2,000.00 earns 2,000,000,000 points (under the Int32 cap of one balance). */
  const generous = () => createPartner(hub, { pointsPerUnit: '1000000' });

  /** Purchases 2,000,000,000 points `times` times, redeeming them in between: the balance stays under 2^31, the window's sum passes it. */
  async function pastInt32(partner: TestPartner, member: TestMember, times: number) {
    for (let i = 0; i < times; i++) {
      expect((await buy(partner, member, '2000.00')).points).toBe(2_000_000_000);
      expect((await redeem(hub, partner, member, 2_000_000_000)).userErrors).toEqual([]);
    }
  }

  it('a member whose 365-day purchase points pass 2,147,483,647 (4,000,000,000) can still quote, purchase (→ 5,000,000,000) and see tier progress', async () => {
    const partner = await generous();
    const member = await enroll(hub, partner);
    await pastInt32(partner, member, 2);
    const input = { idempotencyKey: unique('k'), memberId: member.id, amount: '1000.00' };
    const quoted = await hub.gql(QUOTE, { input }, partner.token);
    expect(quoted.errors).toBeUndefined();
    expect(quoted.data.quotePurchase).toMatchObject({ points: 1_000_000_000, userErrors: [] });
    const recorded = await hub.gql(RECORD, { input }, partner.token);
    expect(recorded.errors).toBeUndefined();
    expect(recorded.data.recordPurchase).toMatchObject({ transaction: { points: 1_000_000_000 }, userErrors: [] });
    const me = await hub.gql(`{ me { ${TIER_FIELDS} } }`, {}, member.token);
    expect(me.errors).toBeUndefined();
    expect(me.data.me).toEqual({ tier: { name: 'Gold' }, tierProgress: { qualifyingPoints: 5_000_000_000, nextTier: null, pointsToNextTier: 0 } });
    const seen = await hub.gql(`query($id: ID!) { member(id: $id) { tierProgress { qualifyingPoints } } }`, { id: member.id }, partner.token);
    expect(seen.data.member.tierProgress.qualifyingPoints).toBe(5_000_000_000);
  });
});

describe('the expiry job works on all members: one member never stops it', () => {
  it('settles a member past 2^31 qualifying points, skips (and counts) a member whose update fails, and still downgrades and expires the others', async () => {
    const partner = await generousPartner();
    const big = await enroll(hub, partner);
    for (let i = 0; i < 2; i++) {
      await buy(partner, big, '2000.00');
      await redeem(hub, partner, big, 2_000_000_000);
    }
    const small = await createPartner(hub, { pointsPerUnit: '1' });
    const broken = await enroll(hub, small);
    const fine = await enroll(hub, small);
    for (const m of [broken, fine]) await buy(small, m, '10.00');
    // Stands in for the window sliding: both hold Gold without qualifying, and their lots are due.
    await hub.db.query(`UPDATE member SET tier = 'Gold' WHERE id = ANY($1::uuid[])`, [[broken.id, fine.id]]);
    await hub.db.query(`UPDATE lot SET expires_at = now() - interval '1 day' WHERE member_id = ANY($1::uuid[])`, [[broken.id, fine.id]]);
    // A fault injected in the database: every write to `broken`'s member row fails.
    await hub.db.query(`CREATE FUNCTION fail_one_member() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = '${broken.id}'::uuid THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$`);
    await hub.db.query('CREATE TRIGGER fail_one_member BEFORE UPDATE ON member FOR EACH ROW EXECUTE FUNCTION fail_one_member()');
    try {
      const res = await hub.gql(RUN_EXPIRY, {}, hub.admin);
      expect(res.errors).toBeUndefined();
      expect(res.data.runExpiry).toMatchObject({ expiredPoints: 10, expiredLots: 1, skippedMembers: 1, userErrors: [] });
      expect(res.data.runExpiry.tierChanges).toBeGreaterThanOrEqual(1);
      const tiers = await hub.db.query('SELECT id, tier, balance::int AS balance FROM member WHERE id = ANY($1::uuid[])', [[big.id, broken.id, fine.id]]);
      const byId = new Map(tiers.map((t: { id: string }) => [t.id, t]));
      expect(byId.get(big.id)).toMatchObject({ tier: 'Gold' });
      expect(byId.get(fine.id)).toMatchObject({ tier: null, balance: 0 });
      expect(byId.get(broken.id)).toMatchObject({ tier: 'Gold', balance: 10 });
    } finally {
      await hub.db.query('DROP TRIGGER fail_one_member ON member');
      await hub.db.query('DROP FUNCTION fail_one_member()');
    }
    // The next run picks the skipped member up.
    const next = await hub.gql(RUN_EXPIRY, {}, hub.admin);
    expect(next.data.runExpiry).toMatchObject({ expiredPoints: 10, expiredLots: 1, skippedMembers: 0, userErrors: [] });
    expect((await hub.db.query('SELECT tier FROM member WHERE id = $1', [broken.id]))[0].tier).toBeNull();
  });
});

function generousPartner() {
  return createPartner(hub, { pointsPerUnit: '1000000' });
}
