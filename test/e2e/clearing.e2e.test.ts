import { Role } from '../../src/api/auth';
import { decodeTransactionId } from '../../src/common/ids';
import { TestHub, startTestHub } from '../support/hub';
import { TestMember, TestPartner, bonus, createPartner, enroll, ledgerCheck, ledgerRowCounts, purchase, redeem, reverse, unique } from '../support/scenario';

/**
 * Operator clearing (docs/rules.md, Redemption and settlement): partners buy the points they issue
 * from the operator (ISSUANCE partner → operator at their issuance price in force), the operator
 * pays every redemption (operator → redeeming partner at its redemption value) and donation
 * (operator → cause); a refund returns the issuance price its purchase paid (negative ISSUANCE),
 * wherever the points come from; no DEBT_RECOVERY. Checked on the obligations the postings write,
 * on a settlement run of the period, and on the operator economics report.
 */
let hub: TestHub;
let alpha: TestPartner; // redemption value 0.01, issuance price 0.012
let beta: TestPartner; // redemption value 0.008, issuance price (default) 0.008
let gamma: TestPartner; // redemption value 0.0125, issuance price 0.015

const CONFIGURE = `mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { coalition { settlementModel } userErrors { code message field } } }`;
const TERMS = `mutation($input: UpdatePartnerTermsInput!) { updatePartnerTerms(input: $input) {
  partner { id redemptionValuePerPoint issuancePricePerPoint } userErrors { code message field } } }`;
const CLOSE = `mutation($input: CloseSettlementPeriodInput!) { closeSettlementPeriod(input: $input) {
  run { lines { payer { type id } payee { type id } kind points amount { amount } } positions { party { type id } amount { amount } }
        transfers { from { type id } to { type id } amount { amount } } }
  userErrors { code message field } } }`;
const ECONOMICS = `query($s: DateTime!, $e: DateTime!) { operatorEconomics(periodStart: $s, periodEnd: $e) {
  issuanceRevenue { amount } redemptionCost { amount } rewardCost { amount } donationCost { amount } breakagePoints breakageValue { amount }
  margin { amount } outstandingPoints liability { amount } breakageEstimate { amount } liabilityValuePerPoint trailingBreakageRate settlementModel } }`;

const pause = () => new Promise((r) => setTimeout(r, 5));

async function configure(model?: string) {
  const res = await hub.gql(CONFIGURE, { input: { name: 'Clearing coalition', currency: 'EUR', donationValuePerPoint: '0.01', ...(model ? { settlementModel: model } : {}) } }, hub.admin);
  expect(res.data.configureCoalition.userErrors).toEqual([]);
  return res.data.configureCoalition.coalition.settlementModel;
}

async function setPrice(partner: TestPartner, issuancePricePerPoint: string) {
  const res = await hub.gql(TERMS, { input: { partnerId: partner.id, issuancePricePerPoint } }, hub.admin);
  expect(res.data.updatePartnerTerms.userErrors).toEqual([]);
}

async function sharedMember(): Promise<TestMember> {
  const email = `${unique('c')}@example.com`;
  const member = await enroll(hub, alpha, { email });
  await enroll(hub, beta, { email });
  await enroll(hub, gamma, { email });
  return member;
}

/** The obligations a transaction (its public id) wrote, in a stable order. */
async function obligationsOf(publicId: string) {
  const transactionId = decodeTransactionId(publicId)!.transactionId;
  const found: { kind: string; payer_type: string; payer_id: string | null; payee_type: string; payee_id: string | null; points: number; rate: string }[] = await hub.db.query(
    `SELECT kind, payer_type, payer_id, payee_type, payee_id, points, rate::text AS rate FROM obligation WHERE transaction_id = $1
     ORDER BY kind, payer_type, payer_id, payee_type, payee_id, points`, [transactionId]);
  return found.map((o) => ({ kind: o.kind, payer: o.payer_id ?? o.payer_type, payee: o.payee_id ?? o.payee_type, points: o.points, rate: Number(o.rate).toString() }));
}

