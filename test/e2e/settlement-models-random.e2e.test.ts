import { Dec } from '../../src/common/decimal';
import { TestHub, startTestHub } from '../support/hub';
import { expectedLines, formatAmount, mulberry32, negate, pause, runLines, toMinor } from '../support/walk';
import { TestMember, TestPartner, bonus, createPartner, enroll, ledgerCheck, purchase, redeem, reverse, unique } from '../support/scenario';

/**
 * The seeded random walk of settlement-random.e2e.test.ts (purchases, redemptions, returned rewards,
 * partial and full refunds, debt, donations with a match, at four partners), extended with operator
 * bonuses and issuance price changes, run three times on fresh hubs: BILATERAL throughout, CLEARING
 * throughout, and BILATERAL switching to CLEARING halfway through one period (one run spans the
 * switch). Each run is compared with the test's own model, written from the rules
 * (docs/rules.md, Redemption and settlement), not from the code:
 * - BILATERAL: a consumed lot is owed issuer → redeeming partner; a refund takes back from its own
 *   lot, then other lots (DEBT_RECOVERY lot issuer → refunding partner), the rest is debt owed to
 *   the refunding partner; a new or restored lot pays debt first (DEBT_RECOVERY issuer → creditor;
 *   owed to the operator: at the issuer's own value); donations issuer → cause.
 * - CLEARING: a partner's purchase owes ISSUANCE partner → operator at its issuance price in force;
 *   operator bonuses owe nothing; every redeemed point is owed operator → redeeming partner;
 *   donations operator → cause; a refund owes nothing for other lots, its missing points are debt
 *   owed to the operator, and a debt owed to a partner (from BILATERAL) is paid to it by the operator
 *   (REDEMPTION) as a new lot repays it; debt owed to the operator costs nobody anything.
 * - Either model: a refund returns the issuance price its purchase paid (if it paid one), for every
 *   point it takes back (negative ISSUANCE); a returned redemption negates its own obligations;
 *   matches sponsor → cause.
 * Then: lines = the model's, positions from the lines summing to zero, transfers settling them,
 * balances and debts as modelled, and the operator's position = operatorEconomics.margin.
 */

jest.setTimeout(600_000);

const SEED = 0xc1ea7;
const OPERATIONS = 150;
const MEMBERS = 10;
const PARTNERS = [
  { pointsPerUnit: '1', rate: '0.01', price: '0.012' },
  { pointsPerUnit: '2', rate: '0.008', price: '0.0095' },
  { pointsPerUnit: '1.5', rate: '0.0125', price: '0.0131' },
  { pointsPerUnit: '1.25', rate: '0.0033', price: '0.004' },
];
const DONATION_VALUE = '0.0035';
const MATCH_SPONSOR = 2;
const MATCH_RATIO = '0.5';
/** The operator in the model. */
const OP = -1;

type Model = 'BILATERAL' | 'CLEARING';

const RUN_FIELDS = `id lines { payer { type id } payee { type id } kind points amount { amount currency } }
  positions { party { type id } amount { amount } } transfers { from { type id } to { type id } amount { amount } }`;
const ECONOMICS = `query($s: DateTime!, $e: DateTime!) { operatorEconomics(periodStart: $s, periodEnd: $e) {
  issuanceRevenue { amount } redemptionCost { amount } rewardCost { amount } donationCost { amount } margin { amount } } }`;


const cents = (points: number) => BigInt(new Dec(points).times(DONATION_VALUE).times(100).floor().toFixed(0));

interface Lot { issuer: number; remaining: number }
interface Debt { creditor: number; remaining: number }
interface MemberModel { member: TestMember; lots: Lot[]; debts: Debt[] }
interface Obligation { kind: string; payer: number; payee: number | 'cause'; points: number; rate: string; valueMinor?: bigint }
interface PurchaseRecord { txId: string; m: MemberModel; partner: number; amountMinor: bigint; earned: number; lot?: Lot; issuanceRate?: string; refundedMinor: bigint; taken: number }
interface RedemptionRecord { txId: string; m: MemberModel; partner: number; takes: { lot: Lot; points: number }[]; obligations: Obligation[]; returned: boolean }

const debtOf = (m: MemberModel) => m.debts.reduce((s, d) => s + d.remaining, 0);
const balanceOf = (m: MemberModel) => m.lots.reduce((s, l) => s + l.remaining, 0) - debtOf(m);

/** The rules of both models over the members' lots and debts; `model` is the one in force for the next event. */
class Ledger {
  model: Model = 'BILATERAL';
  readonly prices = PARTNERS.map((p) => p.price);
  readonly obligations: Obligation[] = [];
  readonly fired: Record<string, number> = {};

