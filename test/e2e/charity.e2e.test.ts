import { TestHub, post, startTestHub } from '../support/hub';
import {
  TestMember, TestPartner, balanceOf, bonus, createPartner, enroll, ledgerCheck, ledgerRowCounts, purchase, redeem, reverse, unique,
} from '../support/scenario';

/**
 * Charity through GraphQL (docs/rules.md, Charity; The ledger: lots; Redemption and cross-redemption
 * settlement): causes and their public progress, donations with receipts that consume lots in the
 * usual order and oblige each lot's issuer to the cause, automatic donations from the lot just
 * created, partners' matching campaigns and their caps (also under concurrency), and the DONATION
 * and MATCH lines settlement pays causes.
 */
let hub: TestHub;
let grocer: TestPartner; // 1 point per unit, lots valid 365 days (the default)
let monthly: TestPartner; // 1 point per unit, lots valid 30 days
let sponsor: TestPartner; // runs matching campaigns

const RCPT = /^RCPT-[0-9A-HJKMNP-TV-Z]{26}$/; // "RCPT-" and 26 Crockford base32 characters
const CAUSE_FIELDS = 'id name description goalPoints active donatedPoints matchedPoints donors progress raised { amount currency }';
const DONATION_FIELDS = 'id points value { amount currency } cause { id name } matchedPoints receiptNumber automatic createdAt';
const USER_ERRORS = 'userErrors { code message field }';
const DONATE = `mutation($input: DonatePointsInput!) { donatePoints(input: $input) { donation { ${DONATION_FIELDS} } member { id balance } ${USER_ERRORS} } }`;
const SET_AUTO = `mutation($input: SetAutoDonationInput!) { setAutoDonation(input: $input) { member { id autoDonation { percent cause { id name } } } ${USER_ERRORS} } }`;
const CAMPAIGN_FIELDS = 'id partnerId causeId ratio capPoints matchedPoints remainingPoints startsAt endsAt';
const CREATE_CAMPAIGN = `mutation($input: CreateMatchingCampaignInput!) { createMatchingCampaign(input: $input) { campaign { ${CAMPAIGN_FIELDS} } ${USER_ERRORS} } }`;
const CLOSE = `mutation($input: CloseSettlementPeriodInput!) { closeSettlementPeriod(input: $input) {
  run { id lines { payer { type id name } payee { type id name } kind points amount { amount currency } }
        positions { party { type id name } amount { amount } } transfers { from { type id } to { type id name } amount { amount } } }
  ${USER_ERRORS} } }`;
const ME_DONATIONS = `{ me { balance donations { totalCount edges { node { ${DONATION_FIELDS} } } } } }`;

const pause = () => new Promise((r) => setTimeout(r, 5));
const HOUR = 3_600_000;
const UNKNOWN_ID = '01890000-0000-7000-8000-000000000000';

beforeAll(async () => {
  hub = await startTestHub({ poolSize: 20 });
  grocer = await createPartner(hub, { pointsPerUnit: '1' });
  monthly = await createPartner(hub, { pointsPerUnit: '1', pointsValidityDays: 30 });
  sponsor = await createPartner(hub, { pointsPerUnit: '1' });
});
afterAll(() => hub.close());

afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

/** A member linked to each of the partners (grocer when none is named). */
async function member(...partners: TestPartner[]): Promise<TestMember> {
  const email = `${unique('donor')}@example.com`;
  const [first, ...others] = partners.length ? partners : [grocer];
  const m = await enroll(hub, first!, { email });
  for (const p of others) await enroll(hub, p, { email });
  return m;
}

/** A member holding `points` grocer points. */
async function memberWith(points: number): Promise<TestMember> {
  const m = await member();
  expect((await purchase(hub, grocer, m, `${points}.00`)).member.balance).toBe(points);
  return m;
}

async function createCause(input: Record<string, unknown> = {}) {
  const res = await hub.gql(`mutation($input: CreateCauseInput!) { createCause(input: $input) { cause { ${CAUSE_FIELDS} } ${USER_ERRORS} } }`,
    { input: { name: unique('Cause '), ...input } }, hub.admin);
  const cause = res.data?.createCause?.cause;
  if (!cause) throw new Error(`createCause failed: ${JSON.stringify(res)}`);
  return cause as { id: string; name: string };
}

async function setCauseActive(causeId: string, active: boolean) {
  const res = await hub.gql(`mutation($input: SetCauseActiveInput!) { setCauseActive(input: $input) { cause { id active } ${USER_ERRORS} } }`,
    { input: { causeId, active } }, hub.admin);
  return res.data.setCauseActive;
}

/** A cause as anyone reads it from the public `causes` list. */
async function publicCause(causeId: string, token?: string) {
  const res = await hub.gql(`{ causes { ${CAUSE_FIELDS} } }`, {}, token);
  expect(res.errors).toBeUndefined();
  return res.data.causes.find((c: { id: string }) => c.id === causeId);
}

async function donate(m: TestMember, causeId: string, points: number, idempotencyKey = unique('d')) {
  const res = await hub.gql(DONATE, { input: { idempotencyKey, causeId, points } }, m.token);
  expect(res.errors).toBeUndefined();
  return res.data.donatePoints;
}

async function setAutoDonation(m: TestMember, input: Record<string, unknown>) {
  const res = await hub.gql(SET_AUTO, { input }, m.token);
  expect(res.errors).toBeUndefined();
  return res.data.setAutoDonation;
}

async function autoDonationOf(m: TestMember) {
  return (await hub.gql('{ me { autoDonation { percent cause { id } } } }', {}, m.token)).data.me.autoDonation;
}

async function createCampaign(partner: TestPartner, causeId: string, ratio: string, capPoints: number,
  startsAt = new Date(Date.now() - HOUR), endsAt = new Date(Date.now() + HOUR)) {
  const res = await hub.gql(CREATE_CAMPAIGN, { input: { partnerId: partner.id, causeId, ratio, capPoints, startsAt, endsAt } }, hub.admin);
  const campaign = res.data?.createMatchingCampaign?.campaign;
  if (!campaign) throw new Error(`createMatchingCampaign failed: ${JSON.stringify(res)}`);
  return campaign as { id: string };
}

async function campaign(causeId: string, id: string) {
  const res = await hub.gql(`query($causeId: ID!) { matchingCampaigns(causeId: $causeId) { ${CAMPAIGN_FIELDS} } }`, { causeId }, hub.admin);
  expect(res.errors).toBeUndefined();
  return res.data.matchingCampaigns.find((c: { id: string }) => c.id === id);
}

async function lots(m: TestMember) {
  return hub.db.query(`SELECT issuer_type, issuer_id, points, remaining FROM lot WHERE member_id = $1 ORDER BY created_at, id`, [m.id]);
}

async function obligations(m: TestMember, kind?: string) {
  return hub.db.query(`SELECT kind, payer_type, payer_id, payee_type, payee_id, points, rate::text FROM obligation
    WHERE member_id = $1 AND ($2::text IS NULL OR kind = $2) ORDER BY posted_at, id`, [m.id, kind ?? null]);
}

async function obligationsToCause(causeId: string, kind: string) {
  return hub.db.query(`SELECT payer_type, payer_id, points FROM obligation WHERE payee_type = 'CAUSE' AND payee_id = $1 AND kind = $2 ORDER BY posted_at, id`,
    [causeId, kind]);
}