beforeAll(async () => {
  hub = await startTestHub();
  alpha = await createPartner(hub, { pointsPerUnit: '1' }, '0.01');
  beta = await createPartner(hub, { pointsPerUnit: '2' }, '0.008');
  gamma = await createPartner(hub, { pointsPerUnit: '1' }, '0.0125');
  await setPrice(alpha, '0.012');
  await setPrice(gamma, '0.015');
});
afterAll(() => hub.close());

it('starts BILATERAL; a partner created without a price buys its points at its redemption value', async () => {
  const res = await hub.gql('{ coalition { settlementModel } }', {}, hub.admin);
  expect(res.data.coalition.settlementModel).toBe('BILATERAL');
  const created = await hub.gql('query($id: ID!) { partner(id: $id) { redemptionValuePerPoint issuancePricePerPoint } }', { id: beta.id }, hub.admin);
  expect(created.data.partner).toEqual({ redemptionValuePerPoint: '0.008', issuancePricePerPoint: '0.008' });
});

it('earn at A, spend at B in CLEARING: A → operator ISSUANCE and operator → B REDEMPTION; the run and the economics agree', async () => {
  expect(await configure('CLEARING')).toBe('CLEARING');
  const periodStart = new Date();
  await pause();
  const ann = await sharedMember();
  const earned = await purchase(hub, alpha, ann, '250.00'); // 250 alpha points, bought at 0.012: 3.00
  expect(earned.transaction.points).toBe(250);
  expect(await obligationsOf(earned.transaction.id)).toEqual([{ kind: 'ISSUANCE', payer: alpha.id, payee: 'OPERATOR', points: 250, rate: '0.012' }]);
  const spent = await redeem(hub, beta, ann, 150); // beta is paid 150 × 0.008 = 1.20 by the operator, whoever issued
  expect(spent.member.balance).toBe(100);
  expect(await obligationsOf(spent.transaction.id)).toEqual([{ kind: 'REDEMPTION', payer: 'OPERATOR', payee: beta.id, points: 150, rate: '0.008' }]);
  // Spending at the issuer itself is paid by the operator too (alpha bought those points): 50 × 0.01 = 0.50.
  const own = await redeem(hub, alpha, ann, 50);
  expect(await obligationsOf(own.transaction.id)).toEqual([{ kind: 'REDEMPTION', payer: 'OPERATOR', payee: alpha.id, points: 50, rate: '0.01' }]);
  // A partner's bonus is issuance too; the operator's own bonus is not bought by anyone.
  const partnerBonus = await bonus(hub, gamma.token, ann, 40); // 40 × 0.015 = 0.60
  expect(await obligationsOf(partnerBonus.transaction.id)).toEqual([{ kind: 'ISSUANCE', payer: gamma.id, payee: 'OPERATOR', points: 40, rate: '0.015' }]);
  const operatorBonus = await bonus(hub, hub.admin, ann, 10, { partnerId: null });
  expect(operatorBonus.userErrors).toEqual([]);
  expect(await obligationsOf(operatorBonus.transaction.id)).toEqual([]);
  await pause();
  const periodEnd = new Date();

  const closed = await hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin);
  expect(closed.data.closeSettlementPeriod.userErrors).toEqual([]);
  const run = closed.data.closeSettlementPeriod.run;
  const line = (kind: string, payer: string, payee: string) => run.lines.find((l: any) => l.kind === kind && l.payer.id === payer && l.payee.id === payee);
  expect(run.lines).toHaveLength(4);
  expect(line('ISSUANCE', alpha.id, 'operator')).toMatchObject({ payer: { type: 'PARTNER' }, payee: { type: 'OPERATOR' }, points: 250, amount: { amount: '3.00' } });
  expect(line('ISSUANCE', gamma.id, 'operator')).toMatchObject({ points: 40, amount: { amount: '0.60' } });
  expect(line('REDEMPTION', 'operator', beta.id)).toMatchObject({ payer: { type: 'OPERATOR' }, points: 150, amount: { amount: '1.20' } });
  expect(line('REDEMPTION', 'operator', alpha.id)).toMatchObject({ points: 50, amount: { amount: '0.50' } });
  const position = (id: string) => run.positions.find((p: any) => p.party.id === id)?.amount.amount;
  // Operator: 3.00 + 0.60 − 1.20 − 0.50 = 1.90; alpha −3.00 + 0.50; gamma −0.60; beta +1.20.
  expect([position('operator'), position(alpha.id), position(beta.id), position(gamma.id)]).toEqual(['1.90', '-2.50', '1.20', '-0.60']);
  expect(run.transfers).toHaveLength(3);

  const report = await hub.gql(ECONOMICS, { s: periodStart, e: periodEnd }, hub.admin);
  expect(report.errors).toBeUndefined();
  const economics = report.data.operatorEconomics;
  expect(economics).toMatchObject({ issuanceRevenue: { amount: '3.60' }, redemptionCost: { amount: '1.70' }, rewardCost: { amount: '0.00' },
    donationCost: { amount: '0.00' }, breakagePoints: 0, breakageValue: { amount: '0.00' }, margin: { amount: '1.90' }, settlementModel: 'CLEARING' });
  expect(economics.margin.amount).toBe(position('operator'));
  // Liability at the period's end: ann's 100 points at the volume-weighted value redeemed in the
  // trailing year, (150 × 0.008 + 50 × 0.01) / 200 = 0.0085; nothing expired, so no breakage estimate.
  expect(economics).toMatchObject({ outstandingPoints: 100, liabilityValuePerPoint: '0.0085', liability: { amount: '0.85' }, trailingBreakageRate: '0',
    breakageEstimate: { amount: '0.00' } });
});

