import { Dec } from '../../src/common/decimal';
import { TestHub, startTestHub } from '../support/hub';
import { expectedLines, formatAmount, mulberry32, negate, pause, runLines, toMinor } from '../support/walk';
import { TestMember, TestPartner, claimReward, createPartner, enroll, ledgerCheck, purchase, redeem, reverse, unique, voidVoucher } from '../support/scenario';

/**
 * A seeded random walk through the real GraphQL API — purchases, redemptions, returned rewards,
 * partial and full refunds at four partners, donations to a cause one partner matches — checked against the test's own model of every
 * member (docs/rules.md: The ledger, Taking points back, Redemption and cross-redemption settlement),
 * then closed into two settlement runs whose lines, positions and transfers the model predicts.
 *
 * The model is written from the rules, not from the code:
 * - a redemption consumes lots oldest first; a lot another partner issued is owed
 *   issuer → redeeming partner at the redeeming partner's redemption value;
 * - a returned reward gives the same lots their points back and negates those obligations (in the
 *   period of the return); the restored points pay open debt first;
 * - refunds take back floor(earned × refunded in all / amount) points in all (the completing refund: the rest),
 *   first from the purchase's own lot, then from other lots oldest first as DEBT_RECOVERY
 *   lot issuer → refunding partner at the refunding partner's value, the rest becomes debt owed to it;
 * - every new lot pays open debt first, oldest debt first: DEBT_RECOVERY lot issuer → creditor at
 *   the creditor's value; nobody owes itself;
 * - a donation consumes lots oldest first, each lot owed issuer → cause; its receipt is
 *   points × DONATION_VALUE rounded down to cents, split over its lots on the running total
 *   (lot i is worth value(points of lots 1..i) − value(points of lots 1..i−1)); a donation worth
 *   0.00 is refused; a match of floor(points × ratio) is owed sponsor → cause, worth its own
 *   points × DONATION_VALUE rounded down;
 * - a reward claimed consumes lots oldest first like a redemption; a lot another party issued is
 *   owed issuer → the reward's partner (the operator for an operator reward), kind REWARD, at the
 *   reward's value / points price; a void (by the member) or an expiry of its voucher (by the expiry
 *   job) gives the lots their points back and negates those obligations, in its period;
 * - a line's money is the exact Σ points × rate, rounded half up once — for donations and matches
 *   the sum of their rounded-down values (docs/rules.md, Charity).
 */

const SEED = 0x5e771e;
const OPERATIONS_PER_PERIOD = 170;
const MEMBERS = 12;

// Every partner gives its lots the same validity, so "earliest expiry first, then oldest" is simply
// oldest first: the model consumes lots in the order they were created.
const VALIDITY_DAYS = 365;
const PARTNERS = [
  { pointsPerUnit: '1', rate: '0.01' },
  { pointsPerUnit: '2', rate: '0.008' },
  { pointsPerUnit: '1.5', rate: '0.0125' },
  { pointsPerUnit: '1.25', rate: '0.0033' }, // four decimals: line rounding matters
];

/** Money per donated point: four decimals, so rounding down matters (the smallest donation is 3 points). */
const DONATION_VALUE = '0.0035';
const MATCH_SPONSOR = 2;
const MATCH_RATIO = '0.5';

/** Rewards claimed in the walk: a partner's own (index) or the operator's; value / price exact to 6 decimals, 4+ decimals so rounding matters. */
const REWARDS: { partner: number | 'operator'; pointsPrice: number; value: string; rate: string }[] = [
  { partner: 0, pointsPrice: 40, value: '0.30', rate: '0.0075' },
  { partner: 1, pointsPrice: 25, value: '0.20', rate: '0.008' },
  { partner: 3, pointsPrice: 16, value: '0.05', rate: '0.003125' },
  { partner: 'operator', pointsPrice: 50, value: '0.35', rate: '0.007' },
];

const RUN_FIELDS = `id periodStart periodEnd lines { payer { type id } payee { type id } kind points amount { amount currency } }
  positions { party { type id } amount { amount } } transfers { from { type id } to { type id } amount { amount } }`;