/** Everything a refused write must leave as it was. */
async function snapshot(m: TestMember) {
  const [charity] = await hub.db.query(`SELECT (SELECT count(*)::int FROM donation) AS donations,
    (SELECT COALESCE(sum(matched_points), 0)::int FROM matching_campaign) AS matched`);
  const [me] = await hub.db.query('SELECT balance::int, debt::int, auto_donation_percent, auto_donation_cause_id FROM member WHERE id = $1', [m.id]);
  return { ...(await ledgerRowCounts(hub)), ...charity, ...me };
}

describe('causes', () => {
  it('the operator creates a cause; anyone reads its progress, with or without a token', async () => {
    const created = await createCause({ name: '  Food bank  ', description: 'Meals for families', goalPoints: 3000 });
    expect(created).toMatchObject({ name: 'Food bank', description: 'Meals for families', goalPoints: 3000, active: true,
      donatedPoints: 0, matchedPoints: 0, donors: 0, progress: '0', raised: { amount: '0.00', currency: 'EUR' } });
    const someone = await member();
    expect(await publicCause(created.id)).toEqual(created);
    expect(await publicCause(created.id, someone.token)).toEqual(created);

    const noGoal = await createCause({ goalPoints: null });
    expect(noGoal).toMatchObject({ goalPoints: null, progress: null, description: null });
  });

  it.each([
    ['a goal of 0 points', { goalPoints: 0 }, ['input', 'goalPoints']],
    ['a negative goal', { goalPoints: -100 }, ['input', 'goalPoints']],
    ['a blank name', { name: '   ' }, ['input', 'name']],
  ])('refuses %s with INVALID_INPUT and creates nothing', async (_, input, field) => {
    const before = (await hub.db.query('SELECT count(*)::int AS n FROM cause'))[0].n;
    const res = await hub.gql(`mutation($input: CreateCauseInput!) { createCause(input: $input) { cause { id } ${USER_ERRORS} } }`,
      { input: { name: unique('Cause '), ...input } }, hub.admin);
    expect(res.data.createCause).toMatchObject({ cause: null, userErrors: [{ code: 'INVALID_INPUT', field }] });
    expect((await hub.db.query('SELECT count(*)::int AS n FROM cause'))[0].n).toBe(before);
  });

  it('only the operator creates causes, turns them off and on, and runs matching campaigns', async () => {
    const cause = await createCause();
    const someone = await member();
    const mutations: [string, string, Record<string, unknown>][] = [
      ['createCause', `mutation($input: CreateCauseInput!) { createCause(input: $input) { cause { id } } }`, { name: 'Not allowed' }],
      ['setCauseActive', `mutation($input: SetCauseActiveInput!) { setCauseActive(input: $input) { cause { id } } }`, { causeId: cause.id, active: false }],
      ['createMatchingCampaign', `mutation($input: CreateMatchingCampaignInput!) { createMatchingCampaign(input: $input) { campaign { id } } }`,
        { partnerId: sponsor.id, causeId: cause.id, ratio: '1', capPoints: 10, startsAt: new Date(), endsAt: new Date(Date.now() + HOUR) }],
    ];
    for (const [name, query, input] of mutations) {
      for (const token of [grocer.token, someone.token]) {
        const res = await hub.gql(query, { input }, token);
        expect({ name, code: res.errors?.[0]?.extensions?.code }).toEqual({ name, code: 'FORBIDDEN' });
      }
      const anonymous = await hub.gql(query, { input });
      expect({ name, code: anonymous.errors?.[0]?.extensions?.code }).toEqual({ name, code: 'UNAUTHENTICATED' });
    }
    expect(await publicCause(cause.id)).toMatchObject({ active: true });
    expect(await hub.db.query('SELECT 1 FROM matching_campaign WHERE cause_id = $1', [cause.id])).toEqual([]);
  });

  it('setCauseActive turns a cause off and on again; an unknown cause is NOT_FOUND', async () => {
    const cause = await createCause();
    expect(await setCauseActive(cause.id, false)).toEqual({ cause: { id: cause.id, active: false }, userErrors: [] });
    expect(await publicCause(cause.id)).toMatchObject({ active: false });
    expect(await setCauseActive(cause.id, true)).toEqual({ cause: { id: cause.id, active: true }, userErrors: [] });
    expect(await publicCause(cause.id)).toMatchObject({ active: true });
    for (const causeId of [UNKNOWN_ID, 'not-an-id']) {
      expect(await setCauseActive(causeId, false)).toMatchObject({ cause: null, userErrors: [{ code: 'NOT_FOUND', field: ['input', 'causeId'] }] });
    }
  });

  it('shows public progress: points donated, points matched apart, donors, share of the goal (4 decimals, rounded down) and money raised', async () => {
    const cause = await createCause({ goalPoints: 3000 });
    const ann = await memberWith(1000);
    const bob = await memberWith(1000);
    await donate(ann, cause.id, 600);
    await donate(bob, cause.id, 300);
    await donate(bob, cause.id, 100); // the same donor again
    expect(await publicCause(cause.id)).toMatchObject({ donatedPoints: 1000, matchedPoints: 0, donors: 2, progress: '0.3333',
      raised: { amount: '10.00', currency: 'EUR' } });

    await createCampaign(sponsor, cause.id, '1', 2500);
    await donate(ann, cause.id, 400); // matched 400: (1400 + 400) / 3000
    expect(await publicCause(cause.id)).toMatchObject({ donatedPoints: 1400, matchedPoints: 400, donors: 2, progress: '0.6',
      raised: { amount: '18.00', currency: 'EUR' } });
    await donate(bob, cause.id, 600); // matched 600: past the goal
    expect(await publicCause(cause.id)).toMatchObject({ donatedPoints: 2000, matchedPoints: 1000, progress: '1', raised: { amount: '30.00' } });
  });

  it('says nothing about individual donors: every field of a cause is a figure, never a member or a donation', async () => {
    const res = await hub.gql(`{ __type(name: "Cause") { fields { name type { kind name ofType { kind name ofType { name } } } } } }`);
    const leaf = (t: { kind: string; name: string | null; ofType?: any }): string => (t.name ?? leaf(t.ofType));
    const types = Object.fromEntries(res.data.__type.fields.map((f: { name: string; type: any }) => [f.name, leaf(f.type)]));
    for (const type of Object.values(types)) expect(['ID', 'String', 'Int', 'Boolean', 'BigInt', 'Decimal', 'Money']).toContain(type);
    expect(Object.keys(types)).toEqual(expect.arrayContaining(['id', 'name', 'description', 'goalPoints', 'active', 'donatedPoints', 'matchedPoints', 'donors', 'progress', 'raised']));
  });
});