it.each([
  ['BILATERAL', [['REDEMPTION', 'grocer', 'fuel', 250, '2.00'], ['DONATION', 'grocer', 'cause', 20, '0.20'], ['DEBT_RECOVERY', 'fuel', 'grocer', 70, '0.70']],
    { grocer: '-1.50', fuel: '1.30', cause: '0.20' }, { issuance: '0.00', redemption: '0.00', donation: '0.00', margin: '0.00' }],
  ['CLEARING', [['ISSUANCE', 'grocer', 'operator', 200, '2.40'], ['ISSUANCE', 'fuel', 'operator', 100, '0.90'], ['REDEMPTION', 'operator', 'fuel', 250, '2.00'],
    ['DONATION', 'operator', 'cause', 20, '0.20']],
  { operator: '1.10', grocer: '-2.40', fuel: '1.10', cause: '0.20' }, { issuance: '3.30', redemption: '2.00', donation: '0.20', margin: '1.10' }],
] as const)('the README worked example in %s: lines, positions, transfers and economics', async (model, lines, positions, economics) => {
  await configure(model);
  const grocer = await createPartner(hub, { pointsPerUnit: '1' }, '0.01');
  const fuel = await createPartner(hub, { pointsPerUnit: '2' }, '0.008');
  await setPrice(grocer, '0.012');
  await setPrice(fuel, '0.009');
  const causeId = (await hub.gql('mutation { createCause(input: { name: "Example cause" }) { cause { id } } }', {}, hub.admin)).data.createCause.cause.id;
  const email = `${unique('w')}@example.com`;
  const ann = await enroll(hub, grocer, { email });
  await enroll(hub, fuel, { email });
  const periodStart = new Date();
  await pause();
  const bought = await purchase(hub, grocer, ann, '300.00');
  await redeem(hub, fuel, ann, 250);
  const gift = await hub.gql(`mutation($input: DonatePointsInput!) { donatePoints(input: $input) { userErrors { code } } }`,
    { input: { idempotencyKey: unique('d'), causeId, points: 20 } }, ann.token);
  expect(gift.data.donatePoints.userErrors).toEqual([]);
  expect((await reverse(hub, grocer.token, bought.transaction.id, '100.00')).member).toEqual({ id: ann.id, balance: -70, debt: 70 });
  expect((await purchase(hub, fuel, ann, '50.00')).member).toEqual({ id: ann.id, balance: 30, debt: 0 });
  await pause();
  const periodEnd = new Date();
  const closed = await hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin);
  const run = closed.data.closeSettlementPeriod.run;
  const id = (name: string) => ({ grocer: grocer.id, fuel: fuel.id, cause: causeId, operator: 'operator' })[name]!;
  const byKey = (l: { kind: string; payer: string; payee: string }) => `${l.kind}|${l.payer}|${l.payee}`;
  expect(run.lines.map((l: any) => ({ kind: l.kind, payer: l.payer.id, payee: l.payee.id, points: l.points, amount: l.amount.amount }))
    .sort((a: any, b: any) => byKey(a).localeCompare(byKey(b))))
    .toEqual(lines.map(([kind, payer, payee, points, amount]) => ({ kind, payer: id(payer), payee: id(payee), points, amount }))
      .sort((a, b) => byKey(a).localeCompare(byKey(b))));
  expect(Object.fromEntries(run.positions.map((p: any) => [p.party.id, p.amount.amount])))
    .toEqual(Object.fromEntries(Object.entries(positions).map(([name, amount]) => [id(name), amount])));
  // The grocer, the only payer, pays every receiver what it is owed.
  expect(run.transfers.map((t: any) => `${t.from.id}>${t.to.id}:${t.amount.amount}`).sort())
    .toEqual(Object.entries(positions).filter(([, amount]) => !amount.startsWith('-')).map(([name, amount]) => `${grocer.id}>${id(name)}:${amount}`).sort());
  const report = (await hub.gql(ECONOMICS, { s: periodStart, e: periodEnd }, hub.admin)).data.operatorEconomics;
  expect({ issuance: report.issuanceRevenue.amount, redemption: report.redemptionCost.amount, donation: report.donationCost.amount, margin: report.margin.amount })
    .toEqual(economics);
});

