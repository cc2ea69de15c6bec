import { TestHub, startTestHub } from '../support/hub';
import { TestPartner, createPartner, enroll, ledgerCheck, ledgerRowCounts, purchase, unique } from '../support/scenario';

/**
 * Free text (docs/rules.md, Requests and limits, Free text): one guard refuses C0 controls, DEL, C1
 * controls and invisible formatting characters (zero-width, bidirectional, BOM, soft hyphen …) in
 * every `name` and `description` a mutation takes — rewards, clubs, causes, partners, promotions,
 * affiliates, webhook endpoints, coalition tiers — and in product categories, as INVALID_INPUT in userErrors naming the field,
 * and writes nothing; descriptions keep tab, line feed and carriage return. Club and reward input
 * errors (membershipDays 0, an empty name) are userErrors like the rest, not GraphQL errors.
 */
let hub: TestHub;
let partner: TestPartner;

beforeAll(async () => {
  hub = await startTestHub();
  const res = await hub.gql(`mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { userErrors { code message } } }`,
    { input: { name: 'City Rewards', currency: 'EUR', donationValuePerPoint: '0.01' } }, hub.admin);
  expect(res.data.configureCoalition.userErrors).toEqual([]);
  partner = await createPartner(hub);
});
afterAll(() => hub.close());
afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

const TABLES = ['reward', 'club', 'cause', 'partner', 'promotion', 'affiliate', 'webhook_endpoint', 'audit_log'];
async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = (await hub.db.query(`SELECT count(*)::int AS n FROM ${t}`))[0].n;
  return out;
}

