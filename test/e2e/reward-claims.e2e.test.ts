import { TestHub, startTestHub } from '../support/hub';
import { TestMember, TestPartner, balanceOf, createPartner, enroll, ledgerCheck, ledgerRowCounts, purchase, redeem, reverse, unique } from '../support/scenario';

/**
 * Claims, vouchers and REWARD settlement (docs/rules.md, Rewards, vouchers and clubs): claims through
 * the posting pipeline (refusals write nothing; idempotent; stock never oversold), vouchers looked up
 * and redeemed by the reward's partner only and once, voids and the expiry job giving the points back
 * to the lots they came from, REWARD settlement lines recomputed independently, and the events.
 */
let hub: TestHub;
const DAY = 86_400_000;

beforeAll(async () => {
  hub = await startTestHub({ poolSize: 20 });
  const res = await hub.gql(`mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { userErrors { code message } } }`,
    { input: { name: 'City Rewards', currency: 'EUR', donationValuePerPoint: '0.01', tiers: [{ name: 'Silver', qualifyingPoints: 100, earnMultiplier: '1' }, { name: 'Gold', qualifyingPoints: 100000, earnMultiplier: '1' }] } },
    hub.admin);
  expect(res.data.configureCoalition.userErrors).toEqual([]);
});
afterAll(() => hub.close());
afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

const VOUCHER_FIELDS = 'id code state reward { id name } member issuedAt expiresAt redeemedAt';
const CLAIM = `mutation($input: ClaimRewardInput!) { claimReward(input: $input) {
  voucher { ${VOUCHER_FIELDS} } membership { club { id } expiresAt source } transaction { id type points breakdown { rule points } } member { id balance debt }
  userErrors { code message field } } }`;
const VOUCHER = `query($code: String!) { voucher(code: $code) { ${VOUCHER_FIELDS} } }`;
const REDEEM = `mutation($input: RedeemVoucherInput!) { redeemVoucher(input: $input) { voucher { ${VOUCHER_FIELDS} } userErrors { code message field } } }`;
const VOID = `mutation($input: VoidVoucherInput!) { voidVoucher(input: $input) { voucher { ${VOUCHER_FIELDS} } transaction { id type points } member { id balance }
  userErrors { code message field } } }`;
const RUN_EXPIRY = 'mutation { runExpiry(input: {}) { expiredPoints expiredLots userErrors { code } } }';
const CLOSE = `mutation($input: CloseSettlementPeriodInput!) { closeSettlementPeriod(input: $input) {
  run { lines { payer { type id } payee { type id } kind points amount { amount } } } userErrors { code message } } }`;

async function createReward(token: string, input: Record<string, unknown>): Promise<{ id: string; name: string }> {
  const res = await hub.gql(`mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id name } userErrors { code message } } }`,
    { input: { name: unique('Reward '), ...input } }, token);
  expect(res.data.createReward.userErrors).toEqual([]);
  return res.data.createReward.reward;
}

async function claim(token: string, rewardId: string, extra: Record<string, unknown> = {}) {
  const res = await hub.gql(CLAIM, { input: { idempotencyKey: unique('k'), rewardId, ...extra } }, token);
  expect(res.errors).toBeUndefined();
  return res.data.claimReward;
}

const emails = new Map<string, string>();

/** A member with `points` earned at `partner` (1 point a unit). */
async function memberWith(partner: TestPartner, points: number): Promise<TestMember> {
  const email = `${unique('m')}@example.com`;
  const member = await enroll(hub, partner, { email });
  emails.set(member.id, email);
  if (points > 0) expect((await purchase(hub, partner, member, `${points}.00`)).userErrors).toEqual([]);
  return member;
}

/** Links the member to another partner (enrolling its e-mail there), so that partner may post for it. */
async function link(partner: TestPartner, member: TestMember): Promise<void> {
  await enroll(hub, partner, { email: emails.get(member.id) });
}

async function lots(member: TestMember): Promise<{ issuer: string | null; points: number; remaining: number; expiresAt: string }[]> {
  const found = await hub.db.query('SELECT issuer_id, points, remaining, expires_at FROM lot WHERE member_id = $1 ORDER BY created_at, id', [member.id]);
  return found.map((l: { issuer_id: string | null; points: number; remaining: number; expires_at: Date }) => ({ issuer: l.issuer_id, points: l.points, remaining: l.remaining,
    expiresAt: l.expires_at.toISOString() }));
}