const CLOSE = `mutation($input: CloseSettlementPeriodInput!) { closeSettlementPeriod(input: $input) { run { ${RUN_FIELDS} } userErrors { code message field } } }`;

interface RunOut {
  id: string;
  lines: { payer: { type: string; id: string }; payee: { type: string; id: string }; kind: string; points: number; amount: { amount: string; currency: string } }[];
  positions: { party: { type: string; id: string }; amount: { amount: string } }[];
  transfers: { from: { type: string; id: string }; to: { type: string; id: string }; amount: { amount: string } }[];
}



// ---- The model --------------------------------------------------------------------------------

interface Lot { issuer: number; remaining: number }
interface Debt { creditor: number; remaining: number }
interface MemberModel { member: TestMember; lots: Lot[]; debts: Debt[] }
interface Obligation {
  period: number; kind: 'REDEMPTION' | 'DEBT_RECOVERY' | 'DONATION' | 'MATCH' | 'REWARD'; payer: number; payee: number | 'cause' | 'operator'; points: number; rate: string;
  /** Donations and matches: cents, rounded down. */
  valueMinor?: bigint;
}
interface PurchaseRecord { txId: string; m: MemberModel; partner: number; amountMinor: bigint; earned: number; lot?: Lot; refundedMinor: bigint; taken: number }
interface RedemptionRecord { txId: string; m: MemberModel; partner: number; takes: { lot: Lot; points: number }[]; obligations: Obligation[]; returned: boolean }
interface ClaimRecord { code: string; m: MemberModel; reward: number; takes: { lot: Lot; points: number }[]; obligations: Obligation[]; returned: boolean }

const balanceOf = (m: MemberModel) => m.lots.reduce((s, l) => s + l.remaining, 0) - debtOf(m);
const debtOf = (m: MemberModel) => m.debts.reduce((s, d) => s + d.remaining, 0);

class Model {
  period = 0;
  readonly obligations: Obligation[] = [];
  /** How often each rule fired, so the test can show the walk exercised them all. */
  readonly fired: Record<string, number> = {};

  private count(what: string) {
    this.fired[what] = (this.fired[what] ?? 0) + 1;
  }

  private oblige(kind: Obligation['kind'], payer: number, payee: number, points: number): Obligation | undefined {
    if (payer === payee || points === 0) return undefined;
    const o: Obligation = { period: this.period, kind, payer, payee, points, rate: PARTNERS[payee]!.rate };
    this.obligations.push(o);
    return o;
  }

  /** Oldest first (see VALIDITY_DAYS). */
  private consume(m: MemberModel, points: number): { takes: { lot: Lot; points: number }[]; missing: number } {
    const takes: { lot: Lot; points: number }[] = [];
    let left = points;
    for (const lot of m.lots) {
      if (left === 0) break;
      if (lot.remaining === 0) continue;
      const take = Math.min(lot.remaining, left);
      lot.remaining -= take;
      left -= take;
      takes.push({ lot, points: take });
    }
    return { takes, missing: left };
  }

  private payDebt(m: MemberModel, lot: Lot, from: string): void {
    for (const debt of m.debts) {
      if (lot.remaining === 0) break;
      if (debt.remaining === 0) continue;
      const pay = Math.min(debt.remaining, lot.remaining);
      lot.remaining -= pay;
      debt.remaining -= pay;
      this.count(`debt paid by a ${from} lot`);
      this.oblige('DEBT_RECOVERY', lot.issuer, debt.creditor, pay);
    }
  }

  purchase(m: MemberModel, partner: number, amountMinor: bigint): { earned: number; lot?: Lot } {
    const earned = new Dec(amountMinor.toString()).div(100).times(PARTNERS[partner]!.pointsPerUnit).floor().toNumber();
    if (earned === 0) return { earned };
    const lot = { issuer: partner, remaining: earned };
    m.lots.push(lot);
    this.payDebt(m, lot, 'new');
    return { earned, lot };
  }