it('a refund in CLEARING returns the issuance price its purchase paid, after updatePartnerTerms raised it; the debt is owed to the operator', async () => {
  await configure('CLEARING');
  const bob = await sharedMember();
  const first = await purchase(hub, alpha, bob, '100.00'); // 100 points at 0.012
  await redeem(hub, beta, bob, 100);
  await setPrice(alpha, '0.02');
  // Effective for postings after the change only: the earlier ISSUANCE keeps 0.012, a new purchase pays 0.02.
  expect(await obligationsOf(first.transaction.id)).toEqual([{ kind: 'ISSUANCE', payer: alpha.id, payee: 'OPERATOR', points: 100, rate: '0.012' }]);
  const later = await purchase(hub, alpha, bob, '30.00');
  expect(await obligationsOf(later.transaction.id)).toEqual([{ kind: 'ISSUANCE', payer: alpha.id, payee: 'OPERATOR', points: 30, rate: '0.02' }]);
  // The full refund takes back 100 points: 30 from the later lot (another lot), 70 become debt.
  const refund = await reverse(hub, alpha.token, first.transaction.id);
  expect(refund.userErrors).toEqual([]);
  expect(refund.member).toEqual({ id: bob.id, balance: -70, debt: 70 });
  // Every point taken back returns 0.012 (own lot, other lot or debt alike); no DEBT_RECOVERY.
  expect(await obligationsOf(refund.transaction.id)).toEqual([{ kind: 'ISSUANCE', payer: alpha.id, payee: 'OPERATOR', points: -100, rate: '0.012' }]);
  const [debt] = await hub.db.query('SELECT creditor_partner_id, remaining FROM member_debt WHERE transaction_id = $1', [decodeTransactionId(refund.transaction.id)!.transactionId]);
  expect(debt).toEqual({ creditor_partner_id: null, remaining: 70 });
  // A new lot at gamma pays the debt: gamma buys its 50 points, and the repayment owes nobody anything.
  const repay = await purchase(hub, gamma, bob, '50.00');
  expect(repay.member).toEqual({ id: bob.id, balance: -20, debt: 20 });
  expect(await obligationsOf(repay.transaction.id)).toEqual([{ kind: 'ISSUANCE', payer: gamma.id, payee: 'OPERATOR', points: 50, rate: '0.015' }]);
  await setPrice(alpha, '0.012');
});