const DAY = 86_400_000;
type Case = [string, string, (text: string) => Record<string, unknown>, string[]];
const CASES: Case[] = [
  ['createReward', 'mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code message field } } }',
    (name) => ({ name, pointsPrice: 100 }), ['input', 'name']],
  ['createReward', 'mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code message field } } }',
    (description) => ({ name: 'Coffee', description, pointsPrice: 100 }), ['input', 'description']],
  ['createClub', 'mutation($input: CreateClubInput!) { createClub(input: $input) { club { id } userErrors { code message field } } }',
    (name) => ({ name, earnMultiplier: '1', membershipDays: 30 }), ['input', 'name']],
  ['createCause', 'mutation($input: CreateCauseInput!) { createCause(input: $input) { cause { id } userErrors { code message field } } }',
    (name) => ({ name }), ['input', 'name']],
  ['createPartner', 'mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code message field } } }',
    (name) => ({ code: unique('p'), name, redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' } }), ['input', 'name']],
  ['createAffiliate', 'mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { affiliate { id } userErrors { code message field } } }',
    (name) => ({ name, email: `${unique('a')}@example.com` }), ['input', 'name']],
  ['createWebhookEndpoint', 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } userErrors { code message field } } }',
    (description) => ({ url: 'https://hooks.example.com/x', eventTypes: ['*'], description }), ['input', 'description']],
];
// Categories (earn rules, promotions, purchase lines) are free text too: they show on breakdowns and catalogs.
CASES.push(['createPartner', 'mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code message field } } }',
  (category) => ({ code: unique('p'), name: 'Fuel stop', redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1', categoryMultipliers: [{ category: 'fuel', multiplier: '2' }, { category, multiplier: '3' }] } }),
  ['input', 'earnRule', 'categoryMultipliers', '1', 'category']]);
// Promotions need the partner, created in beforeAll.
const PROMOTION: Case = ['createPromotion', `mutation($input: CreatePromotionInput!) { createPromotion(input: $input) { promotion { id } userErrors { code message field } } }`,
  (name) => ({ partnerId: partner.id, name, startsAt: new Date(Date.now() - DAY).toISOString(), endsAt: new Date(Date.now() + DAY).toISOString(), multiplier: '2' }),
  ['input', 'name']];

const BAD: [string, string, string][] = [
  ['bell, zero-width space and an ANSI escape (the review’s example)', 'bell\u0007\u200B\u001b[31m', 'U+0007 at position 5'],
  ['ESC alone (ANSI colour)', '\u001b[31mred', 'U+001B at position 1'],
  ['DEL', 'a\u007Fb', 'U+007F at position 2'],
  ['a C1 control (NEL)', 'a\u0085b', 'U+0085 at position 2'],
  ['a zero-width joiner', 'Caf\u200De', 'U+200D at position 4'],
  ['a byte-order mark', '\uFEFFShop', 'U+FEFF at position 1'],
  ['a soft hyphen', 'Gift\u00ADcard', 'U+00AD at position 5'],
  ['a right-to-left override', 'Food\u202EknaB', 'U+202E at position 5'],
  ['a Hangul filler', 'Gift\u3164', 'U+3164 at position 5'],
];

const PROMOTION_CATEGORIES: Case = ['createPromotion', PROMOTION[1], (category) => ({ ...PROMOTION[2]('Fuel week'), categories: ['fuel', category] }), ['input', 'categories']];

describe.each([...CASES.map((c) => [c[0], c[3].join('.'), c] as const), ['createPromotion', 'input.name', PROMOTION] as const,
  ['createPromotion', 'input.categories', PROMOTION_CATEGORIES] as const])('%s %s', (_mutation, _field, testCase) => {
  it.each(BAD)('holding %s is INVALID_INPUT naming the field, and nothing is written', async (_why, text, where) => {
    const [mutation, query, input, field] = testCase;
    const before = await counts();
    const res = await hub.gql(query, { input: input(text) }, hub.admin);
    expect(res.errors).toBeUndefined();
    const payload = res.data[mutation];
    expect(payload.userErrors).toEqual([{ code: 'INVALID_INPUT', field, message: expect.stringContaining(where) }]);
    expect(payload.userErrors[0].message).toMatch(new RegExp(`^${field[field.length - 1]} may not contain control characters or invisible formatting characters`));
    expect(Object.entries(payload).filter(([k, v]) => k !== 'userErrors' && v !== null)).toEqual([]);
    expect(await counts()).toEqual(before);
  });
});

it('a tier name in configureCoalition is refused the same way, with its index in the field', async () => {
  const res = await hub.gql(`mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { coalition { name } userErrors { code message field } } }`,
    { input: { name: 'City Rewards', currency: 'EUR', donationValuePerPoint: '0.01', tiers: [{ name: 'Silver', qualifyingPoints: 100, earnMultiplier: '1.5' }, { name: 'Gold\u200B', qualifyingPoints: 500, earnMultiplier: '2' }] } }, hub.admin);
  expect(res.data.configureCoalition).toEqual({ coalition: null,
    userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'tiers', '1', 'name'], message: expect.stringContaining('U+200B at position 5') }] });
  expect((await hub.gql('{ coalition { tiers { name } } }', {}, hub.admin)).data.coalition.tiers).toEqual([]);
});

it('descriptions keep tab, line feed and carriage return (multi-line), names do not', async () => {
  const CREATE = 'mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { name description } userErrors { code message field } } }';
  const ok = await hub.gql(CREATE, { input: { name: 'Two-line reward', description: 'Line one\r\nLine two\twith a tab', pointsPrice: 10, value: '1.00' } }, hub.admin);
  expect(ok.data.createReward).toEqual({ reward: { name: 'Two-line reward', description: 'Line one\r\nLine two\twith a tab' }, userErrors: [] });
  const before = await counts();
  const bad = await hub.gql(CREATE, { input: { name: 'Two\nlines', pointsPrice: 10, value: '1.00' } }, hub.admin);
  expect(bad.data.createReward.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'name'], message: expect.stringContaining('U+000A at position 4') }]);
  expect(await counts()).toEqual(before);
});

it('plain accents, emoji and non-Latin scripts stay allowed', async () => {
  const res = await hub.gql('mutation($input: CreateClubInput!) { createClub(input: $input) { club { name } userErrors { code } } }',
    { input: { name: 'Café Ünïcode 🎁 ❤️ клуб 会员', earnMultiplier: '1', membershipDays: 30 } }, hub.admin);
  expect(res.data.createClub).toEqual({ club: { name: 'Café Ünïcode 🎁 ❤️ клуб 会员' }, userErrors: [] });
});

