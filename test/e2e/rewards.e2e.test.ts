import { TestHub, startTestHub } from '../support/hub';
import { TestMember, TestPartner, createPartner, enroll, ledgerCheck, purchase, unique } from '../support/scenario';

/**
 * The rewards catalog and clubs (docs/rules.md, Rewards, vouchers and clubs; docs/api.md Additions): rewards
 * created and changed by their partner or the operator and scoped between partners; what a member
 * sees and can claim now (tier, club, window, stock, its limit, its points); its next reward; club
 * memberships bought with money (idempotent, extended on renewal); an audit entry for every change.
 */
let hub: TestHub;
const DAY = 86_400_000;

beforeAll(async () => {
  hub = await startTestHub();
  const res = await hub.gql(`mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { userErrors { code message } } }`,
    { input: { name: 'City Rewards', currency: 'EUR', donationValuePerPoint: '0.01', tiers: [{ name: 'Silver', qualifyingPoints: 100, earnMultiplier: '1' }, { name: 'Gold', qualifyingPoints: 500, earnMultiplier: '1' }] } },
    hub.admin);
  expect(res.data.configureCoalition.userErrors).toEqual([]);
});
afterAll(() => hub.close());
afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

const REWARD_FIELDS = `id partner { id } name description kind club { id } pointsPrice cashPrice { amount currency } value { amount currency } stock claimed
  perMemberLimit tiers clubs { id } startsAt endsAt active voucherValidityDays`;
const CREATE = `mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { ${REWARD_FIELDS} } userErrors { code message field } } }`;
const UPDATE = `mutation($input: UpdateRewardInput!) { updateReward(input: $input) { reward { ${REWARD_FIELDS} } userErrors { code message field } } }`;
const REWARD = `query($id: ID!) { reward(id: $id) { id name } }`;
const REWARDS = `query($partnerId: ID, $eligibleOnly: Boolean, $first: Int, $after: String) { rewards(partnerId: $partnerId, eligibleOnly: $eligibleOnly, first: $first, after: $after) {
  edges { node { id name } } pageInfo { hasNextPage endCursor } totalCount } }`;
const CREATE_CLUB = `mutation($input: CreateClubInput!) { createClub(input: $input) { club { id partner { id } name earnMultiplier membershipDays } userErrors { code message field } } }`;
const GRANT = `mutation($input: GrantClubMembershipInput!) { grantClubMembership(input: $input) {
  membership { club { id } expiresAt source paidAmount { amount currency } } member { id balance } userErrors { code message field } } }`;

async function createReward(token: string, input: Record<string, unknown>) {
  const res = await hub.gql(CREATE, { input: { name: unique('Reward '), pointsPrice: 1000, ...input } }, token);
  expect(res.errors).toBeUndefined();
  return res.data.createReward;
}

async function createClub(token: string, input: Record<string, unknown> = {}) {
  const res = await hub.gql(CREATE_CLUB, { input: { name: unique('Club '), earnMultiplier: '2', membershipDays: 30, ...input } }, token);
  expect(res.data.createClub.userErrors).toEqual([]);
  return res.data.createClub.club as { id: string };
}

async function rewardNames(token: string, args: Record<string, unknown>): Promise<string[]> {
  const res = await hub.gql(REWARDS, { first: 100, ...args }, token);
  expect(res.errors).toBeUndefined();
  return res.data.rewards.edges.map((e: { node: { name: string } }) => e.node.name).sort();
}

const rewardRows = async () => Number((await hub.db.query('SELECT count(*)::int AS n FROM reward'))[0].n);