it('a partial refund returns the price of the points it takes back; a returned redemption reverses its REDEMPTION', async () => {
  await configure('CLEARING');
  const cy = await sharedMember();
  const bought = await purchase(hub, gamma, cy, '80.00'); // 80 points at 0.015
  const partial = await reverse(hub, gamma.token, bought.transaction.id, '20.00'); // floor(80 × 20 / 80) = 20 points
  expect(await obligationsOf(partial.transaction.id)).toEqual([{ kind: 'ISSUANCE', payer: gamma.id, payee: 'OPERATOR', points: -20, rate: '0.015' }]);
  const spent = await redeem(hub, alpha, cy, 60);
  const returned = await reverse(hub, alpha.token, spent.transaction.id);
  expect(returned.member).toEqual({ id: cy.id, balance: 60, debt: 0 });
  expect(await obligationsOf(returned.transaction.id)).toEqual([{ kind: 'REDEMPTION', payer: 'OPERATOR', payee: alpha.id, points: -60, rate: '0.01' }]);
});

it('a donation in CLEARING is paid by the operator; a match by its partner', async () => {
  await configure('CLEARING');
  const dee = await sharedMember();
  await purchase(hub, alpha, dee, '30.00');
  await purchase(hub, beta, dee, '10.00'); // 20 beta points
  const causeId = (await hub.gql('mutation { createCause(input: { name: "Clearing cause" }) { cause { id } } }', {}, hub.admin)).data.createCause.cause.id;
  const campaign = await hub.gql(`mutation($input: CreateMatchingCampaignInput!) { createMatchingCampaign(input: $input) { userErrors { code } } }`,
    { input: { partnerId: beta.id, causeId, ratio: '1', capPoints: 1000, startsAt: new Date(Date.now() - 60_000), endsAt: new Date(Date.now() + 3_600_000) } }, hub.admin);
  expect(campaign.data.createMatchingCampaign.userErrors).toEqual([]);
  const res = await hub.gql(`mutation($input: DonatePointsInput!) { donatePoints(input: $input) { donation { points value { amount } } userErrors { code } } }`,
    { input: { idempotencyKey: unique('d'), causeId, points: 45 } }, dee.token);
  expect(res.errors).toBeUndefined();
  expect(res.data.donatePoints.donation).toEqual({ points: 45, value: { amount: '0.45' } });
  // Two lots (alpha's 30, beta's 15) — both paid by the operator; the match by beta.
  const rows: { payer: string; kind: string; points: string; value: string }[] = await hub.db.query(
    `SELECT COALESCE(payer_id::text, payer_type) AS payer, kind, sum(points)::text AS points, sum(value_minor)::text AS value FROM obligation
     WHERE payee_id = $1 GROUP BY 1, 2 ORDER BY 2`, [causeId]);
  expect(rows).toEqual([{ payer: 'OPERATOR', kind: 'DONATION', points: '45', value: '45' }, { payer: beta.id, kind: 'MATCH', points: '45', value: '45' }]);
});

it('across a switch, each posting follows the model in force when it was posted', async () => {
  await configure('BILATERAL');
  const eve = await sharedMember();
  const bilateral = await purchase(hub, alpha, eve, '100.00');
  expect(await obligationsOf(bilateral.transaction.id)).toEqual([]);
  const spentBilateral = await redeem(hub, beta, eve, 40);
  expect(await obligationsOf(spentBilateral.transaction.id)).toEqual([{ kind: 'REDEMPTION', payer: alpha.id, payee: beta.id, points: 40, rate: '0.008' }]);
  await configure('CLEARING');
  const spentClearing = await redeem(hub, beta, eve, 40);
  expect(await obligationsOf(spentClearing.transaction.id)).toEqual([{ kind: 'REDEMPTION', payer: 'OPERATOR', payee: beta.id, points: 40, rate: '0.008' }]);
  // The BILATERAL purchase paid no issuance: its refund returns none, and takes back without DEBT_RECOVERY.
  const refund = await reverse(hub, alpha.token, bilateral.transaction.id);
  expect(refund.member).toEqual({ id: eve.id, balance: -80, debt: 80 });
  expect(await obligationsOf(refund.transaction.id)).toEqual([]);
  // Back to BILATERAL: the operator-owed debt is recovered from the next lot (gamma → operator, at gamma's value).
  await configure('BILATERAL');
  const repay = await purchase(hub, gamma, eve, '10.00');
  expect(await obligationsOf(repay.transaction.id)).toEqual([{ kind: 'DEBT_RECOVERY', payer: gamma.id, payee: 'OPERATOR', points: 10, rate: '0.0125' }]);
});