describe('donating points', () => {
  it('gives a receipt: points, money value at donationValuePerPoint, cause, matched points and a unique RCPT- number', async () => {
    const cause = await createCause();
    const ann = await memberWith(500);
    const first = await donate(ann, cause.id, 123);
    expect(first.userErrors).toEqual([]);
    expect(first.donation).toMatchObject({ points: 123, value: { amount: '1.23', currency: 'EUR' }, cause: { id: cause.id, name: cause.name },
      matchedPoints: 0, automatic: false });
    expect(first.donation.receiptNumber).toMatch(RCPT);
    expect(first.member).toEqual({ id: ann.id, balance: 377 });
    const second = await donate(ann, cause.id, 77);
    expect(second.donation.receiptNumber).toMatch(RCPT);
    expect(second.donation.receiptNumber).not.toBe(first.donation.receiptNumber);

    const me = (await hub.gql(ME_DONATIONS, {}, ann.token)).data.me;
    expect(me.balance).toBe(300);
    expect(me.donations.totalCount).toBe(2);
    expect(me.donations.edges.map((e: { node: unknown }) => e.node)).toEqual([second.donation, first.donation]); // newest first
    const receipts = await hub.db.query('SELECT receipt_number FROM donation');
    expect(new Set(receipts.map((r: { receipt_number: string }) => r.receipt_number)).size).toBe(receipts.length);

    const PAGE = `query($after: String) { me { donations(first: 1, after: $after) { totalCount edges { node { receiptNumber } } pageInfo { hasNextPage endCursor } } } }`;
    const page1 = (await hub.gql(PAGE, {}, ann.token)).data.me.donations;
    expect(page1).toMatchObject({ totalCount: 2, edges: [{ node: { receiptNumber: second.donation.receiptNumber } }], pageInfo: { hasNextPage: true } });
    const page2 = (await hub.gql(PAGE, { after: page1.pageInfo.endCursor }, ann.token)).data.me.donations;
    expect(page2).toMatchObject({ edges: [{ node: { receiptNumber: first.donation.receiptNumber } }], pageInfo: { hasNextPage: false } });
  });

  it('consumes lots earliest expiry first, then oldest, across issuers; each consumed lot obliges its issuer to the cause', async () => {
    const cause = await createCause();
    const ann = await member(grocer, monthly);
    await purchase(hub, grocer, ann, '100.00'); // lot 1: grocer, 365 days, the oldest
    await bonus(hub, hub.admin, ann, 50); // lot 2: the operator, 365 days, newer
    await purchase(hub, monthly, ann, '40.00'); // lot 3: monthly, 30 days, newest but expires first
    const result = await donate(ann, cause.id, 160);
    expect(result.userErrors).toEqual([]);
    expect(result.donation).toMatchObject({ points: 160, value: { amount: '1.60', currency: 'EUR' } });
    expect(result.member.balance).toBe(30);
    expect(await lots(ann)).toEqual([
      { issuer_type: 'PARTNER', issuer_id: grocer.id, points: 100, remaining: 0 },
      { issuer_type: 'OPERATOR', issuer_id: null, points: 50, remaining: 30 },
      { issuer_type: 'PARTNER', issuer_id: monthly.id, points: 40, remaining: 0 },
    ]);
    expect(await obligations(ann)).toEqual(expect.arrayContaining([
      { kind: 'DONATION', payer_type: 'PARTNER', payer_id: monthly.id, payee_type: 'CAUSE', payee_id: cause.id, points: 40, rate: '0.010000' },
      { kind: 'DONATION', payer_type: 'PARTNER', payer_id: grocer.id, payee_type: 'CAUSE', payee_id: cause.id, points: 100, rate: '0.010000' },
      { kind: 'DONATION', payer_type: 'OPERATOR', payer_id: null, payee_type: 'CAUSE', payee_id: cause.id, points: 20, rate: '0.010000' },
    ]));
    expect(await obligations(ann)).toHaveLength(3);
    // The ledger: the member gives 160 points, the cause's account takes them.
    const entries = await hub.db.query(`SELECT e.account_type, e.account_id, e.points::int FROM ledger_entry e JOIN ledger_transaction t
      ON t.member_id = e.member_id AND t.id = e.transaction_id WHERE t.member_id = $1 AND t.type = 'DONATION' ORDER BY e.seq`, [ann.id]);
    expect(entries).toEqual([
      { account_type: 'MEMBER', account_id: ann.id, points: -160 },
      { account_type: 'CAUSE', account_id: cause.id, points: 160 },
    ]);
  });

  it('is idempotent by key: the same key gives the same donation and receipt, and takes the points once', async () => {
    const cause = await createCause();
    const ann = await memberWith(100);
    const key = unique('same');
    const first = await donate(ann, cause.id, 30, key);
    const again = await donate(ann, cause.id, 30, key);
    expect(again).toEqual(first);
    expect(again.member.balance).toBe(70);

    // However concurrently it is sent: 50 of the 70 left, so a second posting could not even be paid.
    const raced = unique('raced');
    const responses = await Promise.all(Array.from({ length: 6 }, () => post(hub.url, { query: DONATE, variables: { input: { idempotencyKey: raced, causeId: cause.id, points: 50 } } }, ann.token)));
    const donations = responses.map((r) => r.data?.donatePoints?.donation);
    expect(responses.map((r) => r.data?.donatePoints?.userErrors)).toEqual(responses.map(() => []));
    expect(new Set(donations.map((d) => d.receiptNumber)).size).toBe(1);
    expect(donations.every((d) => d.id === donations[0].id && d.points === 50)).toBe(true);

    const me = (await hub.gql(ME_DONATIONS, {}, ann.token)).data.me;
    expect(me.balance).toBe(20);
    expect(me.donations.totalCount).toBe(2);
    expect(await publicCause(cause.id)).toMatchObject({ donatedPoints: 80, donors: 1 });
  });

  it.each([
    ['other points', { points: 31 }],
    ['another cause', { causeId: 'other' }],
  ])('refuses the same key with %s as IDEMPOTENCY_KEY_REUSED, writing nothing', async (_, change: { points?: number; causeId?: string }) => {
    const cause = await createCause();
    const other = await createCause();
    const ann = await memberWith(100);
    const key = unique('reuse');
    expect((await donate(ann, cause.id, 30, key)).userErrors).toEqual([]);
    const before = await snapshot(ann);
    const input = { idempotencyKey: key, causeId: change.causeId ? other.id : cause.id, points: change.points ?? 30 };
    const res = await hub.gql(DONATE, { input }, ann.token);
    expect(res.data.donatePoints).toMatchObject({ donation: null, member: null, userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED' }] });
    expect(await snapshot(ann)).toEqual(before);
  });

  it.each([
    ['more points than the member has', 'INSUFFICIENT_POINTS', { points: 101 }, ['input', 'points']],
    ['0 points', 'INVALID_INPUT', { points: 0 }, ['input', 'points']],
    ['negative points', 'INVALID_INPUT', { points: -5 }, ['input', 'points']],
    ['an inactive cause', 'INVALID_INPUT', { cause: 'inactive' }, ['input', 'causeId']],
    ['an unknown cause', 'NOT_FOUND', { cause: UNKNOWN_ID }, ['input', 'causeId']],
    ['a malformed cause id', 'NOT_FOUND', { cause: 'not-an-id' }, ['input', 'causeId']],
  ])('refuses a donation of %s with %s and writes nothing', async (_, code, change: { points?: number; cause?: string }, field) => {
    const cause = await createCause();
    if (change.cause === 'inactive') await setCauseActive(cause.id, false);
    const ann = await memberWith(100);
    await createCampaign(sponsor, cause.id, '1', 1000);
    const before = await snapshot(ann);
    const causeId = change.cause && change.cause !== 'inactive' ? change.cause : cause.id;
    const res = await hub.gql(DONATE, { input: { idempotencyKey: unique('bad'), causeId, points: change.points ?? 10 } }, ann.token);
    expect(res.data.donatePoints).toMatchObject({ donation: null, member: null, userErrors: [{ code, field }] });
    expect(await snapshot(ann)).toEqual(before);
    expect(await publicCause(cause.id)).toMatchObject({ donatedPoints: 0, matchedPoints: 0, donors: 0 });
  });

  it('refuses a member in debt with MEMBER_IN_DEBT and writes nothing', async () => {
    const cause = await createCause();
    const ann = await member();
    const earned = await purchase(hub, grocer, ann, '100.00');
    await redeem(hub, grocer, ann, 90);
    const refund = await reverse(hub, grocer.token, earned.transaction.id); // takes back 100: 10 left in the lot, 90 become debt
    expect(refund.member).toMatchObject({ balance: -90, debt: 90 });
    const before = await snapshot(ann);
    const res = await hub.gql(DONATE, { input: { idempotencyKey: unique('debt'), causeId: cause.id, points: 1 } }, ann.token);
    expect(res.data.donatePoints).toMatchObject({ donation: null, userErrors: [{ code: 'MEMBER_IN_DEBT' }] });
    expect(await snapshot(ann)).toEqual(before);
  });

  it('is for members only: a partner or the operator is FORBIDDEN, no token is UNAUTHENTICATED', async () => {
    const cause = await createCause();
    const ann = await memberWith(100);
    const before = await snapshot(ann);
    const input = { idempotencyKey: unique('role'), causeId: cause.id, points: 10 };
    for (const token of [grocer.token, hub.admin]) {
      expect((await hub.gql(DONATE, { input }, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await hub.gql(DONATE, { input })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await snapshot(ann)).toEqual(before);
  });

  it('is final: the operator cannot reverse a donation (INVALID_INPUT), and the partner that issued the points cannot either', async () => {
    const cause = await createCause();
    const ann = await memberWith(100);
    await donate(ann, cause.id, 40);
    const txs = (await hub.gql('{ me { transactions { edges { node { id type points } } } } }', {}, ann.token)).data.me.transactions.edges;
    const donation = txs.map((e: { node: { id: string; type: string; points: number } }) => e.node).find((t: { type: string }) => t.type === 'DONATION');
    expect(donation).toMatchObject({ points: -40 });
    const before = await snapshot(ann);
    const byOperator = await reverse(hub, hub.admin, donation.id);
    expect(byOperator).toMatchObject({ transaction: null, userErrors: [{ code: 'INVALID_INPUT' }] });
    expect(byOperator.userErrors[0].message).toMatch(/final/);
    const byPartner = await reverse(hub, grocer.token, donation.id);
    expect(byPartner.transaction).toBeNull();
    expect(byPartner.userErrors).toHaveLength(1);
    expect(await snapshot(ann)).toEqual(before);
    expect(await balanceOf(hub, ann)).toBe(60);
  });
});

describe('automatic donation', () => {
  it.each([
    [10, '257.00', 257, 25],
    [1, '257.00', 257, 2],
    [33, '9.00', 9, 2],
    [100, '80.00', 80, 80],
    [10, '9.00', 9, 0], // floor(0.9): nothing to donate
  ])('at %i %% a purchase of %s (%i points) donates %i points, rounded down, from the lot just created', async (percent, amount, earned, donated) => {
    const cause = await createCause();
    const ann = await member(grocer, monthly);
    await purchase(hub, monthly, ann, '50.00'); // an earlier lot that expires first: a plain donation would take it first
    expect(await setAutoDonation(ann, { causeId: cause.id, percent })).toMatchObject({ member: { autoDonation: { percent, cause: { id: cause.id } } }, userErrors: [] });
    expect(await autoDonationOf(ann)).toEqual({ percent, cause: { id: cause.id } });

    const result = await purchase(hub, grocer, ann, amount);
    expect(result.userErrors).toEqual([]);
    expect(result.transaction).toMatchObject({ type: 'PURCHASE', points: earned });
    expect(result.member.balance).toBe(50 + earned - donated);
    expect(await lots(ann)).toEqual([
      { issuer_type: 'PARTNER', issuer_id: monthly.id, points: 50, remaining: 50 }, // untouched
      { issuer_type: 'PARTNER', issuer_id: grocer.id, points: earned, remaining: earned - donated },
    ]);
    const me = (await hub.gql(ME_DONATIONS, {}, ann.token)).data.me;
    expect(me.balance).toBe(50 + earned - donated);
    if (donated === 0) {
      expect(me.donations.totalCount).toBe(0);
      expect(await obligations(ann, 'DONATION')).toEqual([]);
      return;
    }
    expect(me.donations.totalCount).toBe(1);
    const receipt = me.donations.edges[0].node;
    expect(receipt).toMatchObject({ points: donated, automatic: true, cause: { id: cause.id, name: cause.name }, matchedPoints: 0 });
    expect(receipt.receiptNumber).toMatch(RCPT);
    expect(await obligations(ann, 'DONATION')).toEqual([
      { kind: 'DONATION', payer_type: 'PARTNER', payer_id: grocer.id, payee_type: 'CAUSE', payee_id: cause.id, points: donated, rate: '0.010000' },
    ]);
    // Its own DONATION transaction, apart from the purchase.
    const txs = (await hub.gql('{ me { transactions { edges { node { type points } } } } }', {}, ann.token)).data.me.transactions.edges.map((e: { node: unknown }) => e.node);
    expect(txs).toEqual(expect.arrayContaining([{ type: 'PURCHASE', points: earned }, { type: 'DONATION', points: -donated }]));
    expect(await publicCause(cause.id)).toMatchObject({ donatedPoints: donated, donors: 1 });
  });

  it('donates once per purchase: a replayed purchase donates nothing more; each purchase of a batch donates its own share', async () => {
    const cause = await createCause();
    const ann = await member();
    await setAutoDonation(ann, { causeId: cause.id, percent: 10 });
    const PURCHASE = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { member { balance } ${USER_ERRORS} } }`;
    const input = { idempotencyKey: unique('once'), memberId: ann.id, amount: '100.00' };
    expect((await hub.gql(PURCHASE, { input }, grocer.token)).data.recordPurchase).toEqual({ member: { balance: 90 }, userErrors: [] });
    expect((await hub.gql(PURCHASE, { input }, grocer.token)).data.recordPurchase).toEqual({ member: { balance: 90 }, userErrors: [] });

    const batch = await hub.gql(`mutation($inputs: [RecordPurchaseInput!]!) { recordPurchases(inputs: $inputs) { member { balance } ${USER_ERRORS} } }`,
      { inputs: [{ idempotencyKey: unique('b'), memberId: ann.id, amount: '50.00' }, { idempotencyKey: unique('b'), memberId: ann.id, amount: '30.00' }] }, grocer.token);
    expect(batch.data.recordPurchases.map((r: { userErrors: unknown[] }) => r.userErrors)).toEqual([[], []]);
    const me = (await hub.gql(ME_DONATIONS, {}, ann.token)).data.me;
    expect(me.balance).toBe(90 + 45 + 27);
    expect(me.donations.edges.map((e: { node: { points: number; automatic: boolean } }) => [e.node.points, e.node.automatic]).sort())
      .toEqual([[10, true], [3, true], [5, true]].sort());
    // A batch's lots share their creation time: compare them as a set.
    const held = (await lots(ann)).map((l: { points: number; remaining: number }) => [l.points, l.remaining]);
    expect(held.sort()).toEqual([[100, 90], [30, 27], [50, 45]].sort());
  });

  it('percent 0 turns it off (no cause needed); later purchases donate nothing', async () => {
    const cause = await createCause();
    const ann = await member();
    await setAutoDonation(ann, { causeId: cause.id, percent: 20 });
    expect((await purchase(hub, grocer, ann, '100.00')).member.balance).toBe(80);
    expect(await setAutoDonation(ann, { percent: 0 })).toMatchObject({ member: { autoDonation: { percent: 0, cause: null } }, userErrors: [] });
    expect(await autoDonationOf(ann)).toEqual({ percent: 0, cause: null });
    expect((await purchase(hub, grocer, ann, '100.00')).member.balance).toBe(180);
    expect((await hub.gql(ME_DONATIONS, {}, ann.token)).data.me.donations.totalCount).toBe(1);
  });

  it('an automatic donation to a cause turned off since is not made', async () => {
    const cause = await createCause();
    const ann = await member();
    await setAutoDonation(ann, { causeId: cause.id, percent: 50 });
    await setCauseActive(cause.id, false);
    expect((await purchase(hub, grocer, ann, '100.00')).member.balance).toBe(100);
    expect((await hub.gql(ME_DONATIONS, {}, ann.token)).data.me.donations.totalCount).toBe(0);
  });

  it.each([
    ['101 %', 'INVALID_INPUT', { percent: 101 }],
    ['-1 %', 'INVALID_INPUT', { percent: -1 }],
    ['a percentage without a cause', 'INVALID_INPUT', { percent: 10, cause: null }],
    ['an unknown cause', 'NOT_FOUND', { percent: 10, cause: UNKNOWN_ID }],
    ['an inactive cause', 'INVALID_INPUT', { percent: 10, cause: 'inactive' }],
  ])('refuses %s with %s and keeps the setting as it was', async (_, code, change: { percent: number; cause?: string | null }) => {
    const cause = await createCause();
    const current = await createCause();
    const ann = await member();
    await setAutoDonation(ann, { causeId: current.id, percent: 5 });
    if (change.cause === 'inactive') await setCauseActive(cause.id, false);
    const causeId = change.cause === undefined || change.cause === 'inactive' ? cause.id : change.cause;
    const result = await setAutoDonation(ann, { ...(causeId ? { causeId } : {}), percent: change.percent });
    expect(result).toMatchObject({ member: null, userErrors: [{ code }] });
    expect(await autoDonationOf(ann)).toEqual({ percent: 5, cause: { id: current.id } });
  });

  it('is set by the member itself: a partner is FORBIDDEN', async () => {
    const cause = await createCause();
    const res = await hub.gql(SET_AUTO, { input: { causeId: cause.id, percent: 10 } }, grocer.token);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('matching campaigns', () => {
  it.each([
    ['a ratio of 0', { ratio: '0' }, 'INVALID_INPUT', 'ratio'],
    ['a negative ratio', { ratio: '-1' }, 'INVALID_INPUT', 'ratio'],
    ['a cap of 0', { capPoints: 0 }, 'INVALID_INPUT', 'capPoints'],
    ['a negative cap', { capPoints: -10 }, 'INVALID_INPUT', 'capPoints'],
    ['an end at its start', { endsAt: 'start' }, 'INVALID_INPUT', 'endsAt'],
    ['an end before its start', { endsAt: 'before' }, 'INVALID_INPUT', 'endsAt'],
    ['an unknown partner', { partnerId: UNKNOWN_ID }, 'NOT_FOUND', 'partnerId'],
    ['an unknown cause', { causeId: UNKNOWN_ID }, 'NOT_FOUND', 'causeId'],
  ])('refuses %s (%j) with %s and creates nothing', async (_, change: Record<string, unknown>, code, field) => {
    const cause = await createCause();
    const startsAt = new Date(Date.now() - HOUR);
    const endsAt = change.endsAt === 'start' ? startsAt : change.endsAt === 'before' ? new Date(startsAt.getTime() - 1000) : new Date(Date.now() + HOUR);
    const input = { partnerId: sponsor.id, causeId: cause.id, ratio: '1', capPoints: 100, startsAt, ...change, endsAt };
    const before = (await hub.db.query('SELECT count(*)::int AS n FROM matching_campaign'))[0].n;
    const res = await hub.gql(CREATE_CAMPAIGN, { input }, hub.admin);
    expect(res.data.createMatchingCampaign).toMatchObject({ campaign: null, userErrors: [{ code, field: ['input', field] }] });
    expect((await hub.db.query('SELECT count(*)::int AS n FROM matching_campaign'))[0].n).toBe(before);
  });

  it('matches floor(points × ratio) up to what is left of the cap: across the cap only the remainder, then nothing', async () => {
    const cause = await createCause({ goalPoints: 1000 });
    const created = await createCampaign(sponsor, cause.id, '1.5', 100);
    expect(await campaign(cause.id, created.id)).toMatchObject({ partnerId: sponsor.id, causeId: cause.id, ratio: '1.5', capPoints: 100,
      matchedPoints: 0, remainingPoints: 100 });
    const ann = await memberWith(200);

    const first = await donate(ann, cause.id, 31); // floor(46.5) = 46
    expect(first.donation).toMatchObject({ points: 31, matchedPoints: 46, value: { amount: '0.31' } });
    expect(first.member.balance).toBe(169);
    expect(await campaign(cause.id, created.id)).toMatchObject({ matchedPoints: 46, remainingPoints: 54 });

    const across = await donate(ann, cause.id, 50); // 75 would exceed the cap: 54
    expect(across.donation).toMatchObject({ points: 50, matchedPoints: 54 });
    expect(await campaign(cause.id, created.id)).toMatchObject({ matchedPoints: 100, remainingPoints: 0 });

    const after = await donate(ann, cause.id, 10);
    expect(after.donation).toMatchObject({ points: 10, matchedPoints: 0 });
    expect(after.member.balance).toBe(109); // matched points never reach the member: 200 − 91

    expect(await obligations(ann, 'MATCH')).toEqual([
      { kind: 'MATCH', payer_type: 'PARTNER', payer_id: sponsor.id, payee_type: 'CAUSE', payee_id: cause.id, points: 46, rate: '0.010000' },
      { kind: 'MATCH', payer_type: 'PARTNER', payer_id: sponsor.id, payee_type: 'CAUSE', payee_id: cause.id, points: 54, rate: '0.010000' },
    ]);
    expect(await publicCause(cause.id)).toMatchObject({ donatedPoints: 91, matchedPoints: 100, donors: 1, progress: '0.191', raised: { amount: '1.91' } });
    const receipts = (await hub.gql(ME_DONATIONS, {}, ann.token)).data.me.donations.edges.map((e: { node: { matchedPoints: number } }) => e.node.matchedPoints);
    expect(receipts).toEqual([0, 54, 46]);
    // The sponsor sees the campaign too.
    const asSponsor = await hub.gql(`query($causeId: ID!) { matchingCampaigns(causeId: $causeId) { id remainingPoints } }`, { causeId: cause.id }, sponsor.token);
    expect(asSponsor.data.matchingCampaigns).toEqual([{ id: created.id, remainingPoints: 0 }]);
  });

  it('matches nothing outside its dates, nor donations to another cause', async () => {
    const cause = await createCause();
    const elsewhere = await createCause();
    const ended = await createCampaign(sponsor, cause.id, '1', 100, new Date(Date.now() - 2 * HOUR), new Date(Date.now() - HOUR));
    const future = await createCampaign(sponsor, cause.id, '1', 100, new Date(Date.now() + HOUR), new Date(Date.now() + 2 * HOUR));
    const running = await createCampaign(sponsor, elsewhere.id, '1', 100);
    const ann = await memberWith(100);
    const result = await donate(ann, cause.id, 40);
    expect(result.donation.matchedPoints).toBe(0);
    expect(await campaign(cause.id, ended.id)).toMatchObject({ matchedPoints: 0, remainingPoints: 100 });
    expect(await campaign(cause.id, future.id)).toMatchObject({ matchedPoints: 0, remainingPoints: 100 });
    expect(await campaign(elsewhere.id, running.id)).toMatchObject({ matchedPoints: 0 });
    expect(await obligations(ann, 'MATCH')).toEqual([]);
    expect(await publicCause(cause.id)).toMatchObject({ donatedPoints: 40, matchedPoints: 0 });
  });

  it('every running campaign for the cause matches the donation, each paid by its own partner', async () => {
    const cause = await createCause();
    const half = await createCampaign(grocer, cause.id, '0.5', 1000);
    const full = await createCampaign(sponsor, cause.id, '1', 1000);
    const ann = await memberWith(100);
    const result = await donate(ann, cause.id, 15); // 15 × 1 + floor(15 × 0.5)
    expect(result.donation.matchedPoints).toBe(22);
    expect(await campaign(cause.id, half.id)).toMatchObject({ matchedPoints: 7 });
    expect(await campaign(cause.id, full.id)).toMatchObject({ matchedPoints: 15 });
    expect(await obligations(ann, 'MATCH')).toEqual(expect.arrayContaining([
      expect.objectContaining({ payer_type: 'PARTNER', payer_id: grocer.id, payee_id: cause.id, points: 7 }),
      expect.objectContaining({ payer_type: 'PARTNER', payer_id: sponsor.id, payee_id: cause.id, points: 15 }),
    ]));
    expect(result.member.balance).toBe(85);
  });

  it('an automatic donation is matched like any other', async () => {
    const cause = await createCause();
    const created = await createCampaign(sponsor, cause.id, '2', 1000);
    const ann = await member();
    await setAutoDonation(ann, { causeId: cause.id, percent: 10 });
    expect((await purchase(hub, grocer, ann, '100.00')).member.balance).toBe(90);
    const [receipt] = (await hub.gql(ME_DONATIONS, {}, ann.token)).data.me.donations.edges;
    expect(receipt.node).toMatchObject({ points: 10, matchedPoints: 20, automatic: true });
    expect(await campaign(cause.id, created.id)).toMatchObject({ matchedPoints: 20, remainingPoints: 980 });
  });

  it.each([
    [2, 7, 5], // two donations of 5 racing for the last 7 points of the cap
    [10, 25, 10], // ten donations of 10 racing for a cap of 25
  ])('never exceeds the cap under concurrency: %i concurrent donations for %i points of cap', async (racers, left, points) => {
    const cause = await createCause();
    const created = await createCampaign(sponsor, cause.id, '1', 40);
    if (left < 40) {
      const early = await memberWith(40 - left);
      expect((await donate(early, cause.id, 40 - left)).donation.matchedPoints).toBe(40 - left);
    }
    const members = await Promise.all(Array.from({ length: racers }, () => memberWith(points)));
    const responses = await Promise.all(members.map((m) =>
      post(hub.url, { query: DONATE, variables: { input: { idempotencyKey: unique('race'), causeId: cause.id, points } } }, m.token)));
    for (const r of responses) expect(r.data?.donatePoints?.userErrors).toEqual([]);
    const matched = responses.map((r) => r.data.donatePoints.donation.matchedPoints as number);
    expect(matched.reduce((a, b) => a + b, 0)).toBe(left);
    expect(matched.every((m) => m >= 0 && m <= points)).toBe(true);
    expect(await campaign(cause.id, created.id)).toMatchObject({ matchedPoints: 40, remainingPoints: 0 });
    const owed = await obligationsToCause(cause.id, 'MATCH');
    expect(owed.reduce((sum: number, o: { points: number }) => sum + o.points, 0)).toBe(40);
    const [stored] = await hub.db.query('SELECT sum(matched_points)::int AS matched FROM donation WHERE cause_id = $1', [cause.id]);
    expect(stored.matched).toBe(40);
    expect(await publicCause(cause.id)).toMatchObject({ matchedPoints: 40, donors: racers + (left < 40 ? 1 : 0) });
  });
});

describe('settlement and reports', () => {
  it('settles DONATION lines issuer → cause and MATCH lines partner → cause; the cause is a party that receives', async () => {
    const cause = await createCause({ name: unique('Shelter ') });
    const periodStart = new Date();
    await pause();
    const ann = await member();
    await purchase(hub, grocer, ann, '100.00'); // grocer lot, older
    await bonus(hub, hub.admin, ann, 20); // operator lot
    await createCampaign(sponsor, cause.id, '1', 30);
    const result = await donate(ann, cause.id, 110); // grocer 100, operator 10; matched 30 of 110
    expect(result.donation).toMatchObject({ points: 110, matchedPoints: 30 });
    await pause();
    const periodEnd = new Date();

    const res = await hub.gql(CLOSE, { input: { periodStart, periodEnd } }, hub.admin);
    expect(res.data.closeSettlementPeriod.userErrors).toEqual([]);
    const run = res.data.closeSettlementPeriod.run;
    const causeParty = { type: 'CAUSE', id: cause.id, name: cause.name };
    expect(run.lines).toHaveLength(3);
    expect(run.lines).toEqual(expect.arrayContaining([
      { payer: { type: 'PARTNER', id: grocer.id, name: `Partner ${grocer.code}` }, payee: causeParty, kind: 'DONATION', points: 100, amount: { amount: '1.00', currency: 'EUR' } },
      { payer: expect.objectContaining({ type: 'OPERATOR' }), payee: causeParty, kind: 'DONATION', points: 10, amount: { amount: '0.10', currency: 'EUR' } },
      { payer: { type: 'PARTNER', id: sponsor.id, name: `Partner ${sponsor.code}` }, payee: causeParty, kind: 'MATCH', points: 30, amount: { amount: '0.30', currency: 'EUR' } },
    ]));
    const position = (id: string) => run.positions.find((p: { party: { id: string } }) => p.party.id === id)?.amount.amount;
    expect(position(cause.id)).toBe('1.40');
    expect([position(grocer.id), position(sponsor.id)]).toEqual(['-1.00', '-0.30']);
    expect(run.positions.find((p: { party: { type: string } }) => p.party.type === 'OPERATOR').amount.amount).toBe('-0.10');
    expect(run.positions.find((p: { party: { type: string } }) => p.party.type === 'CAUSE').party).toEqual(causeParty);
    // Only the cause receives: three payers pay it directly.
    expect(run.transfers).toHaveLength(3);
    for (const t of run.transfers) expect(t.to).toEqual(causeParty);
    const paid = run.transfers.map((t: { amount: { amount: string } }) => t.amount.amount).sort();
    expect(paid).toEqual(['0.10', '0.30', '1.00']);

    // The cause's statement; the sponsor sees only its match.
    const csv = await hub.gql(`query($id: ID!, $party: ID!) { settlementRun(id: $id) { statementCsv(partyId: $party) } }`, { id: run.id, party: cause.id }, hub.admin);
    const rows = csv.data.settlementRun.statementCsv.trim().split('\r\n').map((r: string) => r.split(',').slice(2).join(','));
    expect(rows).toEqual(expect.arrayContaining([
      `DONATION,RECEIVABLE,PARTNER,Partner ${grocer.code},100,1.00`,
      `MATCH,RECEIVABLE,PARTNER,Partner ${sponsor.code},30,0.30`,
    ]));
    expect(rows.at(-1)).toBe('TOTAL,NET,,,,1.40');
    const asSponsor = await hub.gql(`query($id: ID!) { settlementRun(id: $id) { lines { kind points payee { type id } } positions { party { id } amount { amount } } } }`,
      { id: run.id }, sponsor.token);
    expect(asSponsor.data.settlementRun).toEqual({ lines: [{ kind: 'MATCH', points: 30, payee: { type: 'CAUSE', id: cause.id } }],
      positions: [{ party: { id: sponsor.id }, amount: { amount: '-0.30' } }] });
  });

  it("counts a partner's points donated in a period (plain and automatic donations) in its stats", async () => {
    const STATS = `query($start: DateTime!, $end: DateTime!) { myPartner { stats(periodStart: $start, periodEnd: $end) { pointsDonated } } }`;
    const shop = await createPartner(hub, { pointsPerUnit: '1' });
    const other = await createPartner(hub, { pointsPerUnit: '1' });
    const cause = await createCause();
    const before = new Date();
    await pause();
    const periodStart = new Date();
    const ann = await member(shop, other);
    await purchase(hub, shop, ann, '100.00');
    await purchase(hub, other, ann, '50.00');
    await donate(ann, cause.id, 120); // shop's lot 100, other's 20
    await setAutoDonation(ann, { causeId: cause.id, percent: 10 });
    await purchase(hub, shop, ann, '30.00'); // 3 more of shop's points
    await createCampaign(shop, cause.id, '1', 500);
    await donate(ann, cause.id, 10); // other's lot; the match shop pays is not a donation of its points
    await pause();
    const periodEnd = new Date();
    const stats = async (partner: TestPartner, start: Date, end: Date) => (await hub.gql(STATS, { start, end }, partner.token)).data.myPartner.stats.pointsDonated;
    expect(await stats(shop, periodStart, periodEnd)).toBe(103);
    expect(await stats(other, periodStart, periodEnd)).toBe(30);
    expect(await stats(shop, new Date(before.getTime() - HOUR), before)).toBe(0);
  });
});

/** A fresh hub whose coalition values a donated point at `rate` in `currency`. */
async function coalitionAt(currency: string, rate: string): Promise<TestHub> {
  const small = await startTestHub();
  const res = await small.gql(`mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { coalition { donationValuePerPoint } ${USER_ERRORS} } }`,
    { input: { name: `${currency} ${rate} coalition`, currency, donationValuePerPoint: rate } }, small.admin);
  expect(res.data.configureCoalition.userErrors).toEqual([]);
  return small;
}

describe('receipts, settlement and raised agree to the cent at a donation value of 0.005 (docs/rules.md, Charity)', () => {
  let small: TestHub;
  beforeAll(async () => {
    small = await coalitionAt('EUR', '0.005');
  });
  afterAll(() => small.close());
  afterEach(async () => {
    expect(await ledgerCheck(small)).toEqual({ ok: true, violations: [] });
  });

  const give = async (m: TestMember, causeId: string, points: number) =>
    (await small.gql(DONATE, { input: { idempotencyKey: unique('half'), causeId, points } }, m.token)).data.donatePoints;
  const close = async (periodStart: Date, periodEnd: Date) => {
    const res = await small.gql(CLOSE, { input: { periodStart, periodEnd } }, small.admin);
    expect(res.data.closeSettlementPeriod.userErrors).toEqual([]);
    return res.data.closeSettlementPeriod.run;
  };
  const newCause = async (name: string) =>
    (await small.gql(`mutation($name: String!) { createCause(input: { name: $name }) { cause { id name minimumDonationPoints } } }`, { name }, small.admin)).data.createCause.cause;
  const causeOf = async (id: string) =>
    (await small.gql(`{ causes { id donatedPoints matchedPoints raised { amount } minimumDonationPoints } }`)).data.causes.find((c: { id: string }) => c.id === id);

  it('ten one-point donations (0.005 each) are INVALID_INPUT, nothing written, minimumDonationPoints 2; a 2-point (0.01) and ten 3-point donations (0.015 → 0.01 each): receipts 0.11 = the DONATION line = raised (not 32 × 0.005 = 0.16)', async () => {
    const shop = await createPartner(small, { pointsPerUnit: '1' });
    const cause = await newCause(unique('Half-cent cause '));
    expect(cause.minimumDonationPoints).toBe(2);
    const periodStart = new Date();
    await pause();
    const ann = await enroll(small, shop);
    await purchase(small, shop, ann, '100.00');
    const [before] = await small.db.query('SELECT count(*)::int AS n FROM donation WHERE member_id = $1', [ann.id]);
    for (let i = 0; i < 10; i++) {
      const refused = await give(ann, cause.id, 1);
      expect(refused.donation).toBeNull();
      expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'points'] })]);
      expect(refused.userErrors[0].message).toMatch(/2 points/);
    }
    const [after] = await small.db.query('SELECT count(*)::int AS n FROM donation WHERE member_id = $1', [ann.id]);
    expect(after.n).toBe(before.n);
    expect(await balanceOf(small, ann)).toBe(100);

    expect((await give(ann, cause.id, 2)).donation).toMatchObject({ points: 2, value: { amount: '0.01', currency: 'EUR' } }); // the smallest: 0.010
    const receipts: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { donation } = await give(ann, cause.id, 3);
      receipts.push(donation.value.amount); // 3 × 0.005 = 0.015 → 0.01, rounded down
    }
    expect(receipts).toEqual(Array(10).fill('0.01'));
    await pause();
    const run = await close(periodStart, new Date());
    // 0.01 (two points) + ten receipts of 0.01 = 0.11: the sum of the receipts, not 32 × 0.005 = 0.16.
    expect(run.lines).toEqual([{ payer: expect.objectContaining({ type: 'PARTNER', id: shop.id }), payee: { type: 'CAUSE', id: cause.id, name: cause.name },
      kind: 'DONATION', points: 32, amount: { amount: '0.11', currency: 'EUR' } }]);
    expect(await causeOf(cause.id)).toEqual({ id: cause.id, donatedPoints: 32, matchedPoints: 0, raised: { amount: '0.11' }, minimumDonationPoints: 2 });
  });

  it('matches are valued match by match, rounded down: matches of 3, 3 and 1 points are worth 0.01 + 0.01 + 0.00 = 0.02 on the MATCH line (not 7 × 0.005 → 0.04)', async () => {
    const shop = await createPartner(small, { pointsPerUnit: '1' });
    const backer = await createPartner(small, { pointsPerUnit: '1' });
    const cause = await newCause(unique('Matched half-cent cause '));
    await small.gql(CREATE_CAMPAIGN, { input: { partnerId: backer.id, causeId: cause.id, ratio: '1', capPoints: 7,
      startsAt: new Date(Date.now() - HOUR), endsAt: new Date(Date.now() + HOUR) } }, small.admin);
    const periodStart = new Date();
    await pause();
    const ann = await enroll(small, shop);
    await purchase(small, shop, ann, '100.00');
    const given = [];
    for (let i = 0; i < 3; i++) given.push((await give(ann, cause.id, 3)).donation);
    expect(given.map((d) => [d.value.amount, d.matchedPoints])).toEqual([['0.01', 3], ['0.01', 3], ['0.01', 1]]);
    const stored = await small.db.query('SELECT matched_value_minor::int AS v FROM donation WHERE cause_id = $1 ORDER BY id', [cause.id]);
    expect(stored.map((r: { v: number }) => r.v)).toEqual([1, 1, 0]);
    await pause();
    const run = await close(periodStart, new Date());
    const causeParty = { type: 'CAUSE', id: cause.id, name: cause.name };
    expect(run.lines).toEqual(expect.arrayContaining([
      { payer: expect.objectContaining({ type: 'PARTNER', id: shop.id }), payee: causeParty, kind: 'DONATION', points: 9, amount: { amount: '0.03', currency: 'EUR' } },
      { payer: expect.objectContaining({ type: 'PARTNER', id: backer.id }), payee: causeParty, kind: 'MATCH', points: 7, amount: { amount: '0.02', currency: 'EUR' } },
    ]));
    expect(run.lines).toHaveLength(2);
    const position = (id: string) => run.positions.find((p: { party: { id: string } }) => p.party.id === id)?.amount.amount;
    expect([position(cause.id), position(shop.id), position(backer.id)]).toEqual(['0.05', '-0.03', '-0.02']);
    expect(await causeOf(cause.id)).toMatchObject({ donatedPoints: 9, matchedPoints: 7, raised: { amount: '0.05' } });
  });

  it('a donation across two issuers (1 point of A, 2 of B) has one receipt of 0.01; its lines split it on the running total: A 0.00, B 0.01, summing to the receipt', async () => {
    const early = await createPartner(small, { pointsPerUnit: '1', pointsValidityDays: 30 }); // its lot is consumed first
    const late = await createPartner(small, { pointsPerUnit: '1' });
    const cause = await newCause(unique('Two-issuer cause '));
    const periodStart = new Date();
    await pause();
    const email = `${unique('split')}@example.com`;
    const ann = await enroll(small, early, { email });
    await enroll(small, late, { email });
    await purchase(small, early, ann, '1.00');
    await purchase(small, late, ann, '10.00');
    const { donation } = await give(ann, cause.id, 3);
    expect(donation.value).toEqual({ amount: '0.01', currency: 'EUR' }); // 3 × 0.005 = 0.015 → 0.01
    const rows = await small.db.query(`SELECT payer_id, points, value_minor::int AS value FROM obligation WHERE member_id = $1 AND kind = 'DONATION' ORDER BY points`, [ann.id]);
    expect(rows).toEqual([{ payer_id: early.id, points: 1, value: 0 }, { payer_id: late.id, points: 2, value: 1 }]);
    await pause();
    const run = await close(periodStart, new Date());
    const line = (id: string) => run.lines.find((l: { payer: { id: string } }) => l.payer.id === id);
    expect([line(early.id)?.points, line(early.id)?.amount.amount, line(late.id)?.points, line(late.id)?.amount.amount]).toEqual([1, '0.00', 2, '0.01']);
    expect(await causeOf(cause.id)).toMatchObject({ donatedPoints: 3, raised: { amount: '0.01' } });
  });

  it('an automatic donation worth nothing (10 % of 10 points = 1 point = 0.005) is skipped; 10 % of 30 points (3 points) is made, worth 0.01', async () => {
    const shop = await createPartner(small, { pointsPerUnit: '1' });
    const cause = await newCause(unique('Auto half-cent cause '));
    const ann = await enroll(small, shop);
    const set = await small.gql(SET_AUTO, { input: { causeId: cause.id, percent: 10 } }, ann.token);
    expect(set.data.setAutoDonation.userErrors).toEqual([]);
    expect((await purchase(small, shop, ann, '10.00')).member.balance).toBe(10);
    expect((await small.gql(ME_DONATIONS, {}, ann.token)).data.me.donations.totalCount).toBe(0);
    expect((await purchase(small, shop, ann, '30.00')).member.balance).toBe(37);
    const mine = (await small.gql(ME_DONATIONS, {}, ann.token)).data.me.donations.edges.map((e: { node: unknown }) => e.node);
    expect(mine).toEqual([expect.objectContaining({ points: 3, automatic: true, value: { amount: '0.01', currency: 'EUR' } })]);
    expect(await causeOf(cause.id)).toMatchObject({ donatedPoints: 3, raised: { amount: '0.01' } });
  });
});

describe('receipts and settlement agree in JPY at a donation value of 0.5', () => {
  let yen: TestHub;
  beforeAll(async () => {
    yen = await coalitionAt('JPY', '0.5');
  });
  afterAll(() => yen.close());

  it('four one-point donations (¥0.5 each) are INVALID_INPUT, minimumDonationPoints 2; donations of 2, 2 and 3 points give receipts ¥1 + ¥1 + ¥1 = ¥3 = the line = raised', async () => {
    const shop = await createPartner(yen, { pointsPerUnit: '1' });
    const cause = (await yen.gql(`mutation { createCause(input: { name: "Yen cause" }) { cause { id minimumDonationPoints } } }`, {}, yen.admin)).data.createCause.cause;
    expect(cause.minimumDonationPoints).toBe(2);
    const periodStart = new Date();
    await pause();
    const ann = await enroll(yen, shop);
    await purchase(yen, shop, ann, '100');
    const give = async (points: number) => (await yen.gql(DONATE, { input: { idempotencyKey: unique('yen'), causeId: cause.id, points } }, ann.token)).data.donatePoints;
    for (let i = 0; i < 4; i++) expect((await give(1)).userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'points'] })]);
    const receipts = [];
    for (const points of [2, 2, 3]) receipts.push((await give(points)).donation.value);
    expect(receipts).toEqual([{ amount: '1', currency: 'JPY' }, { amount: '1', currency: 'JPY' }, { amount: '1', currency: 'JPY' }]); // 1.5 → 1
    await pause();
    const run = (await yen.gql(CLOSE, { input: { periodStart, periodEnd: new Date() } }, yen.admin)).data.closeSettlementPeriod.run;
    expect(run.lines.map((l: { kind: string; points: number; amount: unknown }) => [l.kind, l.points, l.amount])).toEqual([['DONATION', 7, { amount: '3', currency: 'JPY' }]]);
    const raised = (await yen.gql(`{ causes { id raised { amount currency } } }`)).data.causes.find((c: { id: string }) => c.id === cause.id).raised;
    expect(raised).toEqual({ amount: '3', currency: 'JPY' });
    expect(await ledgerCheck(yen)).toEqual({ ok: true, violations: [] });
  });
});

describe('a member’s data export', () => {
  it('lists its donations with their receipts', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await enroll(hub, shop);
    await purchase(hub, shop, member, '50.00');
    const cause = (await hub.gql('mutation { createCause(input: { name: "Export cause" }) { cause { id } } }', {}, hub.admin)).data.createCause.cause;
    const given = await hub.gql('mutation($c: ID!) { donatePoints(input: { idempotencyKey: "export-1", causeId: $c, points: 20 }) { donation { receiptNumber } } }',
      { c: cause.id }, member.token);
    const exported = await hub.gql('{ exportMemberData { donations { points receiptNumber cause { id } value { amount } } json } }', {}, member.token);
    expect(exported.data.exportMemberData.donations).toEqual([{ points: 20, receiptNumber: given.data.donatePoints.donation.receiptNumber, cause: { id: cause.id }, value: { amount: '0.20' } }]);
    expect(JSON.parse(exported.data.exportMemberData.json).donations).toHaveLength(1);
  });
});