describe('catalog: create, update, scoping between partners', () => {
  it('a partner’s reward defaults its value to pointsPrice × its redemption value (2,000 × 0.0075 = 15.00) and follows a new price (3,000 → 22.50) until a value is set (24.00, by the operator, stays at 4,000)', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1' }, '0.0075');
    const created = await createReward(shop.token, { name: 'Free coffee', pointsPrice: 2000, cashPrice: '1.50', stock: 10, perMemberLimit: 2, description: ' A cup ' });
    expect(created.userErrors).toEqual([]);
    expect(created.reward).toMatchObject({
      partner: { id: shop.id }, name: 'Free coffee', description: 'A cup', kind: 'VOUCHER', club: null, pointsPrice: 2000, cashPrice: { amount: '1.50', currency: 'EUR' },
      value: { amount: '15.00', currency: 'EUR' }, stock: 10, claimed: 0, perMemberLimit: 2, tiers: [], clubs: [], active: true, voucherValidityDays: 30,
    });
    const repriced = await hub.gql(UPDATE, { input: { rewardId: created.reward.id, pointsPrice: 3000 } }, shop.token);
    expect(repriced.data.updateReward).toMatchObject({ reward: { pointsPrice: 3000, value: { amount: '22.50' }, stock: 10, cashPrice: { amount: '1.50' } }, userErrors: [] });
    // Above 3,000 × 0.0075 = 22.50 only the operator may price it (the value cap).
    const fixed = await hub.gql(UPDATE, { input: { rewardId: created.reward.id, value: '24.00', stock: null, cashPrice: null } }, hub.admin);
    expect(fixed.data.updateReward).toMatchObject({ reward: { value: { amount: '24.00' }, stock: null, cashPrice: null }, userErrors: [] });
    const kept = await hub.gql(UPDATE, { input: { rewardId: created.reward.id, pointsPrice: 4000, active: false } }, shop.token);
    expect(kept.data.updateReward).toMatchObject({ reward: { value: { amount: '24.00' }, pointsPrice: 4000, active: false }, userErrors: [] });
  });

  it('the value cap: a partner may not price its reward above pointsPrice × its redemption value (1 point for 1,000,000.00 is refused), nor raise it later by value or by a lower price; the operator may', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1' }, '0.01');
    const before = await hub.db.query('SELECT count(*)::int AS n FROM reward');
    const gold = await createReward(shop.token, { name: 'Gold bar', pointsPrice: 1, value: '1000000.00' });
    expect(gold.reward).toBeNull();
    expect(gold.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'value'],
      message: 'value may not exceed 0.01 (pointsPrice × your redemptionValuePerPoint); the operator may set a higher value' }]);
    expect(await hub.db.query('SELECT count(*)::int AS n FROM reward')).toEqual(before);
    const fair = await createReward(shop.token, { name: 'Mug', pointsPrice: 1000, value: '10.00' }); // exactly the cap
    expect(fair.userErrors).toEqual([]);
    const cheaper = await createReward(shop.token, { name: 'Pen', pointsPrice: 1000, value: '4.00' }); // below it: the partner's choice
    expect(cheaper.userErrors).toEqual([]);
    const raised = await hub.gql(UPDATE, { input: { rewardId: fair.reward.id, value: '10.01' } }, shop.token);
    expect(raised.data.updateReward.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'value'] }]);
    const repriced = await hub.gql(UPDATE, { input: { rewardId: fair.reward.id, pointsPrice: 999 } }, shop.token); // 10.00 over 999 points
    expect(repriced.data.updateReward.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'value'] }]);
    const renamed = await hub.gql(UPDATE, { input: { rewardId: fair.reward.id, name: 'Big mug' } }, shop.token);
    expect(renamed.data.updateReward).toMatchObject({ reward: { value: { amount: '10.00' }, pointsPrice: 1000 }, userErrors: [] });
    const byOperator = await hub.gql(UPDATE, { input: { rewardId: fair.reward.id, value: '12.00' } }, hub.admin);
    expect(byOperator.data.updateReward).toMatchObject({ reward: { value: { amount: '12.00' } }, userErrors: [] });
    const huge = await createReward(shop.token, { name: 'Huge', pointsPrice: 100, cashPrice: '2000000000' }); // named for what is wrong: the size
    expect(huge.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'cashPrice'], message: 'cashPrice must be at most 1000000000' }]);
    const operatorCreated = await createReward(hub.admin, { partnerId: shop.id, name: 'Hamper', pointsPrice: 100, value: '5.00' });
    expect(operatorCreated.userErrors).toEqual([]);
  });

  it('another partner neither sees nor changes a partner’s reward (NOT_FOUND), the operator sees and changes all', async () => {
    const a = await createPartner(hub);
    const b = await createPartner(hub);
    const { reward } = await createReward(a.token, { name: unique('A only '), pointsPrice: 1500, tiers: ['Gold'] });
    expect((await hub.gql(REWARD, { id: reward.id }, b.token)).data.reward).toBeNull();
    expect(await rewardNames(b.token, {})).not.toContain(reward.name);
    expect(await rewardNames(b.token, { partnerId: a.id })).toEqual([]);
    const sneaky = await hub.gql(UPDATE, { input: { rewardId: reward.id, active: false } }, b.token);
    expect(sneaky.data.updateReward).toEqual({ reward: null, userErrors: [{ code: 'NOT_FOUND', message: 'No such reward', field: ['input', 'rewardId'] }] });
    expect((await hub.gql(REWARD, { id: reward.id }, a.token)).data.reward).toEqual({ id: reward.id, name: reward.name });
    expect(await rewardNames(hub.admin, { partnerId: a.id })).toEqual([reward.name]);
    const byOperator = await hub.gql(UPDATE, { input: { rewardId: reward.id, name: 'Renamed by operator' } }, hub.admin);
    expect(byOperator.data.updateReward).toMatchObject({ reward: { name: 'Renamed by operator', partner: { id: a.id } }, userErrors: [] });
    const moved = await hub.gql(UPDATE, { input: { rewardId: reward.id, partnerId: b.id } }, hub.admin);
    expect(moved.data.updateReward.userErrors[0]).toMatchObject({ code: 'INVALID_INPUT', field: ['input', 'partnerId'] });
    // A partner names no other partner.
    const forOther = await createReward(a.token, { partnerId: b.id });
    expect(forOther.userErrors[0]).toMatchObject({ code: 'INVALID_INPUT', field: ['input', 'partnerId'] });
  });

  it('the operator creates coalition rewards (value required: there is no redemption value to derive it from) and partners’ rewards via partnerId', async () => {
    const shop = await createPartner(hub, { pointsPerUnit: '1' }, '0.02');
    const before = await rewardRows();
    const noValue = await createReward(hub.admin, { pointsPrice: 1000 });
    expect(noValue).toEqual({ reward: null, userErrors: [{ code: 'INVALID_INPUT', message: expect.stringContaining('operator reward states its value'), field: ['input', 'value'] }] });
    expect(await rewardRows()).toBe(before);
    const coalition = await createReward(hub.admin, { pointsPrice: 1000, value: '7.50', tiers: ['Gold'] });
    expect(coalition).toMatchObject({ reward: { partner: null, value: { amount: '7.50' } }, userErrors: [] });
    const forShop = await createReward(hub.admin, { partnerId: shop.id, pointsPrice: 1000, tiers: ['Gold'] });
    expect(forShop).toMatchObject({ reward: { partner: { id: shop.id }, value: { amount: '20.00' } }, userErrors: [] });
  });

  it('invalid rewards are userErrors and nothing is written (price 0, window backwards, unknown tier, MEMBERSHIP without a club, another partner’s club, inexact value per point)', async () => {
    const a = await createPartner(hub);
    const b = await createPartner(hub);
    const bClub = await createClub(b.token);
    const before = await rewardRows();
    const now = Date.now();
    const cases: [Record<string, unknown>, string, string[]][] = [
      [{ pointsPrice: 0 }, 'INVALID_INPUT', ['input', 'pointsPrice']],
      [{ startsAt: new Date(now + DAY).toISOString(), endsAt: new Date(now).toISOString() }, 'INVALID_INPUT', ['input', 'endsAt']],
      [{ tiers: ['Platinum'] }, 'INVALID_INPUT', ['input', 'tiers', '0']],
      [{ kind: 'MEMBERSHIP' }, 'INVALID_INPUT', ['input', 'clubId']],
      [{ kind: 'MEMBERSHIP', clubId: bClub.id }, 'NOT_FOUND', ['input', 'clubId']],
      [{ clubs: [bClub.id] }, 'NOT_FOUND', ['input', 'clubs', '0']],
      [{ pointsPrice: 3, value: '10.00' }, 'INVALID_INPUT', ['input', 'value']],
      [{ cashPrice: '1.001' }, 'INVALID_INPUT', ['input', 'cashPrice']],
      [{ stock: -1 }, 'INVALID_INPUT', ['input', 'stock']],
      [{ voucherValidityDays: 0 }, 'INVALID_INPUT', ['input', 'voucherValidityDays']],
    ];
    for (const [input, code, field] of cases) {
      const res = await createReward(a.token, input);
      expect({ input, errors: res.userErrors.map((e: { code: string; field: string[] }) => ({ code: e.code, field: e.field })) }).toEqual({ input, errors: [{ code, field }] });
    }
    expect(await rewardRows()).toBe(before);
  });
});