  redeem(m: MemberModel, partner: number, points: number): Omit<RedemptionRecord, 'txId'> {
    const { takes, missing } = this.consume(m, points);
    if (missing !== 0) throw new Error('the model redeemed more than the balance');
    const obligations = takes.flatMap((t) => this.oblige('REDEMPTION', t.lot.issuer, partner, t.points) ?? []);
    if (obligations.length) this.count('cross-partner redemption');
    return { m, partner, takes, obligations, returned: false };
  }

  /** A claim of REWARDS[reward]: lots oldest first; other issuers' lots owed to the reward's partner (or the operator) at value / price. */
  claim(m: MemberModel, reward: number): Omit<ClaimRecord, 'code'> {
    const r = REWARDS[reward]!;
    const { takes, missing } = this.consume(m, r.pointsPrice);
    if (missing !== 0) throw new Error('the model claimed more than the balance');
    const obligations = takes.flatMap((t) => {
      if (t.lot.issuer === r.partner || t.points === 0) return [];
      const o: Obligation = { period: this.period, kind: 'REWARD', payer: t.lot.issuer, payee: r.partner, points: t.points, rate: r.rate };
      this.obligations.push(o);
      return [o];
    });
    this.count(obligations.length ? 'reward claimed with other issuers’ points' : 'reward claimed with its partner’s own points');
    if (obligations.some((o) => o.payee === 'operator')) this.count('operator reward');
    return { m, reward, takes, obligations, returned: false };
  }

  /** A donation's receipt in cents and its match (points, cents); undefined when it is worth nothing (refused). */
  donate(m: MemberModel, points: number): { valueMinor: bigint; matched: number } | undefined {
    const cents = (p: number) => BigInt(new Dec(p).times(DONATION_VALUE).times(100).floor().toFixed(0));
    if (cents(points) === 0n) {
      this.count('donation refused as worth nothing');
      return undefined;
    }
    const { takes, missing } = this.consume(m, points);
    if (missing !== 0) throw new Error('the model donated more than the balance');
    let upTo = 0;
    for (const t of takes) {
      const before = cents(upTo);
      upTo += t.points;
      this.obligations.push({ period: this.period, kind: 'DONATION', payer: t.lot.issuer, payee: 'cause', points: t.points, rate: DONATION_VALUE, valueMinor: cents(upTo) - before });
    }
    this.count(takes.length > 1 ? 'donation across issuers' : 'donation');
    const matched = new Dec(points).times(MATCH_RATIO).floor().toNumber();
    if (matched > 0) {
      this.obligations.push({ period: this.period, kind: 'MATCH', payer: MATCH_SPONSOR, payee: 'cause', points: matched, rate: DONATION_VALUE, valueMinor: cents(matched) });
      this.count('match');
    }
    return { valueMinor: cents(points), matched };
  }

  returnReward(r: RedemptionRecord | ClaimRecord, what = 'returned reward'): number {
    r.returned = true;
    this.count(what);
    for (const t of r.takes) t.lot.remaining += t.points;
    // The return reverses the very obligations of the redemption, at their rates, in this period.
    for (const o of r.obligations) this.obligations.push({ ...o, period: this.period, points: -o.points });
    for (const t of r.takes) this.payDebt(r.m, t.lot, 'restored');
    return r.takes.reduce((s, t) => s + t.points, 0);
  }

  refund(p: PurchaseRecord, refundMinor: bigint): number {
    const completes = p.refundedMinor + refundMinor === p.amountMinor;
    // On the running total: floor(earned × refunded in all / amount) taken back in all.
    const points = completes ? p.earned - p.taken : Number((BigInt(p.earned) * (p.refundedMinor + refundMinor)) / p.amountMinor) - p.taken;
    p.refundedMinor += refundMinor;
    p.taken += points;
    this.count(completes ? 'completing refund' : 'partial refund');
    let left = points;
    if (p.lot && p.lot.remaining > 0) {
      const own = Math.min(p.lot.remaining, left);
      p.lot.remaining -= own;
      left -= own;
    }
    const { takes, missing } = this.consume(p.m, left);
    for (const t of takes) if (this.oblige('DEBT_RECOVERY', t.lot.issuer, p.partner, t.points)) this.count('refund recovered from another partner’s lot');
    if (missing > 0) {
      p.m.debts.push({ creditor: p.partner, remaining: missing });
      this.count('debt');
    }
    return points;
  }

