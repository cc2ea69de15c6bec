import { randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';
import { Role } from '../../src/api/auth';
import { GraphQLResponse, TestHub, startTestHub } from '../support/hub';
import { TestPartner, createPartner, enroll, purchase, unique } from '../support/scenario';

const COALITION_FIELDS = 'name currency currencyExponent donationValuePerPoint tiers { name qualifyingPoints earnMultiplier } referral { refereeBonus referrerBonus milestones { referrals bonus } }';
const CONFIGURE = `mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { coalition { ${COALITION_FIELDS} } userErrors { code message field } } }`;

const EARN_RULE_FIELDS = 'pointsPerUnit minSpend categoryMultipliers { category multiplier } maxPointsPerTransaction maxPointsPerMemberPerDay firstPurchaseBonus everyNthVisit visitBonus pointsValidityDays';
const FULL_PARTNER_FIELDS = `id code name redemptionValuePerPoint earnRule { ${EARN_RULE_FIELDS} } commissionPlan { type rate amount durationDays holdDays }`;
const CREATE_PARTNER = `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { ${FULL_PARTNER_FIELDS} } userErrors { code message field } } }`;
const UPDATE_EARN_RULE = `mutation($input: UpdateEarnRuleInput!) { updateEarnRule(input: $input) { partner { id earnRule { ${EARN_RULE_FIELDS} } } userErrors { code message field } } }`;

function codes(res: GraphQLResponse): (string | undefined)[] {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

async function count(hub: TestHub, table: string): Promise<number> {
  return Number((await hub.db.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);
}

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

describe('configureCoalition', () => {
  // The coalition's settings are global to a database: whether the currency may change depends on
  // whether any purchase exists at all, and tiers apply to every earn. So these tests run on a hub
  // of their own, where no other test posts purchases or depends on the settings they write.
  let settings: TestHub;
  let partner: TestPartner;
  beforeAll(async () => {
    settings = await startTestHub();
    partner = await createPartner(settings);
  });
  afterAll(() => settings.close());

  const validSettings = () => ({
    name: 'Coalition',
    currency: 'EUR',
    donationValuePerPoint: '0.01',
    tiers: [{ name: 'Bronze', qualifyingPoints: 0, earnMultiplier: '1' }, { name: 'Silver', qualifyingPoints: 1000, earnMultiplier: '1.25' }],
    referral: { refereeBonus: 100, referrerBonus: 200, milestones: [{ referrals: 5, bonus: 500 }, { referrals: 10, bonus: 1500 }] },
  });

  it('stores name, currency, donation value, tiers (sorted by qualifyingPoints) and referral settings', async () => {
    const name = unique('Coalition ');
    const res = await settings.gql(CONFIGURE, { input: {
      name,
      currency: 'EUR',
      donationValuePerPoint: '0.015000',
      tiers: [
        { name: 'Gold', qualifyingPoints: 5000, earnMultiplier: '1.50' },
        { name: 'Bronze', qualifyingPoints: 0, earnMultiplier: '1' },
        { name: 'Silver', qualifyingPoints: 1000, earnMultiplier: '1.250000' },
      ],
      referral: { refereeBonus: 100, referrerBonus: 250, milestones: [{ referrals: 5, bonus: 500 }, { referrals: 10, bonus: 1500 }] },
    } }, settings.admin);
    const expected = {
      name,
      currency: 'EUR',
      currencyExponent: 2,
      donationValuePerPoint: '0.015',
      tiers: [
        { name: 'Bronze', qualifyingPoints: 0, earnMultiplier: '1' },
        { name: 'Silver', qualifyingPoints: 1000, earnMultiplier: '1.25' },
        { name: 'Gold', qualifyingPoints: 5000, earnMultiplier: '1.5' },
      ],
      referral: { refereeBonus: 100, referrerBonus: 250, milestones: [{ referrals: 5, bonus: 500 }, { referrals: 10, bonus: 1500 }] },
    };
    expect(res.data.configureCoalition).toEqual({ coalition: expected, userErrors: [] });
    expect((await settings.gql(`{ coalition { ${COALITION_FIELDS} } }`, {}, settings.admin)).data.coalition).toEqual(expected);
    const [row] = await settings.db.query('SELECT name, currency, currency_exponent, donation_value_per_point::text AS dv FROM coalition');
    expect(row).toEqual({ name, currency: 'EUR', currency_exponent: 2, dv: '0.015000' });
  });

  it.each<[string, () => string]>([
    ['ADMIN', () => settings.admin],
    ['PARTNER', () => partner.token],
    ['MEMBER', () => settings.token({ role: Role.MEMBER, memberId: randomUUID() })],
    ['AFFILIATE', () => settings.token({ role: Role.AFFILIATE, affiliateId: randomUUID() })],
  ])('is readable through the coalition query by %s', async (_role, token) => {
    const name = unique('Readable ');
    const configured = await settings.gql(CONFIGURE, { input: { ...validSettings(), name } }, settings.admin);
    expect(configured.data.configureCoalition.userErrors).toEqual([]);
    const res = await settings.gql(`{ coalition { ${COALITION_FIELDS} } }`, {}, token());
    expect(res.errors).toBeUndefined();
    expect(res.data.coalition).toEqual({ ...configured.data.configureCoalition.coalition, name });
  });

  type Settings = ReturnType<typeof validSettings>;
  it.each<[string, (s: Settings) => void, string[]]>([
    ['an unknown currency XXY', (s) => { s.currency = 'XXY'; }, ['input', 'currency']],
    ['a donation value with 7 decimals', (s) => { s.donationValuePerPoint = '0.0000001'; }, ['input', 'donationValuePerPoint']],
    ['a negative donation value', (s) => { s.donationValuePerPoint = '-0.01'; }, ['input', 'donationValuePerPoint']],
    ['two tiers with equal qualifyingPoints', (s) => { s.tiers[1]!.qualifyingPoints = 0; }, ['input', 'tiers', '1', 'qualifyingPoints']],
    ['two tiers with the same name', (s) => { s.tiers[1]!.name = 'Bronze'; }, ['input', 'tiers', '1', 'name']],
    ['a tier earnMultiplier of 0', (s) => { s.tiers[0]!.earnMultiplier = '0'; }, ['input', 'tiers', '0', 'earnMultiplier']],
    ['a negative tier earnMultiplier', (s) => { s.tiers[1]!.earnMultiplier = '-1.25'; }, ['input', 'tiers', '1', 'earnMultiplier']],
    ['a negative refereeBonus', (s) => { s.referral.refereeBonus = -1; }, ['input', 'referral', 'refereeBonus']],
    ['a negative referrerBonus', (s) => { s.referral.referrerBonus = -1; }, ['input', 'referral', 'referrerBonus']],
    ['two milestones at the same referral count', (s) => { s.referral.milestones[1]!.referrals = 5; }, ['input', 'referral', 'milestones', '1', 'referrals']],
  ])('refuses %s with INVALID_INPUT on its field, and changes nothing', async (_name, spoil, field) => {
    const before = await settings.db.query('SELECT * FROM coalition');
    const input = validSettings();
    spoil(input);
    const res = await settings.gql(CONFIGURE, { input: { ...input, name: unique('Spoiled ') } }, settings.admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.configureCoalition.coalition).toBeNull();
    expect(res.data.configureCoalition.userErrors).toEqual([{ code: 'INVALID_INPUT', message: expect.any(String), field }]);
    expect(await settings.db.query('SELECT * FROM coalition')).toEqual(before);
  });

  it('lets the currency change until the first purchase is posted, then refuses it', async () => {
    // The precondition this test is about; nothing else on this hub posts a purchase.
    expect(await count(settings, 'ledger_transaction')).toBe(0);
    for (const [currency, currencyExponent] of [['JPY', 0], ['BHD', 3], ['EUR', 2]] as const) {
      const res = await settings.gql(CONFIGURE, { input: { ...validSettings(), currency } }, settings.admin);
      expect(res.data.configureCoalition.userErrors).toEqual([]);
      expect(res.data.configureCoalition.coalition).toMatchObject({ currency, currencyExponent });
    }

    const member = await enroll(settings, partner);
    expect((await purchase(settings, partner, member, '10.00')).userErrors).toEqual([]);

    const before = await settings.db.query('SELECT * FROM coalition');
    const refused = await settings.gql(CONFIGURE, { input: { ...validSettings(), currency: 'USD' } }, settings.admin);
    expect(refused.data.configureCoalition).toEqual({
      coalition: null,
      userErrors: [{ code: 'INVALID_INPUT', message: expect.any(String), field: ['input', 'currency'] }],
    });
    expect(await settings.db.query('SELECT * FROM coalition')).toEqual(before);

    // The rest of the settings may still change, as long as the currency stays.
    const renamed = await settings.gql(CONFIGURE, { input: { ...validSettings(), name: 'Renamed', currency: 'EUR' } }, settings.admin);
    expect(renamed.data.configureCoalition.userErrors).toEqual([]);
    expect(renamed.data.configureCoalition.coalition).toMatchObject({ name: 'Renamed', currency: 'EUR', currencyExponent: 2 });
  });
});

describe('createPartner', () => {
  const fullInput = () => ({
    code: unique('grocer-'),
    name: 'Green Grocer',
    redemptionValuePerPoint: '0.010000',
    earnRule: {
      pointsPerUnit: '1.500000',
      minSpend: '5.50',
      categoryMultipliers: [{ category: 'organic', multiplier: '2.000' }, { category: 'wine', multiplier: '0.5' }],
      maxPointsPerTransaction: 500,
      maxPointsPerMemberPerDay: 1000,
      firstPurchaseBonus: 50,
      everyNthVisit: 10,
      visitBonus: 100,
      pointsValidityDays: 90,
    },
    commissionPlan: { type: 'PERCENT_OF_SALE', rate: '0.050000', durationDays: 90, holdDays: 30 },
  });

  it('stores the earn rule and commission plan and echoes them back, rates trimmed', async () => {
    const input = fullInput();
    const res = await hub.gql(CREATE_PARTNER, { input }, hub.admin);
    expect(res.data.createPartner.userErrors).toEqual([]);
    const created = res.data.createPartner.partner;
    expect(created).toEqual({
      id: expect.any(String),
      code: input.code,
      name: 'Green Grocer',
      redemptionValuePerPoint: '0.01',
      earnRule: {
        pointsPerUnit: '1.5',
        minSpend: expect.any(String),
        categoryMultipliers: [{ category: 'organic', multiplier: '2' }, { category: 'wine', multiplier: '0.5' }],
        maxPointsPerTransaction: 500,
        maxPointsPerMemberPerDay: 1000,
        firstPurchaseBonus: 50,
        everyNthVisit: 10,
        visitBonus: 100,
        pointsValidityDays: 90,
      },
      commissionPlan: { type: 'PERCENT_OF_SALE', rate: '0.05', amount: null, durationDays: 90, holdDays: 30 },
    });
    // minSpend is an amount of money, not a rate: the contract fixes its value, not its scale ("5.5" or "5.50").
    expect(new Decimal(created.earnRule.minSpend).equals('5.5')).toBe(true);

    // Stored, not only echoed: read back as the operator and as the partner itself.
    const asAdmin = await hub.gql(`query($id: ID!) { partner(id: $id) { ${FULL_PARTNER_FIELDS} } }`, { id: created.id }, hub.admin);
    expect(asAdmin.data.partner).toEqual(created);
    const asItself = await hub.gql(`{ myPartner { ${FULL_PARTNER_FIELDS} } }`, {}, hub.token({ role: Role.PARTNER, partnerId: created.id }));
    expect(asItself.data.myPartner).toEqual(created);
    const [row] = await hub.db.query('SELECT code, redemption_value_per_point::text AS rv, earn_rule, commission_plan FROM partner WHERE id = $1', [created.id]);
    expect(row).toMatchObject({ code: input.code, rv: '0.010000', earn_rule: { pointsPerUnit: '1.5', pointsValidityDays: 90 }, commission_plan: { type: 'PERCENT_OF_SALE', rate: '0.05', holdDays: 30 } });
  });

  it('defaults pointsValidityDays to 365, leaves the optional limits null and the commission plan absent', async () => {
    const res = await hub.gql(CREATE_PARTNER, { input: { code: unique('plain-'), name: 'Plain', redemptionValuePerPoint: '0.005', earnRule: { pointsPerUnit: '2' } } }, hub.admin);
    expect(res.data.createPartner.userErrors).toEqual([]);
    expect(res.data.createPartner.partner).toMatchObject({
      redemptionValuePerPoint: '0.005',
      earnRule: { pointsPerUnit: '2', minSpend: null, categoryMultipliers: [], maxPointsPerTransaction: null, maxPointsPerMemberPerDay: null,
        firstPurchaseBonus: null, everyNthVisit: null, visitBonus: null, pointsValidityDays: 365 },
      commissionPlan: null,
    });
  });

  it('stores a FIXED_FIRST_PURCHASE plan with its amount and lifetime attribution', async () => {
    const res = await hub.gql(CREATE_PARTNER, { input: { code: unique('fixed-'), name: 'Fixed', redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' },
      commissionPlan: { type: 'FIXED_FIRST_PURCHASE', amount: '2.50', holdDays: 0 } } }, hub.admin);
    expect(res.data.createPartner.userErrors).toEqual([]);
    const plan = res.data.createPartner.partner.commissionPlan;
    expect(plan).toEqual({ type: 'FIXED_FIRST_PURCHASE', rate: null, amount: expect.any(String), durationDays: null, holdDays: 0 });
    expect(new Decimal(plan.amount).equals('2.5')).toBe(true);
  });

  type PartnerInput = ReturnType<typeof fullInput>;
  it.each<[string, (p: PartnerInput) => void, string[]]>([
    ['a negative pointsPerUnit', (p) => { p.earnRule.pointsPerUnit = '-1'; }, ['input', 'earnRule', 'pointsPerUnit']],
    ['a pointsPerUnit with 7 decimals', (p) => { p.earnRule.pointsPerUnit = '1.0000001'; }, ['input', 'earnRule', 'pointsPerUnit']],
    ['pointsValidityDays 0', (p) => { p.earnRule.pointsValidityDays = 0; }, ['input', 'earnRule', 'pointsValidityDays']],
    ['everyNthVisit without visitBonus', (p) => { delete (p.earnRule as Partial<PartnerInput['earnRule']>).visitBonus; }, ['input', 'earnRule', 'everyNthVisit']],
    ['the same category twice', (p) => { p.earnRule.categoryMultipliers[1]!.category = 'organic'; }, ['input', 'earnRule', 'categoryMultipliers', '1', 'category']],
    ['the same category twice, in another case (" Organic")', (p) => { p.earnRule.categoryMultipliers[1]!.category = ' Organic'; }, ['input', 'earnRule', 'categoryMultipliers', '1', 'category']],
    // A multiplier of 0 is allowed (it excludes the category from earning); below 0 is not.
    ['a negative category multiplier', (p) => { p.earnRule.categoryMultipliers[0]!.multiplier = '-0.5'; }, ['input', 'earnRule', 'categoryMultipliers', '0', 'multiplier']],
    ['a PERCENT_OF_SALE rate above 1', (p) => { p.commissionPlan.rate = '1.5'; }, ['input', 'commissionPlan', 'rate']],
    ['a PERCENT_OF_SALE plan without a rate', (p) => { delete (p.commissionPlan as Partial<PartnerInput['commissionPlan']>).rate; }, ['input', 'commissionPlan', 'rate']],
    ['a FIXED_FIRST_PURCHASE plan without an amount', (p) => { p.commissionPlan.type = 'FIXED_FIRST_PURCHASE'; delete (p.commissionPlan as Partial<PartnerInput['commissionPlan']>).rate; },
      ['input', 'commissionPlan', 'amount']],
    ['negative holdDays', (p) => { p.commissionPlan.holdDays = -1; }, ['input', 'commissionPlan', 'holdDays']],
    ['a negative redemptionValuePerPoint', (p) => { p.redemptionValuePerPoint = '-0.01'; }, ['input', 'redemptionValuePerPoint']],
  ])('refuses %s with INVALID_INPUT on its field, and writes no partner', async (_name, spoil, field) => {
    const partnersBefore = await count(hub, 'partner');
    const input = fullInput();
    spoil(input);
    const res = await hub.gql(CREATE_PARTNER, { input }, hub.admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.createPartner).toEqual({ partner: null, userErrors: [{ code: 'INVALID_INPUT', message: expect.any(String), field }] });
    expect(await count(hub, 'partner')).toBe(partnersBefore);
  });

  // The length is checked by class-validator on the input type (a GraphQL error, BAD_USER_INPUT); the
  // shape by the service, as a userError. Upper case is accepted now (issue 9, item 12: "GROCER").
  it.each([['Bad Code!'], ['a'], ['-leading-dash'], ['x'.repeat(41)]])('refuses the code %j (BAD_USER_INPUT when over 40 characters, else INVALID_INPUT on input.code) and writes no partner', async (code) => {
    const partnersBefore = await count(hub, 'partner');
    const res = await hub.gql(CREATE_PARTNER, { input: { ...fullInput(), code } }, hub.admin);
    if (code.length > 40) {
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.data).toBeNull();
    } else {
      expect(res.data.createPartner).toEqual({ partner: null, userErrors: [{ code: 'INVALID_INPUT', message: expect.any(String), field: ['input', 'code'] }] });
    }
    expect(await count(hub, 'partner')).toBe(partnersBefore);
  });

  it('refuses a code already taken with INVALID_INPUT on input.code, leaving the first partner as it was', async () => {
    const first = await hub.gql(CREATE_PARTNER, { input: fullInput() }, hub.admin);
    const taken = first.data.createPartner.partner;
    const partnersBefore = await count(hub, 'partner');
    const res = await hub.gql(CREATE_PARTNER, { input: { ...fullInput(), code: taken.code, name: 'Impostor' } }, hub.admin);
    expect(res.data.createPartner).toEqual({ partner: null, userErrors: [{ code: 'INVALID_INPUT', message: expect.any(String), field: ['input', 'code'] }] });
    expect(await count(hub, 'partner')).toBe(partnersBefore);
    expect((await hub.gql('query($id: ID!) { partner(id: $id) { name } }', { id: taken.id }, hub.admin)).data.partner.name).toBe('Green Grocer');
  });

  it('creates one partner when the same new code arrives five times at once', async () => {
    const code = unique('race-');
    const results = await Promise.all(Array.from({ length: 5 }, () => hub.gql(CREATE_PARTNER, { input: { ...fullInput(), code } }, hub.admin)));
    const payloads = results.map((r) => r.data.createPartner);
    expect(payloads.filter((p) => p.partner !== null)).toHaveLength(1);
    for (const refused of payloads.filter((p) => p.partner === null)) {
      expect(refused.userErrors).toEqual([{ code: 'INVALID_INPUT', message: expect.any(String), field: ['input', 'code'] }]);
    }
    expect((await hub.db.query('SELECT count(*)::int AS n FROM partner WHERE code = $1', [code]))[0].n).toBe(1);
  });
});

describe('updateEarnRule', () => {
  it('changes the rule the next purchase earns under; earlier purchases keep their points', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1' });
    const member = await enroll(hub, partner);
    const before = await purchase(hub, partner, member, '10.00');
    expect(before.transaction.points).toBe(10);

    const res = await hub.gql(UPDATE_EARN_RULE, { input: { partnerId: partner.id, earnRule: { pointsPerUnit: '2.500', pointsValidityDays: 30 } } }, hub.admin);
    expect(res.data.updateEarnRule.userErrors).toEqual([]);
    expect(res.data.updateEarnRule.partner).toMatchObject({ id: partner.id, earnRule: { pointsPerUnit: '2.5', pointsValidityDays: 30 } });

    const after = await purchase(hub, partner, member, '10.00');
    expect(after.transaction.points).toBe(25);
    expect(after.member.balance).toBe(35);
    const [first] = await hub.db.query('SELECT points FROM ledger_transaction WHERE member_id = $1 ORDER BY posted_at, id LIMIT 1', [member.id]);
    expect(Number(first.points)).toBe(10);
    const read = await hub.gql('query($id: ID!) { partner(id: $id) { earnRule { pointsPerUnit pointsValidityDays } } }', { id: partner.id }, hub.admin);
    expect(read.data.partner.earnRule).toEqual({ pointsPerUnit: '2.5', pointsValidityDays: 30 });
  });

  it.each([
    ['an id no partner has', () => randomUUID()],
    ['an id that is not a uuid', () => 'no-such-partner'],
  ])('answers NOT_FOUND on input.partnerId for %s', async (_name, partnerId) => {
    const res = await hub.gql(UPDATE_EARN_RULE, { input: { partnerId: partnerId(), earnRule: { pointsPerUnit: '3' } } }, hub.admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.updateEarnRule).toEqual({ partner: null, userErrors: [{ code: 'NOT_FOUND', message: expect.any(String), field: ['input', 'partnerId'] }] });
  });

  it('refuses an invalid rule with INVALID_INPUT and keeps the old one', async () => {
    const partner = await createPartner(hub, { pointsPerUnit: '1.25' });
    const res = await hub.gql(UPDATE_EARN_RULE, { input: { partnerId: partner.id, earnRule: { pointsPerUnit: '-2' } } }, hub.admin);
    expect(res.data.updateEarnRule).toEqual({ partner: null, userErrors: [{ code: 'INVALID_INPUT', message: expect.any(String), field: ['input', 'earnRule', 'pointsPerUnit'] }] });
    const read = await hub.gql('query($id: ID!) { partner(id: $id) { earnRule { pointsPerUnit } } }', { id: partner.id }, hub.admin);
    expect(read.data.partner.earnRule.pointsPerUnit).toBe('1.25');
  });
});

describe('partners (connection)', () => {
  const PAGE = 'query($first: Int, $after: String) { partners(first: $first, after: $after) { edges { cursor node { id code } } pageInfo { hasNextPage endCursor } totalCount } }';

  it('pages through every partner once, with totalCount and hasNextPage/endCursor', async () => {
    for (let i = 0; i < 5; i++) await createPartner(hub);
    const all: string[] = (await hub.db.query('SELECT id FROM partner ORDER BY id')).map((r: { id: string }) => r.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 1; ; pages++) {
      expect(pages).toBeLessThanOrEqual(all.length);
      const res: GraphQLResponse = await hub.gql(PAGE, { first: 2, after }, hub.admin);
      expect(res.errors).toBeUndefined();
      const page = res.data.partners;
      expect(page.totalCount).toBe(all.length);
      seen.push(...page.edges.map((e: { node: { id: string } }) => e.node.id));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) break;
      expect(page.edges).toHaveLength(2);
      after = page.pageInfo.endCursor;
    }
    expect([...seen].sort()).toEqual([...all].sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('gives at most 100 a page, and every partner when asked for 100', async () => {
    const res = await hub.gql(PAGE, { first: 100 }, hub.admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.partners.edges).toHaveLength(Math.min(100, res.data.partners.totalCount));
  });

  it.each([[0], [101], [-1]])('refuses first: %i as BAD_USER_INPUT', async (first) => {
    const res = await hub.gql(PAGE, { first }, hub.admin);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.data).toBeNull();
  });

  it.each([
    ['garbage', 'garbage'],
    ['base64 of an object', Buffer.from('{"id":1}').toString('base64url')],
    ['a cursor of another shape', Buffer.from('["a","b"]').toString('base64url')],
    ['a cursor whose key is not an id', Buffer.from('["not-a-uuid"]').toString('base64url')],
  ])('refuses an after cursor that is %s as BAD_USER_INPUT', async (_name, after) => {
    const res = await hub.gql(PAGE, { first: 2, after }, hub.admin);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.data).toBeNull();
  });
});

describe('partner(id)', () => {
  const PARTNER = 'query($id: ID!) { partner(id: $id) { id code } }';

  it('shows the operator any partner, and null for an unknown id', async () => {
    const a = await createPartner(hub);
    const b = await createPartner(hub);
    for (const p of [a, b]) expect((await hub.gql(PARTNER, { id: p.id }, hub.admin)).data.partner).toEqual({ id: p.id, code: p.code });
    expect((await hub.gql(PARTNER, { id: randomUUID() }, hub.admin)).data.partner).toBeNull();
    expect((await hub.gql(PARTNER, { id: 'no-such-partner' }, hub.admin)).data.partner).toBeNull();
  });

  it('shows a partner itself, and null for another partner', async () => {
    const a = await createPartner(hub);
    const b = await createPartner(hub);
    const own = await hub.gql(PARTNER, { id: a.id }, a.token);
    expect(own.errors).toBeUndefined();
    expect(own.data.partner).toEqual({ id: a.id, code: a.code });
    const other = await hub.gql(PARTNER, { id: b.id }, a.token);
    expect(other.errors).toBeUndefined();
    expect(other.data.partner).toBeNull();
  });
});

describe('myPartner', () => {
  const MEMBERS = 'query($first: Int, $after: String) { myPartner { members(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } totalCount } } }';
  const TRANSACTIONS = '{ myPartner { transactions { edges { node { id type points partnerId memberId } } totalCount } } }';
  const ENROLL = 'mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id } created userErrors { code } } }';

  it('returns the calling partner', async () => {
    const partner = await createPartner(hub);
    const res = await hub.gql('{ myPartner { id code name } }', {}, partner.token);
    expect(res.data.myPartner).toEqual({ id: partner.id, code: partner.code, name: `Partner ${partner.code}` });
  });

  it('lists only the members linked to it, newest link first', async () => {
    const a = await createPartner(hub);
    const b = await createPartner(hub);
    const first = await enroll(hub, a);
    const sharedEmail = `${unique('shared')}@example.com`;
    const shared = await enroll(hub, b, { email: sharedEmail });
    const third = await enroll(hub, a);
    const onlyAtB = await enroll(hub, b);
    // a links the member b enrolled, by its email: the newest link at a.
    const linked = await hub.gql(ENROLL, { input: { email: sharedEmail } }, a.token);
    expect(linked.data.enrollMember).toEqual({ member: { id: shared.id }, created: false, userErrors: [] });

    const atA = (await hub.gql(MEMBERS, {}, a.token)).data.myPartner.members;
    expect(atA.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([shared.id, third.id, first.id]);
    expect(atA.totalCount).toBe(3);
    expect(atA.pageInfo.hasNextPage).toBe(false);
    const atB = (await hub.gql(MEMBERS, {}, b.token)).data.myPartner.members;
    expect(atB.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([onlyAtB.id, shared.id]);
    expect(atB.totalCount).toBe(2);

    // The same list, a page at a time.
    const page1 = (await hub.gql(MEMBERS, { first: 2 }, a.token)).data.myPartner.members;
    expect(page1.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([shared.id, third.id]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await hub.gql(MEMBERS, { first: 2, after: page1.pageInfo.endCursor }, a.token)).data.myPartner.members;
    expect(page2.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([first.id]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
  });

  it.each([
    ['members', 'garbage', 'garbage'],
    ['members', 'a cursor whose keys are not a time and an id', Buffer.from('["not-a-time","not-a-uuid"]').toString('base64url')],
    ['transactions', 'garbage', 'garbage'],
    ['transactions', 'a cursor whose keys are not ids', Buffer.from('["not-a-uuid","not-a-uuid"]').toString('base64url')],
  ])('refuses a %s after cursor that is %s as BAD_USER_INPUT', async (list, _name, after) => {
    const partner = await createPartner(hub);
    const res = await hub.gql(`query($after: String) { myPartner { ${list}(first: 2, after: $after) { totalCount } } }`, { after }, partner.token);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('lists only the transactions it posted, newest first', async () => {
    const a = await createPartner(hub, { pointsPerUnit: '1' });
    const b = await createPartner(hub, { pointsPerUnit: '3' });
    const sharedEmail = `${unique('shared')}@example.com`;
    const member = await enroll(hub, a, { email: sharedEmail });
    await enroll(hub, b, { email: sharedEmail });
    const atA1 = await purchase(hub, a, member, '10.00');
    const atB = await purchase(hub, b, member, '10.00');
    const atA2 = await purchase(hub, a, member, '20.00');

    const mine = (await hub.gql(TRANSACTIONS, {}, a.token)).data.myPartner.transactions;
    expect(mine.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { id: atA2.transaction.id, type: 'PURCHASE', points: 20, partnerId: a.id, memberId: member.id },
      { id: atA1.transaction.id, type: 'PURCHASE', points: 10, partnerId: a.id, memberId: member.id },
    ]);
    expect(mine.totalCount).toBe(2);
    const theirs = (await hub.gql(TRANSACTIONS, {}, b.token)).data.myPartner.transactions;
    expect(theirs.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([atB.transaction.id]);
    expect(theirs.totalCount).toBe(1);
  });
});