it('refuses bad terms with clear errors and writes nothing', async () => {
  const before = await ledgerRowCounts(hub);
  const bad = async (input: Record<string, unknown>, token = hub.admin) => (await hub.gql(TERMS, { input }, token));
  expect((await bad({ partnerId: alpha.id })).data.updatePartnerTerms.userErrors).toEqual([
    { code: 'INVALID_INPUT', message: 'Give redemptionValuePerPoint, issuancePricePerPoint or both', field: ['input'] }]);
  expect((await bad({ partnerId: alpha.id, issuancePricePerPoint: '-0.01' })).data.updatePartnerTerms.userErrors)
    .toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'issuancePricePerPoint'] })]);
  expect((await bad({ partnerId: alpha.id, issuancePricePerPoint: '0.0000001', redemptionValuePerPoint: '1000.01' })).data.updatePartnerTerms.userErrors.map((e: any) => e.field))
    .toEqual([['input', 'redemptionValuePerPoint'], ['input', 'issuancePricePerPoint']]);
  expect((await bad({ partnerId: '00000000-0000-7000-8000-000000000000', issuancePricePerPoint: '0.01' })).data.updatePartnerTerms.userErrors)
    .toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'partnerId'] })]);
  const asPartner = await bad({ partnerId: alpha.id, issuancePricePerPoint: '0' }, alpha.token);
  expect(asPartner.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const created = await hub.gql(`mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code field } } }`,
    { input: { code: unique('x'), name: 'Bad price', redemptionValuePerPoint: '0.01', issuancePricePerPoint: '1000.5', earnRule: { pointsPerUnit: '1' } } }, hub.admin);
  expect(created.data.createPartner).toEqual({ partner: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'issuancePricePerPoint'] }] });
  const model = await hub.gql(CONFIGURE, { input: { name: 'x', currency: 'EUR', donationValuePerPoint: '0.01', settlementModel: 'NETTING' } }, hub.admin);
  expect(model.errors?.[0]?.message).toMatch(/SettlementModel/);
  expect(await ledgerRowCounts(hub)).toEqual(before);
  const terms = await hub.gql('query($id: ID!) { partner(id: $id) { redemptionValuePerPoint issuancePricePerPoint } }', { id: alpha.id }, hub.admin);
  expect(terms.data.partner).toEqual({ redemptionValuePerPoint: '0.01', issuancePricePerPoint: '0.012' });
  const economics = await hub.gql(ECONOMICS, { s: new Date(), e: new Date(Date.now() - 1000) }, hub.admin);
  expect(economics.errors?.[0]?.message).toMatch(/periodEnd must be after periodStart/);
  const asMember = await hub.gql(ECONOMICS, { s: new Date(Date.now() - 1000), e: new Date() }, hub.token({ role: Role.PARTNER, partnerId: alpha.id }));
  expect(asMember.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
});

it('audits the model change and the new terms', async () => {
  await configure('CLEARING');
  const res = await hub.gql(`{ auditLog(first: 50) { edges { node { action subjectId input } } } }`, {}, hub.admin);
  const entries = res.data.auditLog.edges.map((e: any) => e.node);
  expect(entries.some((e: any) => e.action === 'coalition.configured' && JSON.parse(e.input).settlementModel === 'CLEARING')).toBe(true);
  expect(entries.some((e: any) => e.action === 'partner.termsUpdated' && e.subjectId === alpha.id && JSON.parse(e.input).issuancePricePerPoint === '0.012')).toBe(true);
});