describe('what a member sees and can claim now', () => {
  let shop: TestPartner;
  let gold: TestMember;
  let silver: TestMember;
  let club: { id: string };
  const names: Record<string, string> = {};

  beforeAll(async () => {
    shop = await createPartner(hub);
    club = await createClub(shop.token);
    gold = await enroll(hub, shop);
    silver = await enroll(hub, shop);
    await purchase(hub, shop, gold, '1000');
    await purchase(hub, shop, silver, '200');
    const now = Date.now();
    const make = async (key: string, input: Record<string, unknown>) => {
      names[key] = `${key} ${unique('r')}`;
      const res = await createReward(shop.token, { name: names[key], ...input });
      expect(res.userErrors).toEqual([]);
      return res.reward.id as string;
    };
    await make('open500', { pointsPrice: 500 });
    await make('gold100', { pointsPrice: 100, tiers: ['Gold'] });
    await make('club100', { pointsPrice: 100, clubs: [club.id] });
    await make('future', { pointsPrice: 100, startsAt: new Date(now + DAY).toISOString() });
    await make('ended', { pointsPrice: 100, startsAt: new Date(now - 2 * DAY).toISOString(), endsAt: new Date(now - DAY).toISOString() });
    const inactive = await make('inactive', { pointsPrice: 100 });
    expect((await hub.gql(UPDATE, { input: { rewardId: inactive, active: false } }, shop.token)).data.updateReward.userErrors).toEqual([]);
    await make('soldOut', { pointsPrice: 100, stock: 0 });
    await make('pricey', { pointsPrice: 5000 });
    const limited = await make('limit1', { pointsPrice: 100, perMemberLimit: 1 });
    names.limitedId = limited;
  });

  it('a member sees the active rewards in their window, whatever its tier or clubs (not future, ended or inactive ones)', async () => {
    expect(await rewardNames(silver.token, { partnerId: shop.id })).toEqual(['club100', 'gold100', 'limit1', 'open500', 'pricey', 'soldOut'].map((k) => names[k]).sort());
    const reward = await hub.gql(REWARD, { id: names.limitedId }, silver.token);
    expect(reward.data.reward.name).toBe(names.limit1);
  });

  it('eligibleOnly: a Gold member with 1,000 points can claim open500, gold100, limit1 — not club100 (no club), soldOut (stock 0), pricey (5,000)', async () => {
    expect(await hub.gql('{ me { balance tier { name } } }', {}, gold.token)).toMatchObject({ data: { me: { balance: 1000, tier: { name: 'Gold' } } } });
    expect(await rewardNames(gold.token, { partnerId: shop.id, eligibleOnly: true })).toEqual(['gold100', 'limit1', 'open500'].map((k) => names[k]).sort());
    const page = await hub.gql(REWARDS, { partnerId: shop.id, eligibleOnly: true, first: 2 }, gold.token);
    expect(page.data.rewards).toMatchObject({ pageInfo: { hasNextPage: true }, totalCount: 3 });
    const rest = await hub.gql(REWARDS, { partnerId: shop.id, eligibleOnly: true, first: 2, after: page.data.rewards.pageInfo.endCursor }, gold.token);
    expect(rest.data.rewards).toMatchObject({ pageInfo: { hasNextPage: false }, totalCount: 3 });
    expect(rest.data.rewards.edges).toHaveLength(1);
  });

  it('eligibleOnly: a claim that still counts (ISSUED) uses up a limit of 1; a VOIDED one does not', async () => {
    const insert = (state: string, id: string, code: string) => hub.db.query(`INSERT INTO voucher (member_id, id, code, reward_id, state, issued_at, expires_at)
      VALUES ($1, $2, $3, $4, $5, now(), now() + interval '30 days')`, [gold.id, id, code, names.limitedId, state]);
    await insert('VOIDED', '00000000-0000-7000-8000-000000000001', 'VOIDEDCODE001');
    expect(await rewardNames(gold.token, { partnerId: shop.id, eligibleOnly: true })).toContain(names.limit1);
    await insert('ISSUED', '00000000-0000-7000-8000-000000000002', 'ISSUEDCODE002');
    expect(await rewardNames(gold.token, { partnerId: shop.id, eligibleOnly: true })).toEqual(['gold100', 'open500'].map((k) => names[k]).sort());
  });

  it('eligibleOnly: a Silver member with 200 points can claim limit1 only; club100 once it joins the club', async () => {
    expect(await rewardNames(silver.token, { partnerId: shop.id, eligibleOnly: true })).toEqual([names.limit1]);
    const granted = await hub.gql(GRANT, { input: { idempotencyKey: unique('k'), memberId: silver.id, clubId: club.id, paidAmount: '0' } }, shop.token);
    expect(granted.data.grantClubMembership.userErrors).toEqual([]);
    expect(await rewardNames(silver.token, { partnerId: shop.id, eligibleOnly: true })).toEqual([names.club100, names.limit1].sort());
  });

  it('nextReward: the Silver member with 200 points is 300 points from open500 (the cheapest it is eligible for but cannot afford)', async () => {
    const res = await hub.gql('{ me { nextReward { reward { name pointsPrice } pointsNeeded } } }', {}, silver.token);
    expect(res.data.me.nextReward).toEqual({ reward: { name: names.open500, pointsPrice: 500 }, pointsNeeded: 300 });
    // The partner sees the same on its member.
    const seen = await hub.gql('query($id: ID!) { member(id: $id) { nextReward { pointsNeeded } } }', { id: silver.id }, shop.token);
    expect(seen.data.member.nextReward).toEqual({ pointsNeeded: 300 });
  });

  it('eligibleOnly is a member’s view: a partner asking for it gets a GraphQL error', async () => {
    const res = await hub.gql(REWARDS, { eligibleOnly: true }, shop.token);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('clubs and memberships bought with money', () => {
  it('grantClubMembership: 49.00 paid for 30 days, recorded; the same key replays; a new key extends from the current expiry by 30 days; no points move; me.clubs', async () => {
    const shop = await createPartner(hub);
    const club = await createClub(shop.token, { name: 'Sneakers Club', earnMultiplier: '1.5', membershipDays: 30 });
    const member = await enroll(hub, shop);
    await purchase(hub, shop, member, '100');
    const key = unique('k');
    const started = Date.now();
    const first = await hub.gql(GRANT, { input: { idempotencyKey: key, memberId: member.id, clubId: club.id, paidAmount: '49.00' } }, shop.token);
    expect(first.data.grantClubMembership).toMatchObject({
      membership: { club: { id: club.id }, source: 'PAID', paidAmount: { amount: '49.00', currency: 'EUR' } }, member: { id: member.id, balance: 100 }, userErrors: [],
    });
    const expiry = Date.parse(first.data.grantClubMembership.membership.expiresAt);
    expect(expiry).toBeGreaterThanOrEqual(started + 30 * DAY);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 30 * DAY);
    const replay = await hub.gql(GRANT, { input: { idempotencyKey: key, memberId: member.id, clubId: club.id, paidAmount: '49.00' } }, shop.token);
    expect(replay.data.grantClubMembership.membership).toEqual(first.data.grantClubMembership.membership);
    const reused = await hub.gql(GRANT, { input: { idempotencyKey: key, memberId: member.id, clubId: club.id, paidAmount: '59.00' } }, shop.token);
    expect(reused.data.grantClubMembership.userErrors).toEqual([{ code: 'IDEMPOTENCY_KEY_REUSED', message: expect.any(String), field: ['input', 'idempotencyKey'] }]);
    const rows = async () => Number((await hub.db.query('SELECT count(*)::int AS n FROM club_membership WHERE member_id = $1', [member.id]))[0].n);
    expect(await rows()).toBe(1);
    const renewed = await hub.gql(GRANT, { input: { idempotencyKey: unique('k'), memberId: member.id, clubId: club.id, paidAmount: '45.00' } }, shop.token);
    expect(Date.parse(renewed.data.grantClubMembership.membership.expiresAt)).toBe(expiry + 30 * DAY);
    expect(await rows()).toBe(2);
    const me = await hub.gql('{ me { balance clubs { club { id name earnMultiplier membershipDays partner { id } } expiresAt source paidAmount { amount } } } }', {}, member.token);
    expect(me.data.me).toEqual({
      balance: 100,
      clubs: [{ club: { id: club.id, name: 'Sneakers Club', earnMultiplier: '1.5', membershipDays: 30, partner: { id: shop.id } },
        expiresAt: renewed.data.grantClubMembership.membership.expiresAt, source: 'PAID', paidAmount: { amount: '45.00' } }],
    });
  });

  it('concurrent grants: 5 sends of one key make one 30-day period; 2 different keys at once extend twice (60 days)', async () => {
    const shop = await createPartner(hub);
    const club = await createClub(shop.token, { membershipDays: 30 });
    const member = await enroll(hub, shop);
    const key = unique('k');
    const same = await Promise.all(Array.from({ length: 5 }, () =>
      hub.gql(GRANT, { input: { idempotencyKey: key, memberId: member.id, clubId: club.id, paidAmount: '10.00' } }, shop.token)));
    const expiries = new Set(same.map((r) => r.data.grantClubMembership.membership.expiresAt));
    expect(expiries.size).toBe(1);
    const first = Date.parse([...expiries][0]!);
    const rows = async () => Number((await hub.db.query('SELECT count(*)::int AS n FROM club_membership WHERE member_id = $1', [member.id]))[0].n);
    expect(await rows()).toBe(1);
    const two = await Promise.all([unique('k'), unique('k')].map((k) =>
      hub.gql(GRANT, { input: { idempotencyKey: k, memberId: member.id, clubId: club.id, paidAmount: '10.00' } }, shop.token)));
    const ends = two.map((r) => Date.parse(r.data.grantClubMembership.membership.expiresAt)).sort();
    expect(ends).toEqual([first + 30 * DAY, first + 60 * DAY]);
    expect(await rows()).toBe(3);
  });

  it('a membership whose period has ended is not among the member’s clubs', async () => {
    const shop = await createPartner(hub);
    const club = await createClub(shop.token);
    const member = await enroll(hub, shop);
    await hub.db.query(`INSERT INTO club_membership (member_id, id, club_id, source, paid_amount_minor, starts_at, expires_at)
      VALUES ($1, '00000000-0000-7000-8000-0000000000aa', $2, 'PAID', 0, now() - interval '40 days', now() - interval '10 days')`, [member.id, club.id]);
    expect((await hub.gql('{ me { clubs { club { id } } } }', {}, member.token)).data.me.clubs).toEqual([]);
    const renewed = await hub.gql(GRANT, { input: { idempotencyKey: unique('k'), memberId: member.id, clubId: club.id, paidAmount: '0' } }, shop.token);
    // Joining again after expiry starts from now, not from the old expiry.
    expect(Date.parse(renewed.data.grantClubMembership.membership.expiresAt)).toBeGreaterThan(Date.now() + 29 * DAY);
  });

  it('who may grant: the club’s partner for linked members, the operator any club; anything else NOT_FOUND; bad amounts INVALID_INPUT; nothing written', async () => {
    const a = await createPartner(hub);
    const b = await createPartner(hub);
    const aClub = await createClub(a.token);
    const coalitionClub = await createClub(hub.admin);
    const linked = await enroll(hub, a);
    const other = await enroll(hub, b);
    const before = Number((await hub.db.query('SELECT count(*)::int AS n FROM club_membership'))[0].n);
    const grant = async (token: string, input: Record<string, unknown>) =>
      (await hub.gql(GRANT, { input: { idempotencyKey: unique('k'), memberId: linked.id, clubId: aClub.id, paidAmount: '10.00', ...input } }, token)).data.grantClubMembership.userErrors;
    expect(await grant(b.token, {})).toMatchObject([{ code: 'NOT_FOUND', field: ['input', 'clubId'] }]);
    expect(await grant(a.token, { clubId: coalitionClub.id })).toMatchObject([{ code: 'NOT_FOUND', field: ['input', 'clubId'] }]);
    expect(await grant(a.token, { memberId: other.id })).toMatchObject([{ code: 'NOT_FOUND', field: ['input', 'memberId'] }]);
    expect(await grant(a.token, { paidAmount: '-1' })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'paidAmount'] }]);
    expect(await grant(a.token, { paidAmount: '1.001' })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'paidAmount'] }]);
    expect(await grant(a.token, { idempotencyKey: '   ' })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'idempotencyKey'] }]);
    expect(Number((await hub.db.query('SELECT count(*)::int AS n FROM club_membership'))[0].n)).toBe(before);
    expect(await grant(hub.admin, { clubId: coalitionClub.id, memberId: other.id })).toEqual([]);
    expect(await grant(a.token, {})).toEqual([]);
  });

  it('clubs: the operator and members see every club; a partner coalition clubs and its own; invalid clubs are userErrors', async () => {
    const a = await createPartner(hub);
    const b = await createPartner(hub);
    const aClub = await createClub(a.token);
    const bClub = await createClub(hub.admin, { partnerId: b.id });
    const coalitionClub = await createClub(hub.admin);
    const member = await enroll(hub, a);
    const ids = async (token: string) => (await hub.gql('{ clubs { id } }', {}, token)).data.clubs.map((c: { id: string }) => c.id);
    expect(await ids(a.token)).toEqual(expect.arrayContaining([aClub.id, coalitionClub.id]));
    expect(await ids(a.token)).not.toContain(bClub.id);
    expect(await ids(hub.admin)).toEqual(expect.arrayContaining([aClub.id, bClub.id, coalitionClub.id]));
    expect(await ids(member.token)).toEqual(expect.arrayContaining([aClub.id, bClub.id, coalitionClub.id]));
    const low = await hub.gql(CREATE_CLUB, { input: { name: 'x', earnMultiplier: '0.5', membershipDays: 30 } }, a.token);
    expect(low.data.createClub.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'earnMultiplier'] }]);
  });

  it('CreatePromotionInput.clubs is stored and shown (coalition or the partner’s own clubs; others NOT_FOUND)', async () => {
    const a = await createPartner(hub);
    const b = await createPartner(hub);
    const aClub = await createClub(a.token);
    const bClub = await createClub(b.token);
    const window = { startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + DAY).toISOString() };
    const create = 'mutation($input: CreatePromotionInput!) { createPromotion(input: $input) { promotion { clubs } userErrors { code field } } }';
    const ok = await hub.gql(create, { input: { partnerId: a.id, name: 'Club early access', multiplier: '2', clubs: [aClub.id], ...window } }, hub.admin);
    expect(ok.data.createPromotion).toEqual({ promotion: { clubs: [aClub.id] }, userErrors: [] });
    const other = await hub.gql(create, { input: { partnerId: a.id, name: 'Wrong club', multiplier: '2', clubs: [bClub.id], ...window } }, hub.admin);
    expect(other.data.createPromotion).toEqual({ promotion: null, userErrors: [{ code: 'NOT_FOUND', field: ['input', 'clubs', '0'] }] });
  });
});