  /**
   * The run's lines for a period: points and the exact Σ points × rate (donations and matches: Σ
   * their rounded-down values), rounded half up once.
   */
  lines(period: number, partnerIds: string[], causeId: string): { kind: string; payer: string; payee: string; points: number; amountMinor: bigint }[] {
    return expectedLines(this.obligations.filter((x) => x.period === period).map((o) => ({ ...o, payer: partnerIds[o.payer]!,
      payee: o.payee === 'cause' ? causeId : o.payee === 'operator' ? 'operator' : partnerIds[o.payee]! })));
  }
}


// ---- The walk ---------------------------------------------------------------------------------

let hub: TestHub;
let partners: TestPartner[];
let members: MemberModel[];
let causeId: string;

beforeAll(async () => {
  hub = await startTestHub();
  const configured = await hub.gql(`mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { userErrors { code message } } }`,
    { input: { name: 'Random coalition', currency: 'EUR', donationValuePerPoint: DONATION_VALUE } }, hub.admin);
  expect(configured.data.configureCoalition.userErrors).toEqual([]);
  partners = [];
  for (const p of PARTNERS) partners.push(await createPartner(hub, { pointsPerUnit: p.pointsPerUnit, pointsValidityDays: VALIDITY_DAYS }, p.rate));
  causeId = (await hub.gql('mutation { createCause(input: { name: "Random cause" }) { cause { id } } }', {}, hub.admin)).data.createCause.cause.id;
  const campaign = await hub.gql(`mutation($input: CreateMatchingCampaignInput!) { createMatchingCampaign(input: $input) { campaign { id } userErrors { code } } }`,
    { input: { partnerId: partners[MATCH_SPONSOR]!.id, causeId, ratio: MATCH_RATIO, capPoints: 1_000_000_000,
      startsAt: new Date(Date.now() - 3_600_000), endsAt: new Date(Date.now() + 24 * 3_600_000) } }, hub.admin);
  expect(campaign.data.createMatchingCampaign.userErrors).toEqual([]);
  members = [];
  for (let i = 0; i < MEMBERS; i++) {
    const email = `${unique('r')}@example.com`;
    const member = await enroll(hub, partners[0]!, { email });
    // The same email at every other partner links the same member to it.
    for (const partner of partners.slice(1)) expect((await enroll(hub, partner, { email })).id).toBe(member.id);
    members.push({ member, lots: [], debts: [] });
  }
});
afterAll(() => hub.close());