/** Half-up rounding of points × rate (rate a decimal string) to cents, independently of the hub's maths. */
function cents(points: number, rate: string): string {
  const [whole, frac = ''] = rate.split('.');
  const scaled = BigInt(whole! + frac.padEnd(6, '0')); // rate × 10^6
  const micro = BigInt(points) * scaled; // money × 10^6
  const c = (micro + 5000n) / 10000n; // half up to cents (positive amounts)
  return `${c / 100n}.${(c % 100n).toString().padStart(2, '0')}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('settlement', () => {
  it('a member earns at two partners and claims a third partner’s reward: REWARD lines issuer → reward partner at value / price a point, nothing for its own lots, operator rewards paid to the operator — as recomputed', async () => {
    const start = new Date(Date.now() - 1);
    await sleep(5);
    const grocer = await createPartner(hub);
    const fuel = await createPartner(hub);
    const cinema = await createPartner(hub, { pointsPerUnit: '1' }, '0.0075');
    const ticket = await createReward(cinema.token, { name: 'Cinema ticket', pointsPrice: 400 }); // value 3.00: 0.0075 a point
    // 0.01 a point, above cinema's own 0.0075: priced by the operator (a partner may not exceed its redemption value).
    const popcorn = await createReward(hub.admin, { partnerId: cinema.id, name: 'Popcorn', pointsPrice: 67, value: '0.67' });
    const operatorGift = await createReward(hub.admin, { name: 'Coalition mug', pointsPrice: 201, value: '2.01' }); // 0.01 a point, paid to the operator

    // A: grocer 200, fuel 150, cinema 100 (oldest first: same validity) → the ticket takes 200 + 150 + 50 (cinema's own: owes nothing).
    const a = await memberWith(grocer, 200);
    await link(fuel, a);
    await link(cinema, a);
    expect((await purchase(hub, fuel, a, '150.00')).userErrors).toEqual([]);
    expect((await purchase(hub, cinema, a, '100.00')).userErrors).toEqual([]);
    const claimed = await claim(a.token, ticket.id);
    expect(claimed.userErrors).toEqual([]);
    expect(claimed.transaction).toMatchObject({ type: 'REWARD', points: -400, breakdown: [{ rule: 'REWARD', points: -400 }] });
    expect(claimed.member).toMatchObject({ id: a.id, balance: 50, debt: 0 });
    expect(claimed.voucher).toMatchObject({ state: 'ISSUED', reward: { id: ticket.id }, redeemedAt: null, member: a.memberCode });
    expect(claimed.voucher.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]$/);
    expect(new Date(claimed.voucher.expiresAt).getTime() - new Date(claimed.voucher.issuedAt).getTime()).toBe(30 * DAY);
    expect(await lots(a)).toMatchObject([{ issuer: grocer.id, remaining: 0 }, { issuer: fuel.id, remaining: 0 }, { issuer: cinema.id, remaining: 50 }]);

    // B: fuel 67 → popcorn (fuel → cinema 67 at 0.01 = 0.67); C: grocer 201 → the operator's mug (grocer → operator 2.01).
    const b = await memberWith(fuel, 67);
    expect((await claim(b.token, popcorn.id)).userErrors).toEqual([]);
    const c = await memberWith(grocer, 201);
    expect((await claim(c.token, operatorGift.id)).userErrors).toEqual([]);
    // D: grocer 33 + fuel 1 → popcorn needs 67: refused; nothing written.
    const d = await memberWith(grocer, 33);
    expect((await claim(d.token, popcorn.id)).userErrors).toMatchObject([{ code: 'INSUFFICIENT_POINTS' }]);

    await sleep(5);
    const end = new Date();
    await sleep(5);
    const res = await hub.gql(CLOSE, { input: { periodStart: start, periodEnd: end } }, hub.admin);
    expect(res.data.closeSettlementPeriod.userErrors).toEqual([]);
    const rewardLines = res.data.closeSettlementPeriod.run.lines.filter((l: { kind: string }) => l.kind === 'REWARD');
    // Independent recomputation: consumed points per (issuer, payee) at each reward's value / price, one half-up rounding a line.
    const sum = (parts: [number, string][]) => {
      const micro = parts.reduce((acc, [p, rate]) => acc + BigInt(p) * BigInt(rate.replace('.', '').padEnd(7, '0')), 0n); // rates here have ≤ 6 decimals: "0.0075" → 7500
      return cents(Number(micro), '0.000001');
    };
    const expected = [
      { payer: { type: 'PARTNER', id: grocer.id }, payee: { type: 'PARTNER', id: cinema.id }, kind: 'REWARD', points: '200', amount: { amount: cents(200, '0.0075') } },
      { payer: { type: 'PARTNER', id: fuel.id }, payee: { type: 'PARTNER', id: cinema.id }, kind: 'REWARD', points: '217', amount: { amount: sum([[150, '0.0075'], [67, '0.01']]) } },
      { payer: { type: 'PARTNER', id: grocer.id }, payee: { type: 'OPERATOR', id: 'operator' }, kind: 'REWARD', points: '201', amount: { amount: cents(201, '0.01') } },
    ];
    expect(expected.map((e) => e.amount.amount)).toEqual(['1.50', '1.80', '2.01']); // 150 × 0.0075 + 67 × 0.01 = 1.795 → 1.80
    expect(rewardLines.map((l: { points: unknown }) => ({ ...l, points: String(l.points) }))).toEqual(expect.arrayContaining(expected));
    expect(rewardLines).toHaveLength(3);
  });
});

describe('stock', () => {
  it('200 concurrent claims through HTTP of a reward with stock 10: exactly 10 vouchers, 190 OUT_OF_STOCK, every refused claimant keeps its points', async () => {
    const shop = await createPartner(hub);
    const reward = await createReward(shop.token, { pointsPrice: 100, stock: 10 });
    const members: TestMember[] = [];
    for (let i = 0; i < 200; i += 20) members.push(...(await Promise.all(Array.from({ length: 20 }, () => enroll(hub, shop)))));
    const batch = await hub.gql(`mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { userErrors { code } } }`,
      { inputs: members.map((m) => ({ idempotencyKey: unique('k'), memberId: m.id, amount: '150.00' })) }, shop.token);
    expect(batch.errors).toBeUndefined();
    const results = await Promise.all(members.map((m) => hub.gql(CLAIM, { input: { idempotencyKey: unique('k'), rewardId: reward.id } }, m.token)));
    const payloads = results.map((r) => { expect(r.errors).toBeUndefined(); return r.data.claimReward; });
    const won = payloads.filter((p) => p.userErrors.length === 0);
    const lost = payloads.filter((p) => p.userErrors.length > 0);
    expect(won).toHaveLength(10);
    expect(lost).toHaveLength(190);
    expect(new Set(lost.map((p) => p.userErrors[0].code))).toEqual(new Set(['OUT_OF_STOCK']));
    expect(new Set(won.map((p) => p.voucher.code)).size).toBe(10);
    const [row] = await hub.db.query('SELECT claimed, (SELECT count(*)::int FROM voucher WHERE reward_id = $1) AS vouchers FROM reward WHERE id = $1', [reward.id]);
    expect(row).toEqual({ claimed: 10, vouchers: 10 });
    const balances = await hub.db.query('SELECT balance::int AS balance, count(*)::int AS n FROM member WHERE id = ANY($1::uuid[]) GROUP BY balance ORDER BY balance', [members.map((m) => m.id)]);
    expect(balances).toEqual([{ balance: 50, n: 10 }, { balance: 150, n: 190 }]);
  }, 120_000);
});

describe('vouchers at the till', () => {
  it('only the reward’s partner looks a code up and redeems it (as typed: lower case, spaces, O for 0); another partner gets NOT_FOUND; the member sees its own', async () => {
    const shop = await createPartner(hub);
    const other = await createPartner(hub);
    const reward = await createReward(shop.token, { pointsPrice: 50 });
    const member = await memberWith(shop, 60);
    const { voucher } = await claim(member.token, reward.id);
    const typed = voucher.code.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o');
    const seen = (await hub.gql(VOUCHER, { code: typed }, shop.token)).data.voucher;
    expect(seen).toMatchObject({ id: voucher.id, code: voucher.code, state: 'ISSUED', reward: { id: reward.id }, member: `•••••••••${member.memberCode.slice(-3)}` });
    expect((await hub.gql(VOUCHER, { code: voucher.code }, other.token)).data.voucher).toBeNull();
    expect((await hub.gql(VOUCHER, { code: voucher.code }, hub.admin)).data.voucher).toMatchObject({ member: member.id });
    expect((await hub.gql(VOUCHER, { code: voucher.code }, member.token)).data.voucher).toMatchObject({ member: member.memberCode });
    const stranger = await memberWith(shop, 0);
    expect((await hub.gql(VOUCHER, { code: voucher.code }, stranger.token)).data.voucher).toBeNull();
    expect((await hub.gql(REDEEM, { input: { code: voucher.code } }, other.token)).data.redeemVoucher.userErrors).toMatchObject([{ code: 'NOT_FOUND' }]);
    expect((await hub.gql(VOID, { input: { idempotencyKey: unique('k'), code: voucher.code } }, other.token)).data.voidVoucher.userErrors).toMatchObject([{ code: 'NOT_FOUND' }]);
    // The operator redeems only operator rewards' vouchers.
    expect((await hub.gql(REDEEM, { input: { code: voucher.code } }, hub.admin)).data.redeemVoucher.userErrors).toMatchObject([{ code: 'NOT_FOUND' }]);
    const redeemed = (await hub.gql(REDEEM, { input: { code: typed } }, shop.token)).data.redeemVoucher;
    expect(redeemed).toMatchObject({ voucher: { state: 'REDEEMED' }, userErrors: [] });
    expect(redeemed.voucher.redeemedAt).not.toBeNull();
    const again = (await hub.gql(REDEEM, { input: { code: voucher.code } }, shop.token)).data.redeemVoucher;
    expect(again.userErrors).toMatchObject([{ code: 'VOUCHER_NOT_REDEEMABLE', message: 'This voucher is REDEEMED' }]);
    // Used: the member can no longer void it.
    const late = (await hub.gql(VOID, { input: { idempotencyKey: unique('k'), code: voucher.code } }, member.token)).data.voidVoucher;
    expect(late.userErrors).toMatchObject([{ code: 'VOUCHER_NOT_REDEEMABLE', message: 'This voucher is REDEEMED' }]);
    expect(await balanceOf(hub, member)).toBe(10);
    // A code with a wrong check symbol is no code at all.
    const wrong = voucher.code.slice(0, -1) + (voucher.code.endsWith('0') ? '1' : '0');
    expect((await hub.gql(VOUCHER, { code: wrong }, shop.token)).data.voucher).toBeNull();
  });

  it('two tills (two servers) redeeming the same code at once redeem it once, every time', async () => {
    const shop = await createPartner(hub);
    const reward = await createReward(shop.token, { pointsPrice: 10 });
    const member = await memberWith(shop, 100);
    const second = await hub.startAnotherServer();
    for (let i = 0; i < 5; i++) {
      const { voucher } = await claim(member.token, reward.id);
      const tills = await Promise.all([hub.url, second.url, hub.url, second.url].map((url) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${shop.token}` },
          body: JSON.stringify({ query: REDEEM, variables: { input: { code: voucher.code } } }) }).then((r) => r.json() as Promise<{ data: { redeemVoucher: { userErrors: { code: string; message: string }[] } } }>)));
      const ok = tills.filter((t) => t.data.redeemVoucher.userErrors.length === 0);
      expect(ok).toHaveLength(1);
      for (const t of tills.filter((x) => x.data.redeemVoucher.userErrors.length)) {
        expect(t.data.redeemVoucher.userErrors).toMatchObject([{ code: 'VOUCHER_NOT_REDEEMABLE', message: 'This voucher is REDEEMED' }]);
      }
    }
    const events = await hub.db.query(`SELECT count(*)::int AS n FROM event WHERE member_id = $1 AND type = 'voucher.redeemed'`, [member.id]);
    expect(events[0].n).toBe(5);
  });
});