describe('club and reward input errors are userErrors, not GraphQL errors', () => {
  const CLUB = 'mutation($input: CreateClubInput!) { createClub(input: $input) { club { id } userErrors { code message field } } }';
  const REWARD = 'mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code message field } } }';
  it.each([
    ['createClub membershipDays 0', CLUB, { name: 'Zero days', earnMultiplier: '1', membershipDays: 0 }, 'createClub',
      [{ code: 'INVALID_INPUT', message: 'membershipDays must be from 1 to 36500', field: ['input', 'membershipDays'] }]],
    ['createClub membershipDays -5', CLUB, { name: 'Negative days', earnMultiplier: '1', membershipDays: -5 }, 'createClub',
      [{ code: 'INVALID_INPUT', message: 'membershipDays must be from 1 to 36500', field: ['input', 'membershipDays'] }]],
    ['createClub with an empty name', CLUB, { name: '', earnMultiplier: '1', membershipDays: 30 }, 'createClub',
      [{ code: 'INVALID_INPUT', message: 'name must not be empty', field: ['input', 'name'] }]],
    ['createReward with an empty name', REWARD, { name: '', pointsPrice: 10, value: '1.00' }, 'createReward',
      [{ code: 'INVALID_INPUT', message: 'name must not be empty', field: ['input', 'name'] }]],
  ] as [string, string, Record<string, unknown>, string, unknown[]][])('%s', async (_name, query, input, mutation, userErrors) => {
    const before = await counts();
    const res = await hub.gql(query, { input }, hub.admin);
    expect(res.errors).toBeUndefined();
    expect(res.data[mutation].userErrors).toEqual(userErrors);
    expect(await counts()).toEqual(before);
  });
});

it("a purchase line's category with a control character is INVALID_INPUT naming the line, and nothing is posted; quotePurchase refuses it too", async () => {
  const member = await enroll(hub, partner);
  const before = await ledgerRowCounts(hub);
  const lines = [{ amount: '5.00', category: 'fuel' }, { amount: '5.00', category: 'snacks\u200B' }];
  const payload = await purchase(hub, partner, member, '10.00', { lines });
  expect(payload.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'lines', '1', 'category'], message: expect.stringContaining('U+200B at position 7') }]);
  expect(payload.transaction).toBeNull();
  expect(await ledgerRowCounts(hub)).toEqual(before);
  const quote = await hub.gql('query($input: RecordPurchaseInput!) { quotePurchase(input: $input) { points userErrors { code field } } }',
    { input: { idempotencyKey: unique('k'), memberId: member.id, amount: '10.00', lines } }, partner.token);
  expect(quote.errors).toEqual([expect.objectContaining({ path: ['quotePurchase'], extensions: { code: 'BAD_USER_INPUT' },
    message: 'input.lines.1.category: category may not contain control characters or invisible formatting characters: U+200B at position 7' })]);
});

it('review4: legitimate categories stay allowed: punctuation, emoji sequences joined by U+200D, subdivision flags, Persian and Indic joiners; a stray joiner is still refused', async () => {
  const good = ['Café & Bar', "Kids' toys", 'Kids’ toys', '👩‍🍳 Chef', '🏳️‍🌈 Pride', '👨🏽‍💻 Tech', '🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotch', 'کتاب‌ها', 'क्‍ष'];
  for (const category of good) {
    const res = await hub.gql(PROMOTION[1], { input: PROMOTION_CATEGORIES[2](category) }, hub.admin);
    expect([category, res.data.createPromotion.userErrors]).toEqual([category, []]);
  }
  for (const [category, where] of [['🍕\u200Dx', 'U+200D at position 2'], ['x\u200D🍕', 'U+200D at position 2'], ['🏴\u{E0067}x', 'U+E0067 at position 2'], ['Caf\u200Ce', 'U+200C at position 4']]) {
    const res = await hub.gql(PROMOTION[1], { input: PROMOTION_CATEGORIES[2](category!) }, hub.admin);
    expect(res.data.createPromotion.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'categories'], message: expect.stringContaining(where!) }]);
  }
});