describe('audit', () => {
  it('reward.created, reward.updated, club.created and club.membershipGranted are recorded with actor and subject; a replayed grant adds no entry', async () => {
    const shop = await createPartner(hub);
    const club = await createClub(shop.token);
    const { reward } = await createReward(shop.token, { pointsPrice: 1000, tiers: ['Gold'] });
    await hub.gql(UPDATE, { input: { rewardId: reward.id, active: false } }, shop.token);
    const member = await enroll(hub, shop);
    const input = { idempotencyKey: unique('k'), memberId: member.id, clubId: club.id, paidAmount: '12.00' };
    await hub.gql(GRANT, { input }, shop.token);
    await hub.gql(GRANT, { input }, shop.token);
    const log = await hub.gql(`{ auditLog(first: 100) { edges { node { actor { role id } action subjectType subjectId input } } } }`, {}, shop.token);
    const entries = log.data.auditLog.edges.map((e: { node: unknown }) => e.node)
      .filter((n: { action: string }) => ['reward.created', 'reward.updated', 'club.created', 'club.membershipGranted'].includes(n.action));
    const actor = { role: 'PARTNER', id: shop.id };
    expect(entries).toEqual([
      { actor, action: 'club.membershipGranted', subjectType: 'MEMBER', subjectId: member.id, input: expect.stringContaining('"paidAmount":"12.00"') },
      { actor, action: 'reward.updated', subjectType: 'REWARD', subjectId: reward.id, input: expect.stringContaining('"active":false') },
      { actor, action: 'reward.created', subjectType: 'REWARD', subjectId: reward.id, input: expect.stringContaining('"pointsPrice":1000') },
      { actor, action: 'club.created', subjectType: 'CLUB', subjectId: club.id, input: expect.any(String) },
    ]);
  });
});
