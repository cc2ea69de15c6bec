import { TestHub, startTestHub } from '../support/hub';
import { TestMember, TestPartner, createPartner, enroll, ledgerCheck, purchase, unique } from '../support/scenario';

/**
 * A partner sees only its own business through a member it shares with another partner
 * (docs/rules.md, Member view for partners): Member.clubs shows a partner the coalition clubs and
 * its own (not another partner's club or what was paid for it), Member.pendingLots only the lots it
 * issued (pendingPoints stays the member's total, as balance does), Member.nextReward only its own
 * rewards (so another partner's club-only reward does not reveal that membership). The operator and
 * the member itself see everything.
 */
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub();
  const res = await hub.gql(`mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { userErrors { code message } } }`,
    { input: { name: 'City Rewards', currency: 'EUR', donationValuePerPoint: '0.01' } }, hub.admin);
  expect(res.data.configureCoalition.userErrors).toEqual([]);
});
afterAll(() => hub.close());
afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

const CREATE_CLUB = `mutation($input: CreateClubInput!) { createClub(input: $input) { club { id name } userErrors { code message field } } }`;
const GRANT = `mutation($input: GrantClubMembershipInput!) { grantClubMembership(input: $input) { membership { club { id } } userErrors { code message field } } }`;
const VIEW = `query($id: ID!) { member(id: $id) { balance pendingPoints clubs { club { name partner { name } } paidAmount { amount } source }
  pendingLots { points availableAt } nextReward { reward { id } pointsNeeded } } }`;

async function club(token: string, name: string, input: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  const res = await hub.gql(CREATE_CLUB, { input: { name, membershipDays: 30, earnMultiplier: '1', ...input } }, token);
  expect(res.data.createClub.userErrors).toEqual([]);
  return res.data.createClub.club;
}

async function grant(token: string, member: TestMember, clubId: string, paidAmount: string): Promise<void> {
  const res = await hub.gql(GRANT, { input: { idempotencyKey: unique('g'), memberId: member.id, clubId, paidAmount } }, token);
  expect(res.data.grantClubMembership.userErrors).toEqual([]);
}

async function reward(token: string, input: Record<string, unknown>): Promise<string> {
  const res = await hub.gql('mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code message } } }',
    { input: { name: unique('Reward '), ...input } }, token);
  expect(res.data.createReward.userErrors).toEqual([]);
  return res.data.createReward.reward.id;
}

describe('a member shared by two partners', () => {
  let a: TestPartner;
  let b: TestPartner;
  let member: TestMember;
  let names: { coalition: string; a: string; b: string };
  let aReward: string;
  let bReward: string;

  beforeAll(async () => {
    a = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 14 });
    b = await createPartner(hub, { pointsPerUnit: '1', pendingDays: 30 });
    const email = `${unique('m')}@example.com`;
    member = await enroll(hub, a, { email });
    await enroll(hub, b, { email });
    names = { coalition: unique('A0 coalition '), a: unique('A1 club of A '), b: unique('A2 club of B ') };
    const coalitionClub = await club(hub.admin, names.coalition);
    const aClub = await club(a.token, names.a);
    const bClub = await club(b.token, names.b);
    await grant(hub.admin, member, coalitionClub.id, '10.00');
    await grant(a.token, member, aClub.id, '49.00');
    await grant(b.token, member, bClub.id, '5.00');
    await purchase(hub, a, member, '70.00'); // 70 points pending 14 days, issued by A
    await purchase(hub, b, member, '20.00'); // 20 points pending 30 days, issued by B
    aReward = await reward(a.token, { pointsPrice: 100, clubs: [aClub.id] });
    bReward = await reward(b.token, { pointsPrice: 500 });
  });

  const view = async (token: string) => {
    const res = await hub.gql(VIEW, { id: member.id }, token);
    expect(res.errors).toBeUndefined();
    return res.data.member;
  };
  const clubNames = (m: { clubs: { club: { name: string } }[] }) => m.clubs.map((c) => c.club.name);

  it('partner B sees the coalition club and its own club only, not A’s club nor what was paid for it', async () => {
    const seen = await view(b.token);
    expect(seen.clubs).toEqual([
      { club: { name: names.coalition, partner: null }, paidAmount: { amount: '10.00' }, source: 'PAID' },
      { club: { name: names.b, partner: { name: `Partner ${b.code}` } }, paidAmount: { amount: '5.00' }, source: 'PAID' },
    ]);
    expect(clubNames(await view(a.token))).toEqual([names.coalition, names.a]);
  });

  it('partner B sees only the pending lot it issued; pendingPoints stays the member’s total (90)', async () => {
    const seen = await view(b.token);
    expect(seen.pendingPoints).toBe(90);
    expect(seen.pendingLots.map((l: { points: number }) => l.points)).toEqual([20]);
    expect((await view(a.token)).pendingLots.map((l: { points: number }) => l.points)).toEqual([70]);
  });

  it('nextReward for a partner is among its own rewards: B is not shown A’s club-only reward', async () => {
    expect((await view(b.token)).nextReward).toEqual({ reward: { id: bReward }, pointsNeeded: 500 });
    expect((await view(a.token)).nextReward).toEqual({ reward: { id: aReward }, pointsNeeded: 100 });
  });

  it('the operator and the member itself see every club, every pending lot and the cheapest reward of all', async () => {
    for (const token of [hub.admin, member.token]) {
      const seen = token === member.token ? (await hub.gql(`{ me { pendingPoints clubs { club { name } } pendingLots { points } nextReward { reward { id } } } }`, {}, token)).data.me
        : await view(token);
      expect(clubNames(seen)).toEqual([names.coalition, names.a, names.b]);
      expect(seen.pendingPoints).toBe(90);
      expect(seen.pendingLots.map((l: { points: number }) => l.points)).toEqual([70, 20]);
      expect(seen.nextReward.reward.id).toBe(aReward);
    }
  });
});