describe('void and expiry', () => {
  it('a void by the member gives the points back to the lots they came from (same issuer, same expiry), reverses the REWARD obligations, is idempotent, and the voucher can no longer be redeemed', async () => {
    const grocer = await createPartner(hub);
    const fuel = await createPartner(hub);
    const shop = await createPartner(hub);
    const reward = await createReward(shop.token, { pointsPrice: 150, stock: 1 });
    const member = await memberWith(grocer, 100);
    await link(fuel, member);
    expect((await purchase(hub, fuel, member, '100.00')).userErrors).toEqual([]);
    const before = await lots(member);
    const claimed = await claim(member.token, reward.id);
    expect(await lots(member)).toMatchObject([{ issuer: grocer.id, remaining: 0 }, { issuer: fuel.id, remaining: 50 }]);
    const key = unique('void');
    const voided = (await hub.gql(VOID, { input: { idempotencyKey: key, code: claimed.voucher.code } }, member.token)).data.voidVoucher;
    expect(voided).toMatchObject({ voucher: { state: 'VOIDED' }, transaction: { type: 'REVERSAL', points: 150 }, member: { balance: 200 }, userErrors: [] });
    expect(await lots(member)).toEqual(before);
    const obligations = await hub.db.query(`SELECT payer_id, sum(points)::int AS points, count(*)::int AS n FROM obligation WHERE member_id = $1 AND kind = 'REWARD' GROUP BY payer_id ORDER BY payer_id`, [member.id]);
    expect(obligations).toEqual([{ payer_id: grocer.id, points: 0, n: 2 }, { payer_id: fuel.id, points: 0, n: 2 }].sort((a, b) => (a.payer_id < b.payer_id ? -1 : 1)));
    const replay = (await hub.gql(VOID, { input: { idempotencyKey: key, code: claimed.voucher.code } }, member.token)).data.voidVoucher;
    expect(replay).toMatchObject({ transaction: { id: voided.transaction.id }, userErrors: [] });
    const twice = (await hub.gql(VOID, { input: { idempotencyKey: unique('void'), code: claimed.voucher.code } }, shop.token)).data.voidVoucher;
    expect(twice.userErrors).toMatchObject([{ code: 'VOUCHER_NOT_REDEEMABLE', message: 'This voucher is VOIDED' }]);
    expect((await hub.gql(REDEEM, { input: { code: claimed.voucher.code } }, shop.token)).data.redeemVoucher.userErrors)
      .toMatchObject([{ code: 'VOUCHER_NOT_REDEEMABLE', message: 'This voucher is VOIDED' }]);
    // A voided claim does not count toward the limit, and the item does not go back to stock.
    expect((await claim(member.token, reward.id)).userErrors).toMatchObject([{ code: 'OUT_OF_STOCK' }]);
    expect(await balanceOf(hub, member)).toBe(200);
    // A claimed reward is returned with its voucher, not by reverseTransaction.
    const reversed = await reverse(hub, hub.admin, claimed.transaction.id);
    expect(reversed.userErrors).toMatchObject([{ code: 'INVALID_INPUT' }]);
  });

  it('the reward’s partner and the operator void too; events voucher.issued / voided and transaction.posted REWARD reach the reward’s partner with a masked member', async () => {
    const shop = await createPartner(hub);
    const reward = await createReward(shop.token, { pointsPrice: 10 });
    const member = await memberWith(shop, 100);
    const first = await claim(member.token, reward.id);
    const second = await claim(shop.token, reward.id, { memberId: member.id });
    expect(second.userErrors).toEqual([]);
    expect((await hub.gql(VOID, { input: { idempotencyKey: unique('k'), code: first.voucher.code } }, shop.token)).data.voidVoucher.userErrors).toEqual([]);
    expect((await hub.gql(VOID, { input: { idempotencyKey: unique('k'), code: second.voucher.code } }, hub.admin)).data.voidVoucher.userErrors).toEqual([]);
    expect(await balanceOf(hub, member)).toBe(100);
    const events = await hub.db.query(`SELECT type, partner_ids::text[] AS partners, data, views FROM event WHERE member_id = $1 ORDER BY id`, [member.id]);
    const types = events.map((e: { type: string }) => e.type);
    expect(types.filter((t: string) => t === 'voucher.issued')).toHaveLength(2);
    expect(types.filter((t: string) => t === 'voucher.voided')).toHaveLength(2);
    const issued = events.find((e: { type: string }) => e.type === 'voucher.issued');
    expect(issued.partners).toEqual([shop.id]);
    expect(issued.data).toMatchObject({ memberId: member.id, rewardId: reward.id, code: first.voucher.code, state: 'ISSUED' });
    const view = issued.views[`partner:${shop.id}`];
    expect(view).toMatchObject({ code: first.voucher.code, member: `•••••••••${member.memberCode.slice(-3)}` });
    expect(view.memberId).toBeUndefined();
    const posted = events.filter((e: { type: string; data: { type: string } }) => e.type === 'transaction.posted' && e.data.type === 'REWARD');
    expect(posted).toHaveLength(2);
    expect(posted[0].partners).toEqual([shop.id]);
  });

  it('the expiry job expires an ISSUED voucher past its expiry: points back to their lots; a lot that expired meanwhile goes to breakage at the next run', async () => {
    const grocer = await createPartner(hub);
    const fuel = await createPartner(hub);
    const shop = await createPartner(hub);
    const reward = await createReward(shop.token, { pointsPrice: 120 });
    const member = await memberWith(grocer, 100);
    await link(fuel, member);
    expect((await purchase(hub, fuel, member, '100.00')).userErrors).toEqual([]);
    const claimed = await claim(member.token, reward.id);
    expect(claimed.member.balance).toBe(80);
    // The grocer lot (all 100 consumed) expires meanwhile; then the voucher does.
    await hub.db.query(`UPDATE lot SET expires_at = now() - interval '1 minute' WHERE member_id = $1 AND issuer_id = $2`, [member.id, grocer.id]);
    await hub.db.query(`UPDATE voucher SET expires_at = now() - interval '1 second' WHERE member_id = $1`, [member.id]);
    expect((await hub.gql(REDEEM, { input: { code: claimed.voucher.code } }, shop.token)).data.redeemVoucher.userErrors).toMatchObject([{ code: 'VOUCHER_NOT_REDEEMABLE' }]);
    const first = (await hub.gql(RUN_EXPIRY, {}, hub.admin)).data.runExpiry;
    expect(first.expiredPoints).toBe(0); // the lots ran before the voucher: the grocer lot was empty then
    expect((await hub.gql(VOUCHER, { code: claimed.voucher.code }, shop.token)).data.voucher.state).toBe('EXPIRED');
    expect(await lots(member)).toMatchObject([{ issuer: grocer.id, remaining: 100 }, { issuer: fuel.id, remaining: 100 }]);
    expect(await balanceOf(hub, member)).toBe(100); // the grocer's 100 are back in an expired lot: not spendable
    const second = (await hub.gql(RUN_EXPIRY, {}, hub.admin)).data.runExpiry;
    expect(second).toMatchObject({ expiredPoints: 100, expiredLots: 1 });
    expect(await lots(member)).toMatchObject([{ issuer: grocer.id, remaining: 0 }, { issuer: fuel.id, remaining: 100 }]);
    const txs = await hub.db.query(`SELECT type, points FROM ledger_transaction WHERE member_id = $1 ORDER BY id`, [member.id]);
    expect(txs.map((t: { type: string; points: number }) => `${t.type} ${t.points}`)).toEqual(['PURCHASE 100', 'PURCHASE 100', 'REWARD -120', 'REVERSAL 120', 'EXPIRY -100']);
    const expired = await hub.db.query(`SELECT count(*)::int AS n FROM event WHERE member_id = $1 AND type = 'voucher.expired'`, [member.id]);
    expect(expired[0].n).toBe(1);
    expect((await hub.gql(RUN_EXPIRY, {}, hub.admin)).data.runExpiry.expiredPoints).toBe(0);
  });
});