it('a reward claim in CLEARING is paid by the operator to the reward\'s partner, whoever issued the points; its void reverses it; an operator reward owes nothing', async () => {
  await configure('CLEARING');
  const CLAIM = `mutation($input: ClaimRewardInput!) { claimReward(input: $input) { voucher { code } transaction { id points } member { balance } userErrors { code } } }`;
  const VOID = `mutation($input: VoidVoucherInput!) { voidVoucher(input: $input) { transaction { id } member { balance } userErrors { code } } }`;
  const createReward = async (token: string, input: Record<string, unknown>) => {
    const res = await hub.gql(`mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code } } }`,
      { input: { name: unique('Reward '), ...input } }, token);
    expect(res.data.createReward.userErrors).toEqual([]);
    return res.data.createReward.reward.id as string;
  };
  const cinema = await createReward(hub.admin, { partnerId: gamma.id, pointsPrice: 120, value: '1.80' }); // 0.015 a point, paid to gamma (priced by the operator)
  const mug = await createReward(hub.admin, { pointsPrice: 30, value: '0.45' }); // an operator reward
  const fay = await sharedMember();
  expect((await purchase(hub, alpha, fay, '100.00')).transaction.points).toBe(100); // alpha buys 100 at 0.012
  expect((await purchase(hub, gamma, fay, '50.00')).transaction.points).toBe(50); // gamma buys 50 at 0.015
  const claim = async (rewardId: string) => (await hub.gql(CLAIM, { input: { idempotencyKey: unique('k'), rewardId } }, fay.token)).data.claimReward;
  const ticket = await claim(cinema);
  expect(ticket.userErrors).toEqual([]);
  expect(ticket.member.balance).toBe(30);
  // Operator → gamma for all 120 points (one obligation per lot consumed: 100 alpha, 20 gamma) — gamma's own points
  // included, since the operator sold them to gamma.
  const total = (rows: { points: number }[]) => rows.reduce((sum, o) => sum + o.points, 0);
  const claimed = await obligationsOf(ticket.transaction.id);
  expect(claimed.every((o) => o.kind === 'REWARD' && o.payer === 'OPERATOR' && o.payee === gamma.id && o.rate === '0.015')).toBe(true);
  expect(total(claimed)).toBe(120);
  const gift = await claim(mug);
  expect(gift.userErrors).toEqual([]);
  expect(await obligationsOf(gift.transaction.id)).toEqual([]);
  // Voiding the ticket returns the points and the obligation, in the period it is posted.
  const voided = (await hub.gql(VOID, { input: { idempotencyKey: unique('k'), code: ticket.voucher.code } }, fay.token)).data.voidVoucher;
  expect(voided.userErrors).toEqual([]);
  expect(voided.member.balance).toBe(120);
  const returned = await obligationsOf(voided.transaction.id);
  expect(returned.every((o) => o.kind === 'REWARD' && o.payer === 'OPERATOR' && o.payee === gamma.id && o.rate === '0.015')).toBe(true);
  expect(total(returned)).toBe(-120);
});

it('breakage in CLEARING: expired points are the operator\'s, valued at the issuance price they were bought at', async () => {
  await configure('CLEARING');
  const periodStart = new Date();
  await pause();
  const gus = await sharedMember();
  const earned = await purchase(hub, gamma, gus, '80.00'); // gamma buys 80 at 0.015: 1.20
  expect(earned.transaction.points).toBe(80);
  await redeem(hub, beta, gus, 30); // operator → beta 30 × 0.008 = 0.24
  // The 50 points left pass their expiry; the expiry job moves them to breakage.
  const transactionId = decodeTransactionId(earned.transaction.id)!.transactionId;
  await hub.db.query(`UPDATE lot SET expires_at = now() - interval '1 minute' WHERE member_id = $1 AND transaction_id = $2`, [gus.id, transactionId]);
  const expired = await hub.gql('mutation { runExpiry(input: {}) { expiredPoints userErrors { code } } }', {}, hub.admin);
  expect(expired.data.runExpiry).toMatchObject({ userErrors: [] });
  expect(expired.data.runExpiry.expiredPoints).toBeGreaterThanOrEqual(50);
  await pause();
  const periodEnd = new Date();
  const economics = (await hub.gql(ECONOMICS, { s: periodStart, e: periodEnd }, hub.admin)).data.operatorEconomics;
  // Issuance 1.20, redemption 0.24, breakage 50 points bought at 0.015 = 0.75 (already in the issuance revenue: margin 0.96).
  expect(economics).toMatchObject({ issuanceRevenue: { amount: '1.20' }, redemptionCost: { amount: '0.24' }, breakagePoints: 50,
    breakageValue: { amount: '0.75' }, margin: { amount: '0.96' } });
});

it('leaves the ledger check clean', async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});