  count(what: string) {
    this.fired[what] = (this.fired[what] ?? 0) + 1;
  }

  private value(partner: number): string {
    return PARTNERS[partner]!.rate;
  }

  private owe(kind: string, payer: number, payee: number | 'cause', points: number, rate: string): Obligation | undefined {
    if (points === 0 || payer === payee) return undefined;
    const o = { kind, payer, payee, points, rate };
    this.obligations.push(o);
    return o;
  }

  private consume(m: MemberModel, points: number) {
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

  private payDebt(m: MemberModel, lot: Lot) {
    for (const debt of m.debts) {
      if (lot.remaining === 0) break;
      if (debt.remaining === 0) continue;
      const pay = Math.min(debt.remaining, lot.remaining);
      lot.remaining -= pay;
      debt.remaining -= pay;
      if (this.model === 'BILATERAL') {
        this.owe('DEBT_RECOVERY', lot.issuer, debt.creditor, pay, this.value(debt.creditor === OP ? lot.issuer : debt.creditor));
        this.count(debt.creditor === OP ? 'bilateral: operator-owed debt recovered' : 'bilateral: debt recovered');
      } else if (debt.creditor !== OP) {
        this.owe('REDEMPTION', OP, debt.creditor, pay, this.value(debt.creditor));
        this.count('clearing: partner-owed debt paid by the operator');
      } else {
        this.count('clearing: operator-owed debt repaid');
      }
    }
  }

  credit(m: MemberModel, issuer: number, points: number): { lot?: Lot; issuanceRate?: string } {
    if (points === 0) return {};
    const lot = { issuer, remaining: points };
    m.lots.push(lot);
    let issuanceRate: string | undefined;
    if (this.model === 'CLEARING' && issuer !== OP) {
      issuanceRate = this.prices[issuer]!;
      this.owe('ISSUANCE', issuer, OP, points, issuanceRate);
      this.count('clearing: issuance');
    }
    this.payDebt(m, lot);
    return { lot, issuanceRate };
  }

  redeem(m: MemberModel, partner: number, points: number): Omit<RedemptionRecord, 'txId'> {
    const { takes, missing } = this.consume(m, points);
    if (missing) throw new Error('the model redeemed more than the balance');
    const obligations = takes.flatMap((t) => this.owe('REDEMPTION', this.model === 'CLEARING' ? OP : t.lot.issuer, partner, t.points, this.value(partner)) ?? []);
    if (takes.some((t) => t.lot.issuer === OP)) this.count('operator points redeemed');
    return { m, partner, takes, obligations, returned: false };
  }

  returnReward(r: RedemptionRecord): number {
    r.returned = true;
    this.count('returned redemption');
    for (const t of r.takes) t.lot.remaining += t.points;
    for (const o of r.obligations) this.obligations.push({ ...o, points: -o.points });
    for (const t of r.takes) this.payDebt(r.m, t.lot);
    return r.takes.reduce((s, t) => s + t.points, 0);
  }

  refund(p: PurchaseRecord, refundMinor: bigint): number {
    const completes = p.refundedMinor + refundMinor === p.amountMinor;
    const points = completes ? p.earned - p.taken : Number((BigInt(p.earned) * (p.refundedMinor + refundMinor)) / p.amountMinor) - p.taken;
    p.refundedMinor += refundMinor;
    p.taken += points;
    let left = points;
    if (p.lot && p.lot.remaining > 0) {
      const own = Math.min(p.lot.remaining, left);
      p.lot.remaining -= own;
      left -= own;
    }
    const { takes, missing } = this.consume(p.m, left);
    if (this.model === 'BILATERAL') for (const t of takes) this.owe('DEBT_RECOVERY', t.lot.issuer, p.partner, t.points, this.value(p.partner));
    if (takes.length) this.count(`${this.model.toLowerCase()}: refund took other lots`);
    if (missing > 0) {
      p.m.debts.push({ creditor: this.model === 'CLEARING' ? OP : p.partner, remaining: missing });
      this.count(`${this.model.toLowerCase()}: debt`);
    }
    if (p.issuanceRate !== undefined && points > 0) {
      this.owe('ISSUANCE', p.partner, OP, -points, p.issuanceRate);
      this.count(this.model === 'CLEARING' ? 'clearing: refund returned issuance' : 'bilateral: refund returned issuance');
    } else if (this.model === 'CLEARING' && points > 0) this.count('clearing: refund of a purchase that paid no issuance');
    return points;
  }

  donate(m: MemberModel, points: number): { valueMinor: bigint; matched: number } | undefined {
    if (cents(points) === 0n) return undefined;
    const { takes, missing } = this.consume(m, points);
    if (missing) throw new Error('the model donated more than the balance');
    let upTo = 0;
    for (const t of takes) {
      const before = cents(upTo);
      upTo += t.points;
      this.obligations.push({ kind: 'DONATION', payer: this.model === 'CLEARING' ? OP : t.lot.issuer, payee: 'cause', points: t.points, rate: DONATION_VALUE,
        valueMinor: cents(upTo) - before });
    }
    this.count(`${this.model.toLowerCase()}: donation`);
    const matched = new Dec(points).times(MATCH_RATIO).floor().toNumber();
    if (matched > 0) this.obligations.push({ kind: 'MATCH', payer: MATCH_SPONSOR, payee: 'cause', points: matched, rate: DONATION_VALUE, valueMinor: cents(matched) });
    return { valueMinor: cents(points), matched };
  }

  /** The run's lines: per (kind, payer, payee), exact Σ points × rate (donations, matches: Σ floored values), rounded half up once. */
  lines(ids: (party: number | 'cause') => string) {
    return expectedLines(this.obligations.map((o) => ({ ...o, payer: ids(o.payer), payee: ids(o.payee) })));
  }
}


const SCENARIOS: { name: string; models: [Model, Model]; rules: string[] }[] = [
  { name: 'BILATERAL throughout', models: ['BILATERAL', 'BILATERAL'],
    rules: ['bilateral: debt', 'bilateral: debt recovered', 'bilateral: refund took other lots', 'bilateral: donation', 'returned redemption', 'operator points redeemed'] },
  { name: 'CLEARING throughout', models: ['CLEARING', 'CLEARING'],
    rules: ['clearing: issuance', 'clearing: refund returned issuance', 'clearing: debt', 'clearing: operator-owed debt repaid', 'clearing: refund took other lots',
      'clearing: donation', 'returned redemption', 'issuance price changed', 'operator points redeemed'] },
  { name: 'BILATERAL switching to CLEARING within the period', models: ['BILATERAL', 'CLEARING'],
    rules: ['bilateral: debt', 'bilateral: donation', 'clearing: issuance', 'clearing: refund returned issuance', 'clearing: refund of a purchase that paid no issuance',
      'clearing: donation', 'clearing: debt', 'returned redemption'] },
];

it.each(SCENARIOS)('$name: a seeded walk settles as the model says, and the operator’s position is its margin', async ({ models, rules }) => {
  const hub: TestHub = await startTestHub();
  try {
    await walk(hub, models, rules);
  } finally {
    await hub.close();
  }
});

async function walk(hub: TestHub, models: [Model, Model], rules: string[]): Promise<void> {
  const configure = async (model: Model) => {
    const res = await hub.gql(`mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { userErrors { code message } } }`,
      { input: { name: 'Random coalition', currency: 'EUR', donationValuePerPoint: DONATION_VALUE, settlementModel: model } }, hub.admin);
    expect(res.data.configureCoalition.userErrors).toEqual([]);
  };
  const ledger = new Ledger();
  ledger.model = models[0];
  await configure(models[0]);
  const partners: TestPartner[] = [];
  for (const p of PARTNERS) partners.push(await createPartner(hub, { pointsPerUnit: p.pointsPerUnit, pointsValidityDays: 365 }, p.rate));
  for (const [i, p] of PARTNERS.entries()) {
    const res = await hub.gql(`mutation($input: UpdatePartnerTermsInput!) { updatePartnerTerms(input: $input) { userErrors { code } } }`,
      { input: { partnerId: partners[i]!.id, issuancePricePerPoint: p.price } }, hub.admin);
    expect(res.data.updatePartnerTerms.userErrors).toEqual([]);
  }
  const causeId = (await hub.gql('mutation { createCause(input: { name: "Random cause" }) { cause { id } } }', {}, hub.admin)).data.createCause.cause.id;
  const campaign = await hub.gql(`mutation($input: CreateMatchingCampaignInput!) { createMatchingCampaign(input: $input) { userErrors { code } } }`,
    { input: { partnerId: partners[MATCH_SPONSOR]!.id, causeId, ratio: MATCH_RATIO, capPoints: 1_000_000_000,
      startsAt: new Date(Date.now() - 3_600_000), endsAt: new Date(Date.now() + 24 * 3_600_000) } }, hub.admin);
  expect(campaign.data.createMatchingCampaign.userErrors).toEqual([]);
  const members: MemberModel[] = [];
  for (let i = 0; i < MEMBERS; i++) {
    const email = `${unique('r')}@example.com`;
    const member = await enroll(hub, partners[0]!, { email });
    for (const partner of partners.slice(1)) await enroll(hub, partner, { email });
    members.push({ member, lots: [], debts: [] });
  }

  const random = mulberry32(SEED);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(list: T[]) => list[int(0, list.length - 1)]!;
  const purchases: PurchaseRecord[] = [];
  const redemptions: RedemptionRecord[] = [];
  const expectPosted = (step: string, payload: any, m: MemberModel, points: number) => {
    expect({ step, userErrors: payload.userErrors, points: payload.transaction?.points, member: payload.member })
      .toEqual({ step, userErrors: [], points, member: { id: m.member.id, balance: balanceOf(m), debt: debtOf(m) } });
  };

  const doPurchase = async (label: string) => {
    const m = pick(members);
    const partner = int(0, partners.length - 1);
    const amountMinor = BigInt(int(100, 25000));
    const earned = new Dec(amountMinor.toString()).div(100).times(PARTNERS[partner]!.pointsPerUnit).floor().toNumber();
    const { lot, issuanceRate } = ledger.credit(m, partner, earned);
    const res = await purchase(hub, partners[partner]!, m.member, formatAmount(amountMinor));
    expectPosted(`${label}: purchase ${formatAmount(amountMinor)} at ${partner}`, res, m, earned);
    purchases.push({ txId: res.transaction.id, m, partner, amountMinor, earned, lot, issuanceRate, refundedMinor: 0n, taken: 0 });
  };

  const step = async (n: number) => {
    const label = `${ledger.model} step ${n}`;
    const roll = random();
    if (roll < 0.3) return doPurchase(label);
    if (roll < 0.35) {
      const m = pick(members);
      const points = int(5, 80);
      ledger.credit(m, OP, points);
      const res = await bonus(hub, hub.admin, m.member, points);
      return expectPosted(`${label}: operator bonus ${points}`, res, m, points);
    }
    if (roll < 0.37) {
      const partner = int(0, partners.length - 1);
      const price = new Dec(int(30, 160)).div(10_000).toFixed();
      ledger.prices[partner] = price;
      ledger.count('issuance price changed');
      const res = await hub.gql(`mutation($input: UpdatePartnerTermsInput!) { updatePartnerTerms(input: $input) { userErrors { code } } }`,
        { input: { partnerId: partners[partner]!.id, issuancePricePerPoint: price } }, hub.admin);
      return expect(res.data.updatePartnerTerms.userErrors).toEqual([]);
    }
    if (roll < 0.43) {
      const m = pick(members);
      const balance = balanceOf(m);
      if (debtOf(m) > 0 || balance < 3) return doPurchase(label);
      const points = random() < 0.3 ? balance : int(3, Math.min(balance, 60));
      const given = ledger.donate(m, points);
      const res = await hub.gql(`mutation($input: DonatePointsInput!) { donatePoints(input: $input) { donation { points value { amount } matchedPoints } userErrors { code } } }`,
        { input: { idempotencyKey: unique('rd'), causeId, points } }, m.member.token);
      return expect({ label, donation: res.data.donatePoints.donation }).toEqual({ label, donation: given
        ? { points, value: { amount: formatAmount(given.valueMinor) }, matchedPoints: given.matched } : null });
    }
    if (roll < 0.7) {
      const m = pick(members);
      const partner = int(0, partners.length - 1);
      const balance = balanceOf(m);
      if (debtOf(m) > 0 || balance === 0) return doPurchase(label);
      const points = random() < 0.4 ? balance : int(1, balance);
      const record = ledger.redeem(m, partner, points);
      const res = await redeem(hub, partners[partner]!, m.member, points);
      expectPosted(`${label}: redeem ${points} at ${partner}`, res, m, -points);
      redemptions.push({ ...record, txId: res.transaction.id });
      return undefined;
    }
    if (roll < 0.8) {
      const open = redemptions.filter((r) => !r.returned);
      if (!open.length) return doPurchase(label);
      const r = pick(open);
      const points = ledger.returnReward(r);
      return expectPosted(`${label}: return of ${r.txId}`, await reverse(hub, partners[r.partner]!.token, r.txId), r.m, points);
    }
    const open = purchases.filter((p) => p.refundedMinor < p.amountMinor);
    if (!open.length) return doPurchase(label);
    const p = pick(open);
    const left = p.amountMinor - p.refundedMinor;
    const partial = roll < 0.92;
    const refundMinor = partial ? BigInt(int(1, Number(left))) : left;
    const points = ledger.refund(p, refundMinor);
    const res = await reverse(hub, partners[p.partner]!.token, p.txId, partial ? formatAmount(refundMinor) : undefined);
    return expectPosted(`${label}: refund ${formatAmount(refundMinor)} of ${p.txId}`, res, p.m, negate(points));
  };

  const periodStart = new Date();
  await pause();
  for (let n = 1; n <= OPERATIONS; n++) {
    if (n === Math.floor(OPERATIONS / 2) + 1 && models[1] !== ledger.model) {
      await configure(models[1]);
      ledger.model = models[1];
    }
    await step(n);
  }
  await pause();
  const periodEnd = new Date();
  const closed = await hub.gql(`mutation($input: CloseSettlementPeriodInput!) { closeSettlementPeriod(input: $input) { run { ${RUN_FIELDS} } userErrors { code } } }`,
    { input: { periodStart, periodEnd } }, hub.admin);
  expect(closed.data.closeSettlementPeriod.userErrors).toEqual([]);
  const run = closed.data.closeSettlementPeriod.run;

  for (const rule of rules) expect({ rule, fired: (ledger.fired[rule] ?? 0) > 0 }).toEqual({ rule, fired: true });

  // (a) Lines as the model predicts, both kinds where the period spans a switch.
  const ids = (party: number | 'cause') => (party === 'cause' ? causeId : party === OP ? 'operator' : partners[party]!.id);
  const lines = runLines(run.lines);
  expect(lines).toEqual(ledger.lines(ids));

  // (b) Positions from the rounded lines, summing to zero.
  const fromLines = new Map<string, bigint>();
  for (const l of lines) {
    fromLines.set(l.payee, (fromLines.get(l.payee) ?? 0n) + l.amountMinor);
    fromLines.set(l.payer, (fromLines.get(l.payer) ?? 0n) - l.amountMinor);
  }
  const positions = new Map<string, bigint>(run.positions.map((p: any) => [p.party.id, toMinor(p.amount.amount)]));
  expect(positions).toEqual(fromLines);
  expect([...positions.values()].reduce((s, v) => s + v, 0n)).toBe(0n);

  // (c) Transfers settle every position; nobody both pays and receives.
  const left = new Map(positions);
  for (const t of run.transfers) {
    left.set(t.from.id, (left.get(t.from.id) ?? 0n) + toMinor(t.amount.amount));
    left.set(t.to.id, (left.get(t.to.id) ?? 0n) - toMinor(t.amount.amount));
  }
  expect([...left].filter(([, v]) => v !== 0n)).toEqual([]);
  const payers = new Set(run.transfers.map((t: any) => t.from.id));
  expect(run.transfers.filter((t: any) => payers.has(t.to.id))).toEqual([]);

  // (d) Balances and debts.
  for (const m of members) {
    const res = await hub.gql('query($id: ID!) { member(id: $id) { id balance debt } }', { id: m.member.id }, hub.admin);
    expect(res.data.member).toEqual({ id: m.member.id, balance: balanceOf(m), debt: debtOf(m) });
  }

  // (e) The operator economics of the period: its lines, and a margin equal to its position in the run.
  const sumOf = (kinds: string[], sign: (l: { payer: string; payee: string }) => bigint) =>
    lines.filter((l: any) => kinds.includes(l.kind)).reduce((s: bigint, l: any) => s + sign(l) * l.amountMinor, 0n);
  const received = (l: { payer: string; payee: string }) => (l.payee === 'operator' ? 1n : l.payer === 'operator' ? -1n : 0n);
  const economics = (await hub.gql(ECONOMICS, { s: periodStart, e: periodEnd }, hub.admin)).data.operatorEconomics;
  expect({
    issuanceRevenue: toMinor(economics.issuanceRevenue.amount), redemptionCost: toMinor(economics.redemptionCost.amount),
    donationCost: toMinor(economics.donationCost.amount), rewardCost: toMinor(economics.rewardCost.amount), margin: toMinor(economics.margin.amount),
  }).toEqual({
    issuanceRevenue: sumOf(['ISSUANCE'], received), redemptionCost: -sumOf(['REDEMPTION', 'DEBT_RECOVERY'], received),
    donationCost: -sumOf(['DONATION'], received), rewardCost: 0n, margin: positions.get('operator') ?? 0n,
  });
  if (models.includes('CLEARING')) expect(positions.get('operator')).not.toBe(0n);

  // (f) The ledger check, runs included.
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
}