describe('claims', () => {
  it('a replayed key returns the first claim (one voucher, one from stock); the key with another reward is IDEMPOTENCY_KEY_REUSED', async () => {
    const shop = await createPartner(hub);
    const reward = await createReward(shop.token, { pointsPrice: 10, stock: 5 });
    const otherReward = await createReward(shop.token, { pointsPrice: 10 });
    const member = await memberWith(shop, 100);
    const key = unique('k');
    const first = await claim(member.token, reward.id, { idempotencyKey: key });
    const again = await claim(member.token, reward.id, { idempotencyKey: key });
    expect(again).toMatchObject({ transaction: { id: first.transaction.id }, voucher: { id: first.voucher.id, code: first.voucher.code }, userErrors: [] });
    expect((await claim(member.token, otherReward.id, { idempotencyKey: key })).userErrors).toMatchObject([{ code: 'IDEMPOTENCY_KEY_REUSED' }]);
    const [row] = await hub.db.query('SELECT claimed FROM reward WHERE id = $1', [reward.id]);
    expect(row.claimed).toBe(1);
    expect(await balanceOf(hub, member)).toBe(90);
  });

  it('a partner claims at its till for a linked member, its own rewards only; an unlinked member or another partner’s reward is NOT_FOUND', async () => {
    const shop = await createPartner(hub);
    const other = await createPartner(hub);
    const own = await createReward(shop.token, { pointsPrice: 10 });
    const theirs = await createReward(other.token, { pointsPrice: 10 });
    const member = await memberWith(shop, 100);
    const stranger = await memberWith(other, 100);
    expect((await claim(shop.token, own.id, { memberId: member.id })).userErrors).toEqual([]);
    expect((await claim(shop.token, theirs.id, { memberId: member.id })).userErrors).toMatchObject([{ code: 'NOT_FOUND', field: ['input', 'rewardId'] }]);
    expect((await claim(shop.token, own.id, { memberId: stranger.id })).userErrors).toMatchObject([{ code: 'NOT_FOUND', field: ['input', 'memberId'] }]);
    expect((await claim(shop.token, own.id)).userErrors).toMatchObject([{ code: 'INVALID_INPUT' }]);
    expect((await claim(member.token, own.id, { memberId: stranger.id })).userErrors).toMatchObject([{ code: 'NOT_FOUND' }]);
    // The operator claims for any member.
    expect((await claim(hub.admin, theirs.id, { memberId: member.id })).userErrors).toEqual([]);
    expect(await balanceOf(hub, member)).toBe(80);
  });

  describe('each refusal writes nothing', () => {
    const cases: [string, string, (shop: TestPartner) => Promise<{ rewardId: string; member: TestMember }>][] = [
      ['NOT_ELIGIBLE', 'tier not listed', async (shop) => ({ rewardId: (await createReward(shop.token, { pointsPrice: 10, tiers: ['Gold'] })).id, member: await memberWith(shop, 200) })],
      ['NOT_ELIGIBLE', 'club not joined', async (shop) => {
        const club = (await hub.gql(`mutation($input: CreateClubInput!) { createClub(input: $input) { club { id } } }`, { input: { name: unique('C'), earnMultiplier: '1', membershipDays: 30 } }, shop.token)).data.createClub.club;
        return { rewardId: (await createReward(shop.token, { pointsPrice: 10, clubs: [club.id] })).id, member: await memberWith(shop, 200) };
      }],
      ['NOT_ELIGIBLE', 'window not open', async (shop) => ({ rewardId: (await createReward(shop.token, { pointsPrice: 10, startsAt: new Date(Date.now() + DAY) })).id, member: await memberWith(shop, 200) })],
      ['OUT_OF_STOCK', 'stock 0', async (shop) => ({ rewardId: (await createReward(shop.token, { pointsPrice: 10, stock: 0 })).id, member: await memberWith(shop, 200) })],
      ['LIMIT_EXCEEDED', 'perMemberLimit 1 already claimed', async (shop) => {
        const reward = await createReward(shop.token, { pointsPrice: 10, perMemberLimit: 1 });
        const member = await memberWith(shop, 200);
        expect((await claim(member.token, reward.id)).userErrors).toEqual([]);
        return { rewardId: reward.id, member };
      }],
      ['MEMBER_IN_DEBT', 'owes points', async (shop) => {
        // 100 earned and spent, then the purchase refunded: 100 owed.
        const member = await enroll(hub, shop);
        const bought = await purchase(hub, shop, member, '100.00');
        expect((await redeem(hub, shop, member, 100)).userErrors).toEqual([]);
        expect((await reverse(hub, shop.token, bought.transaction.id)).member).toMatchObject({ debt: 100 });
        return { rewardId: (await createReward(shop.token, { pointsPrice: 1 })).id, member };
      }],
      ['INSUFFICIENT_POINTS', '99 of 100', async (shop) => ({ rewardId: (await createReward(shop.token, { pointsPrice: 100 })).id, member: await memberWith(shop, 99) })],
    ];
    it.each(cases)('%s (%s)', async (code, _why, setup) => {
      const shop = await createPartner(hub);
      const { rewardId, member } = await setup(shop);
      const balance = await balanceOf(hub, member);
      const counts = await ledgerRowCounts(hub);
      const vouchers = await hub.db.query('SELECT count(*)::int AS n FROM voucher');
      const [reward] = await hub.db.query('SELECT claimed FROM reward WHERE id = $1', [rewardId]);
      const refused = await claim(member.token, rewardId);
      expect(refused).toMatchObject({ voucher: null, transaction: null, userErrors: [{ code }] });
      expect(await ledgerRowCounts(hub)).toEqual(counts);
      expect(await hub.db.query('SELECT count(*)::int AS n FROM voucher')).toEqual(vouchers);
      expect((await hub.db.query('SELECT claimed FROM reward WHERE id = $1', [rewardId]))[0]).toEqual(reward);
      expect(await balanceOf(hub, member)).toBe(balance);
    });
  });

  it('a MEMBERSHIP reward joins the club (no voucher), claiming again extends it, club.joined reaches the club’s partner', async () => {
    const shop = await createPartner(hub);
    const club = (await hub.gql(`mutation($input: CreateClubInput!) { createClub(input: $input) { club { id } } }`, { input: { name: unique('Sneakers'), earnMultiplier: '2', membershipDays: 30 } }, shop.token)).data.createClub.club;
    const reward = await createReward(shop.token, { pointsPrice: 100, kind: 'MEMBERSHIP', clubId: club.id });
    const member = await memberWith(shop, 250);
    const first = await claim(member.token, reward.id);
    expect(first).toMatchObject({ voucher: null, membership: { club: { id: club.id }, source: 'POINTS' }, transaction: { type: 'REWARD', points: -100 }, userErrors: [] });
    const firstExpiry = new Date(first.membership.expiresAt).getTime();
    expect(firstExpiry).toBeGreaterThan(Date.now() + 30 * DAY - 60_000);
    const second = await claim(member.token, reward.id);
    expect(new Date(second.membership.expiresAt).getTime()).toBe(firstExpiry + 30 * DAY);
    const clubs = (await hub.gql('query { me { clubs { club { id } source } balance } }', {}, member.token)).data.me;
    expect(clubs).toEqual({ clubs: [{ club: { id: club.id }, source: 'POINTS' }], balance: 50 });
    const joined = await hub.db.query(`SELECT partner_ids::text[] AS partners, views FROM event WHERE member_id = $1 AND type = 'club.joined'`, [member.id]);
    expect(joined).toHaveLength(2);
    expect(joined[0].partners).toEqual([shop.id]);
    expect((await hub.gql('query { me { vouchers { totalCount } } }', {}, member.token)).data.me.vouchers.totalCount).toBe(0);
    // A membership bought with money writes club.joined too, in its transaction.
    const paid = await hub.gql(`mutation($input: GrantClubMembershipInput!) { grantClubMembership(input: $input) { userErrors { code } } }`,
      { input: { idempotencyKey: unique('g'), memberId: member.id, clubId: club.id, paidAmount: '9.99' } }, shop.token);
    expect(paid.data.grantClubMembership.userErrors).toEqual([]);
    const all = await hub.db.query(`SELECT partner_ids::text[] AS partners, data FROM event WHERE member_id = $1 AND type = 'club.joined' ORDER BY id`, [member.id]);
    expect(all.map((e: { partners: string[]; data: { source: string } }) => [e.partners, e.data.source])).toEqual([[[shop.id], 'POINTS'], [[shop.id], 'POINTS'], [[shop.id], 'PAID']]);
  });

  it('Member.vouchers: newest first, by state; a partner sees only its own rewards’ vouchers', async () => {
    const shop = await createPartner(hub);
    const other = await createPartner(hub);
    const mine = await createReward(shop.token, { pointsPrice: 10 });
    const theirs = await createReward(other.token, { pointsPrice: 10 });
    const member = await memberWith(shop, 100);
    const a = await claim(member.token, mine.id);
    const b = await claim(member.token, theirs.id);
    const c = await claim(member.token, mine.id);
    await hub.gql(REDEEM, { input: { code: c.voucher.code } }, shop.token);
    const Q = `query($id: ID!, $state: VoucherState) { member(id: $id) { vouchers(first: 10, state: $state) { edges { node { id state } } totalCount } } }`;
    const all = (await hub.gql(`query($state: VoucherState) { me { vouchers(first: 10, state: $state) { edges { node { id state } } totalCount } } }`, {}, member.token)).data.me.vouchers;
    expect(all.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([c.voucher.id, b.voucher.id, a.voucher.id]);
    const issued = (await hub.gql(`query($state: VoucherState) { me { vouchers(first: 10, state: $state) { totalCount } } }`, { state: 'ISSUED' }, member.token)).data.me.vouchers;
    expect(issued.totalCount).toBe(2);
    const asShop = (await hub.gql(Q, { id: member.id }, shop.token)).data.member.vouchers;
    expect(asShop.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([c.voucher.id, a.voucher.id]);
    const asAdmin = (await hub.gql(Q, { id: member.id }, hub.admin)).data.member.vouchers;
    expect(asAdmin.totalCount).toBe(3);
  });
});