it(`a seeded random walk (seed 0x${SEED.toString(16)}, ${2 * OPERATIONS_PER_PERIOD} operations) settles exactly as the rules say`, async () => {
  const random = mulberry32(SEED);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(list: T[]) => list[int(0, list.length - 1)]!;
  const model = new Model();
  const purchases: PurchaseRecord[] = [];
  const redemptions: RedemptionRecord[] = [];
  const claims: ClaimRecord[] = [];
  const partnerIds = partners.map((p) => p.id);
  const rewardIds: string[] = [];
  for (const r of REWARDS) {
    const token = r.partner === 'operator' ? hub.admin : partners[r.partner]!.token;
    const res = await hub.gql(`mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code message } } }`,
      { input: { name: unique('Walk reward '), pointsPrice: r.pointsPrice, value: r.value } }, token);
    expect(res.data.createReward.userErrors).toEqual([]);
    rewardIds.push(res.data.createReward.reward.id);
  }

  /** Each posting agrees with the model at once, so a divergence is reported where it starts. */
  const expectPosted = (step: string, payload: any, m: MemberModel, points: number) => {
    expect({ step, userErrors: payload.userErrors, points: payload.transaction?.points, member: payload.member })
      .toEqual({ step, userErrors: [], points, member: { id: m.member.id, balance: balanceOf(m), debt: debtOf(m) } });
  };

  const doPurchase = async (step: string) => {
    const m = pick(members);
    const partner = int(0, partners.length - 1);
    const amountMinor = BigInt(int(100, 25000));
    const { earned, lot } = model.purchase(m, partner, amountMinor);
    const res = await purchase(hub, partners[partner]!, m.member, formatAmount(amountMinor));
    expectPosted(`${step}: purchase ${formatAmount(amountMinor)} at partner ${partner}`, res, m, earned);
    purchases.push({ txId: res.transaction.id, m, partner, amountMinor, earned, lot, refundedMinor: 0n, taken: 0 });
  };

  const donate = async (label: string) => {
    const m = pick(members);
    const balance = balanceOf(m);
    if (debtOf(m) > 0 || balance === 0) return doPurchase(label);
    // A quarter are small (1–3 points), around the smallest donation worth a cent; a quarter give
    // the whole balance, which often spans lots of several issuers.
    const kind = random();
    const points = kind < 0.25 ? int(1, Math.min(balance, 3)) : kind < 0.5 ? balance : int(1, Math.min(balance, 60));
    const given = model.donate(m, points);
    const res = await hub.gql(`mutation($input: DonatePointsInput!) { donatePoints(input: $input) {
      donation { points value { amount } matchedPoints } member { id balance } userErrors { code field } } }`,
    { input: { idempotencyKey: unique('rd'), causeId, points } }, m.member.token);
    const payload = res.data.donatePoints;
    expect({ label, points, payload }).toEqual({ label, points, payload: given
      ? { donation: { points, value: { amount: formatAmount(given.valueMinor) }, matchedPoints: given.matched }, member: { id: m.member.id, balance: balanceOf(m) }, userErrors: [] }
      : { donation: null, member: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'points'] }] } });
    if (given) donatedMinor += given.valueMinor + BigInt(new Dec(given.matched).times(DONATION_VALUE).times(100).floor().toFixed(0));
  };
  let donatedMinor = 0n;

  const step = async (n: number) => {
    const label = `period ${model.period + 1} step ${n}`;
    const roll = random();
    if (roll < 0.32) return doPurchase(label);
    if (roll < 0.38) return donate(label);
    if (roll < 0.60) {
      const m = pick(members);
      const partner = int(0, partners.length - 1);
      if (debtOf(m) > 0) {
        // A member in debt cannot redeem; nothing is posted.
        const res = await redeem(hub, partners[partner]!, m.member, 1);
        expect({ label, errors: res.userErrors.map((e: { code: string }) => e.code), transaction: res.transaction }).toEqual({ label, errors: ['MEMBER_IN_DEBT'], transaction: null });
        return;
      }
      const balance = balanceOf(m);
      if (balance === 0) return doPurchase(label);
      const points = random() < 0.4 ? balance : int(1, balance);
      const record = model.redeem(m, partner, points);
      const res = await redeem(hub, partners[partner]!, m.member, points);
      expectPosted(`${label}: redeem ${points} at partner ${partner}`, res, m, -points);
      redemptions.push({ ...record, txId: res.transaction.id });
      return;
    }
    if (roll < 0.68) {
      // A claim by the member itself: refused while in debt or short of points, nothing written.
      const m = pick(members);
      const reward = int(0, REWARDS.length - 1);
      const price = REWARDS[reward]!.pointsPrice;
      if (debtOf(m) > 0 || balanceOf(m) < price) {
        const res = await claimReward(hub, m.member.token, rewardIds[reward]!);
        const code = debtOf(m) > 0 ? 'MEMBER_IN_DEBT' : 'INSUFFICIENT_POINTS';
        model.fired[`claim refused ${code}`] = (model.fired[`claim refused ${code}`] ?? 0) + 1;
        expect({ label, errors: res.userErrors.map((e: { code: string }) => e.code), transaction: res.transaction }).toEqual({ label, errors: [code], transaction: null });
        return;
      }
      const record = model.claim(m, reward);
      const res = await claimReward(hub, m.member.token, rewardIds[reward]!);
      expectPosted(`${label}: claim of reward ${reward} (${price} points)`, res, m, -price);
      claims.push({ ...record, code: res.voucher.code });
      return;
    }
    if (roll < 0.72 || roll < 0.74) {
      const open = claims.filter((c) => !c.returned);
      if (!open.length) return doPurchase(label);
      const c = pick(open);
      if (roll < 0.72) {
        // The member voids its voucher.
        const points = model.returnReward(c, 'voided voucher');
        const res = await voidVoucher(hub, c.m.member.token, c.code);
        expectPosted(`${label}: void of ${c.code}`, res, c.m, points);
        return;
      }
      // The voucher reaches its expiry: the expiry job gives the points back.
      const points = model.returnReward(c, 'expired voucher');
      await hub.db.query(`UPDATE voucher SET expires_at = now() - interval '1 second' WHERE code = $1`, [c.code.replace(/-/g, '')]);
      const ran = await hub.gql('mutation { runExpiry(input: {}) { expiredPoints userErrors { code } } }', {}, hub.admin);
      expect({ label, ran: ran.data.runExpiry }).toEqual({ label, ran: { expiredPoints: 0, userErrors: [] } });
      const after = await hub.gql('query($id: ID!) { member(id: $id) { id balance debt } }', { id: c.m.member.id }, hub.admin);
      expect({ label, points, member: after.data.member }).toEqual({ label, points, member: { id: c.m.member.id, balance: balanceOf(c.m), debt: debtOf(c.m) } });
      return;
    }
    if (roll < 0.80) {
      const open = redemptions.filter((r) => !r.returned);
      if (!open.length) return doPurchase(label);
      const r = pick(open);
      const points = model.returnReward(r);
      const res = await reverse(hub, partners[r.partner]!.token, r.txId);
      expectPosted(`${label}: return of ${r.txId}`, res, r.m, points);
      return;
    }
    const open = purchases.filter((p) => p.refundedMinor < p.amountMinor);
    if (!open.length) return doPurchase(label);
    const p = pick(open);
    const left = p.amountMinor - p.refundedMinor;
    const partial = roll < 0.93;
    const refundMinor = partial ? BigInt(int(1, Number(left))) : left;
    const points = model.refund(p, refundMinor);
    const res = await reverse(hub, partners[p.partner]!.token, p.txId, partial ? formatAmount(refundMinor) : undefined);
    expectPosted(`${label}: refund ${formatAmount(refundMinor)} of ${p.txId} (${formatAmount(p.amountMinor)}, earned ${p.earned})`, res, p.m, negate(points));
  };

  const close = async (periodStart: Date, periodEnd: Date): Promise<RunOut> => {
    const res = await hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin);
    expect(res.data.closeSettlementPeriod.userErrors).toEqual([]);
    return res.data.closeSettlementPeriod.run;
  };

  const start = new Date();
  await pause();
  for (let n = 1; n <= OPERATIONS_PER_PERIOD; n++) await step(n);
  await pause();
  const middle = new Date();
  await pause();
  // Period one is closed before period two begins: its returns and refunds of earlier postings
  // must land in the second run and leave the first as it was.
  const first = await close(start, middle);
  model.period = 1;
  for (let n = 1; n <= OPERATIONS_PER_PERIOD; n++) await step(n);
  await pause();
  const end = new Date();
  const second = await close(middle, end);

  // The walk exercised every rule the runs settle.
  for (const rule of ['cross-partner redemption', 'returned reward', 'partial refund', 'completing refund', 'refund recovered from another partner’s lot',
    'debt', 'debt paid by a new lot', 'debt paid by a restored lot', 'donation', 'donation across issuers', 'donation refused as worth nothing', 'match',
    'reward claimed with other issuers’ points', 'reward claimed with its partner’s own points', 'operator reward', 'voided voucher', 'expired voucher',
    'claim refused MEMBER_IN_DEBT', 'claim refused INSUFFICIENT_POINTS']) {
    expect({ rule, fired: (model.fired[rule] ?? 0) > 0 }).toEqual({ rule, fired: true });
  }

  const reread = await hub.gql(`query($id: ID!) { settlementRun(id: $id) { ${RUN_FIELDS} } }`, { id: first.id }, hub.admin);
  expect(reread.data.settlementRun).toEqual(first);

  for (const [period, run] of [first, second].entries()) {
    // (a) Lines: points per (kind, payer, payee) and one half-up rounding of the exact money.
    const lines = runLines(run.lines);
    expect({ period, lines }).toEqual({ period, lines: model.lines(period, partnerIds, causeId) });
    expect(run.lines.every((l) => l.amount.currency === 'EUR' && l.payer.type === 'PARTNER'
      && l.payee.type === (l.kind === 'DONATION' || l.kind === 'MATCH' ? 'CAUSE' : l.payee.id === 'operator' ? 'OPERATOR' : 'PARTNER'))).toBe(true);
    expect(['REDEMPTION', 'DEBT_RECOVERY', 'DONATION', 'MATCH', 'REWARD'].every((kind) => lines.some((l) => l.kind === kind))).toBe(true);

    // (b) Positions: receivable − payable from the run's rounded lines, summing to exactly zero.
    const fromLines = new Map<string, bigint>();
    for (const l of lines) {
      fromLines.set(l.payee, (fromLines.get(l.payee) ?? 0n) + l.amountMinor);
      fromLines.set(l.payer, (fromLines.get(l.payer) ?? 0n) - l.amountMinor);
    }
    const positions = new Map(run.positions.map((p) => [p.party.id, toMinor(p.amount.amount)]));
    expect({ period, positions }).toEqual({ period, positions: fromLines });
    expect([...positions.values()].reduce((s, v) => s + v, 0n)).toBe(0n);

    // (c) Transfers settle every position, in at most (non-zero parties − 1) payments; nobody both pays and receives.
    const left = new Map(positions);
    for (const t of run.transfers) {
      const amount = toMinor(t.amount.amount);
      expect(amount).toBeGreaterThan(0n);
      left.set(t.from.id, (left.get(t.from.id) ?? 0n) + amount);
      left.set(t.to.id, (left.get(t.to.id) ?? 0n) - amount);
    }
    expect({ period, left: [...left].filter(([, v]) => v !== 0n) }).toEqual({ period, left: [] });
    const nonZero = [...positions.values()].filter((v) => v !== 0n).length;
    expect(run.transfers.length).toBeLessThanOrEqual(Math.max(nonZero - 1, 0));
    const payers = new Set(run.transfers.map((t) => t.from.id));
    expect(run.transfers.filter((t) => payers.has(t.to.id))).toEqual([]);
  }

  // (d) Every member's balance and debt are what the model says.
  for (const m of members) {
    const res = await hub.gql('query($id: ID!) { member(id: $id) { id balance debt } }', { id: m.member.id }, hub.admin);
    expect(res.data.member).toEqual({ id: m.member.id, balance: balanceOf(m), debt: debtOf(m) });
  }

  // (e) The cause's raised is the sum of the receipts and match values, which is what the runs paid it.
  const cause = (await hub.gql('{ causes { id raised { amount } } }')).data.causes.find((c: { id: string }) => c.id === causeId);
  const paid = [first, second].flatMap((r) => r.lines).filter((l) => l.payee.id === causeId).reduce((sum, l) => sum + toMinor(l.amount.amount), 0n);
  expect({ raised: toMinor(cause.raised.amount), paid }).toEqual({ raised: donatedMinor, paid: donatedMinor });

  // (f) The ledger check is clean, settlement runs included.
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
}, 240_000); // a long walk: alone it takes ~25 s; next to another suite on two cores, far longer
