import 'reflect-metadata';
import { resolve } from 'node:path';
import { Role, signToken } from '../api/auth';
import { resolveJwtSecret } from '../config';

/**
 * npm run demo [-- URL]: seeds a RUNNING hub through its own GraphQL API with a small coalition
 * (3 partners, 20 members, a month of purchases, redemptions, a refund, a cause with donations,
 * an affiliate) and prints a token per role.
 *
 * Running it again is safe: partners are found by code, members by e-mail, the cause, campaign,
 * promotion and affiliate by name, and every posting carries an idempotency key and the same input
 * (its dates count back from when the demo partners were created), so a second run posts nothing.
 * Once the first seeding is more than a day old, a run only issues fresh tokens for the data there.
 */

const DAY_MS = 24 * 3600 * 1000;
/** Purchases go back at most this many days from the first seeding. */
const HISTORY_DAYS = 27;
/** A re-run within this long of the first seeding replays it; after that it only prints tokens. */
const REPLAY_WINDOW_MS = DAY_MS;
const TOKEN_TTL_SECONDS = 12 * 3600;
export const DEFAULT_HUB_URL = 'http://localhost:4000/graphql';

/** A failure the user can act on: printed as one sentence, no stack trace. */
export class DemoError extends Error {}

interface PartnerPlan {
  code: string;
  name: string;
  redemptionValuePerPoint: string;
  earnRule: Record<string, unknown>;
  commissionPlan?: Record<string, unknown>;
  /** Purchase amounts in minor units, [min, max]. */
  spend: [number, number];
}

const COALITION = {
  name: 'City Rewards',
  currency: 'EUR',
  donationValuePerPoint: '0.01',
  tiers: [
    { name: 'Silver', qualifyingPoints: 300, earnMultiplier: '1.25' },
    { name: 'Gold', qualifyingPoints: 1000, earnMultiplier: '1.5' },
  ],
  referral: { refereeBonus: 100, referrerBonus: 200, minimumPurchase: '10.00', milestones: [{ referrals: 3, bonus: 500 }] },
};

const PARTNERS: PartnerPlan[] = [
  {
    code: 'green-grocer', name: 'Green Grocer', redemptionValuePerPoint: '0.010',
    earnRule: {
      pointsPerUnit: '1', minSpend: '1.00', maxPointsPerTransaction: 1000,
      categoryMultipliers: [{ category: 'organic', multiplier: '2' }],
    },
    commissionPlan: { type: 'PERCENT_OF_SALE', rate: '0.03', holdDays: 14, durationDays: 365 },
    spend: [800, 12000],
  },
  {
    code: 'fuel-stop', name: 'Fuel Stop', redemptionValuePerPoint: '0.008',
    earnRule: { pointsPerUnit: '2', maxPointsPerMemberPerDay: 400, everyNthVisit: 5, visitBonus: 50 },
    spend: [2000, 9000],
  },
  {
    code: 'star-cinema', name: 'Star Cinema', redemptionValuePerPoint: '0.012',
    earnRule: { pointsPerUnit: '1.5', firstPurchaseBonus: 100, pointsValidityDays: 180 },
    commissionPlan: { type: 'FIXED_FIRST_PURCHASE', amount: '2.00', holdDays: 7 },
    spend: [900, 3500],
  },
];

const FIRST_NAMES = ['ann', 'bob', 'carla', 'dev', 'eve', 'farid', 'gina', 'hugo', 'ines', 'jack',
  'kemal', 'lena', 'mo', 'nora', 'omar', 'pia', 'quinn', 'rosa', 'sam', 'tara'];
/** Members 5, 6 and 7 enroll with bob's referral code (his third reaches a milestone), 12 with carla's. */
const REFERRED_BY: Record<number, number> = { 5: 1, 6: 1, 7: 1, 12: 2 };
/** Member 9 enrolls with the affiliate's code; member 3's first grocer purchase carries it. */
const AFFILIATE_MEMBER = 9;
const AFFILIATE_PURCHASE_MEMBER = 3;
/** Member 11 gives 10 % of every purchase to the cause automatically. */
const AUTO_DONOR = 11;
/** member → partner index where it redeems (one it is enrolled at), mostly not the one it earns most at. */
const REDEMPTIONS: [number, number][] = [[0, 2], [2, 0], [4, 2], [12, 1], [16, 2]];
/** member → share of its earned points it donates. */
const DONORS: [number, number][] = [[0, 10], [8, 25], [14, 20]];
/** The member whose token is printed: no referral, no automatic donation, so its balance is the sum of what the demo posted. */
const FEATURED = 0;
const CAUSE = { name: 'City Food Bank', description: 'Meals for families in the city, paid from donated points', goalPoints: 20000 };
const AFFILIATE = { name: 'Urban Deals Blog', email: 'partners@urbandeals.example.com' };
const PROMOTION = { name: 'Organic fortnight', multiplier: '1.5', categories: ['organic'] };

export interface DemoOptions {
  /** The hub's GraphQL endpoint. */
  url: string;
  /** An operator (ADMIN) token the hub accepts. */
  adminToken: string;
  /** Where the report goes, a line at a time (default: stdout). */
  print?: (line: string) => void;
  /** The clock (tests move it to check the tokens-only mode). */
  now?: Date;
}

export interface DemoResult {
  /** 'seeded': first run; 'replayed': nothing new posted; 'tokens-only': seeded more than a day ago. */
  mode: 'seeded' | 'replayed' | 'tokens-only';
  tokens: { operator: string; partners: Record<string, string>; member: string; affiliate: string };
  partnerIds: Record<string, string>;
  member: { id: string; email: string; balance: number };
  affiliate: { id: string; code: string };
  purchases: number;
}

type Json = Record<string, any>;

/** Throttled requests are retried this many times, after the hub's Retry-After. */
const MAX_THROTTLED_RETRIES = 20;

/**
 * One GraphQL request; GraphQL errors and unreachable hubs become DemoErrors. A hub that throttles
 * the caller (HTTP 429) is asked again after its `Retry-After` seconds (1 s when it names none).
 */
export async function graphqlRequest(url: string, token: string | undefined, query: string, variables: Json = {}): Promise<Json> {
  let res: Response;
  for (let attempt = 0; ; attempt++) {
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
    } catch (error) {
      throw new DemoError(`cannot reach the hub at ${url} (${(error as Error).cause ?? (error as Error).message}): start it with npm start, or give its URL (npm run demo -- URL, or HUB_URL)`);
    }
    if (res.status !== 429 || attempt >= MAX_THROTTLED_RETRIES) break;
    await res.arrayBuffer();
    const header = res.headers.get('retry-after');
    const wait = header === null ? 1 : Number(header);
    await new Promise((done) => setTimeout(done, Number.isFinite(wait) && wait >= 0 ? Math.min(wait, 60) * 1000 : 1000));
  }
  const text = await res.text();
  let body: Json;
  try {
    body = JSON.parse(text);
  } catch {
    throw new DemoError(`the hub at ${url} answered HTTP ${res.status} with something that is not GraphQL: ${text.slice(0, 200)}`);
  }
  const errors = body.errors as { message: string; extensions?: { code?: string } }[] | undefined;
  if (errors?.length) {
    if (errors[0]!.extensions?.code === 'UNAUTHENTICATED') {
      throw new DemoError('the hub refused the operator token: run the demo with the same DATA_DIR (or JWT_SECRET) as the hub');
    }
    throw new DemoError(`the hub answered with an error: ${errors.map((e) => e.message).join('; ')}`);
  }
  return body.data as Json;
}

/** The payload's result; a userError stops the demo with its message. */
function ok(payload: Json, what: string): Json {
  const errors = payload.userErrors as { code: string; message: string }[];
  if (errors?.length) throw new DemoError(`${what}: ${errors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
  return payload;
}

/** A small deterministic generator (mulberry32), so every run plans the same purchases. */
function generator(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

/** Minor units (an integer) as a decimal string with two digits, e.g. 1999 → "19.99". */
function money(minor: number): string {
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

interface PlannedPurchase {
  member: number;
  partner: number;
  key: string;
  amount: number;
  lines?: { category: string; amount: string }[];
  minutesBefore: number;
  affiliateCode?: boolean;
}

/** The partners (by index) each member is enrolled at: a home partner, every second one a second, the first two all three. */
function partnersOf(member: number): number[] {
  if (member < 2) return [0, 1, 2];
  const home = member % 3;
  return member % 2 === 0 ? [home, (home + 1) % 3] : [home];
}

/** The month of purchases, the same on every run: 3 to 7 a member, oldest first. */
function planPurchases(): PlannedPurchase[] {
  const rand = generator(20261130);
  const plan: PlannedPurchase[] = [];
  FIRST_NAMES.forEach((_, member) => {
    const count = 3 + rand(5);
    const linked = partnersOf(member);
    for (let i = 0; i < count; i++) {
      // The featured member shops at each of its partners at least once.
      const partner = member === FEATURED && i < 3 ? i : linked[rand(linked.length)]!;
      const [min, max] = PARTNERS[partner]!.spend;
      const amount = min + rand(max - min + 1);
      const p: PlannedPurchase = {
        member, partner, amount, key: `demo-purchase-${member}-${i}`,
        minutesBefore: 30 + rand(HISTORY_DAYS * 24 * 60 - 30),
      };
      if (partner === 0 && rand(3) === 0) {
        const organic = Math.floor(amount * 2 / 5);
        p.lines = [{ category: 'organic', amount: money(organic) }, { category: 'groceries', amount: money(amount - organic) }];
      }
      plan.push(p);
    }
  });
  const first = plan.find((p) => p.member === AFFILIATE_PURCHASE_MEMBER && p.partner === 0);
  if (first) first.affiliateCode = true;
  return plan.sort((a, b) => b.minutesBefore - a.minutesBefore);
}

const PARTNER_FIELDS = 'id code createdAt';

/** Every partner of the hub, by code (the operator's view, page by page). */
async function partnersByCode(url: string, admin: string): Promise<Map<string, Json>> {
  const found = new Map<string, Json>();
  let after: string | null = null;
  for (;;) {
    const data = await graphqlRequest(url, admin, `query($after: String) { partners(first: 100, after: $after) { edges { node { ${PARTNER_FIELDS} } } pageInfo { hasNextPage endCursor } } }`, { after });
    for (const edge of data.partners.edges) found.set(edge.node.code, edge.node);
    if (!data.partners.pageInfo.hasNextPage) return found;
    after = data.partners.pageInfo.endCursor;
  }
}

async function findAffiliate(url: string, admin: string): Promise<Json | undefined> {
  let after: string | null = null;
  for (;;) {
    const data = await graphqlRequest(url, admin, 'query($after: String) { affiliates(first: 100, after: $after) { edges { node { id code name email } } pageInfo { hasNextPage endCursor } } }', { after });
    const hit = data.affiliates.edges.map((e: Json) => e.node).find((a: Json) => a.email === AFFILIATE.email);
    if (hit) return hit;
    if (!data.affiliates.pageInfo.hasNextPage) return undefined;
    after = data.affiliates.pageInfo.endCursor;
  }
}

function emailOf(member: number): string {
  return `${FIRST_NAMES[member]}.demo@example.com`;
}

async function issueToken(url: string, admin: string, role: Role, subjectId: string): Promise<string> {
  const data = await graphqlRequest(url, admin, 'mutation($input: IssueTokenInput!) { issueToken(input: $input) { token userErrors { code message } } }',
    { input: { role, subjectId, ttlSeconds: TOKEN_TTL_SECONDS } });
  return ok(data.issueToken, `issueToken ${role}`).token as string;
}

/**
 * Seeds the hub at options.url (or, when it was seeded more than a day ago, only issues tokens) and
 * prints a token per role, the GraphiQL URL and a few curl lines. Throws DemoError on anything the
 * user can fix (hub down, wrong secret, a refused input).
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { url, adminToken: admin } = options;
  const print = options.print ?? ((line: string) => console.log(line));
  const now = options.now ?? new Date();
  const call = (token: string, query: string, variables?: Json) => graphqlRequest(url, token, query, variables);

  const existing = await partnersByCode(url, admin);
  const demoPartners = PARTNERS.map((p) => existing.get(p.code)).filter((p): p is Json => p !== undefined);
  const seededAt = demoPartners.length ? new Date(Math.min(...demoPartners.map((p) => Date.parse(p.createdAt)))) : undefined;
  const tokensOnly = seededAt !== undefined && now.getTime() - seededAt.getTime() > REPLAY_WINDOW_MS;
  let mode: DemoResult['mode'] = seededAt ? (tokensOnly ? 'tokens-only' : 'replayed') : 'seeded';
  if (tokensOnly && demoPartners.length < PARTNERS.length) {
    throw new DemoError(`this hub has some of the demo partners (created ${seededAt!.toISOString()}) but not all: it was seeded only in part too long ago to finish; use a fresh DATA_DIR`);
  }

  // The coalition, then the partners (found by code, else created).
  if (!tokensOnly) {
    ok((await call(admin, 'mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { coalition { name } userErrors { code message } } }',
      { input: COALITION })).configureCoalition, 'configureCoalition');
  }
  const partners: Json[] = [];
  for (const plan of PARTNERS) {
    let partner = existing.get(plan.code);
    if (!partner) {
      const { spend: _spend, ...input } = plan;
      partner = ok((await call(admin, `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { ${PARTNER_FIELDS} } userErrors { code message } } }`,
        { input })).createPartner, `createPartner ${plan.code}`).partner as Json;
    }
    partners.push({ ...partner, token: await issueToken(url, admin, Role.PARTNER, partner.id) });
  }
  // Dates count back from the first seeding, so a replay sends exactly the same inputs.
  const anchor = seededAt ?? new Date(Math.min(...partners.map((p) => Date.parse(p.createdAt))));

  let affiliate = await findAffiliate(url, admin);
  if (!affiliate) {
    if (tokensOnly) throw new DemoError('this hub was seeded by the demo only in part (no demo affiliate): use a fresh DATA_DIR');
    affiliate = ok((await call(admin, 'mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { affiliate { id code } userErrors { code message } } }',
      { input: AFFILIATE })).createAffiliate, 'createAffiliate').affiliate as Json;
  }

  const featuredTransactions: number[] = [];
  let purchases = 0;
  let memberIds: string[] = [];
  if (tokensOnly) {
    const found = (await call(admin, 'query($email: String) { memberByIdentifier(email: $email) { id } }', { email: emailOf(FEATURED) })).memberByIdentifier;
    if (!found) throw new DemoError('this hub was seeded by the demo only in part (no demo members): use a fresh DATA_DIR');
    memberIds[FEATURED] = found.id;
  } else {
    const seed = await seedActivity(url, admin, partners, affiliate, anchor, featuredTransactions);
    memberIds = seed.memberIds;
    purchases = seed.purchases;
    if (mode === 'replayed' && seed.created > 0) mode = 'seeded'; // an interrupted first run, finished now
  }

  const featuredId = memberIds[FEATURED]!;
  const memberToken = await issueToken(url, admin, Role.MEMBER, featuredId);
  const affiliateToken = await issueToken(url, admin, Role.AFFILIATE, affiliate.id);
  const balance = tokensOnly
    ? ((await call(memberToken, '{ me { balance } }')).me.balance as number)
    : featuredTransactions.reduce((sum, points) => sum + points, 0);

  const partnerTokens = Object.fromEntries(partners.map((p) => [p.code, p.token as string]));
  const result: DemoResult = {
    mode,
    tokens: { operator: admin, partners: partnerTokens, member: memberToken, affiliate: affiliateToken },
    partnerIds: Object.fromEntries(partners.map((p) => [p.code, p.id as string])),
    member: { id: featuredId, email: emailOf(FEATURED), balance },
    affiliate: { id: affiliate.id, code: affiliate.code },
    purchases,
  };
  report(print, url, result, anchor, featuredTransactions);
  return result;
}

interface SeedOutcome {
  memberIds: string[];
  purchases: number;
  /** Members created by this run (0 on a replay). */
  created: number;
}

/** Members, the cause and its campaign, the purchases, the refund, redemptions and donations. */
async function seedActivity(url: string, admin: string, partners: Json[], affiliate: Json, anchor: Date,
  featuredTransactions: number[]): Promise<SeedOutcome> {
  const call = (token: string, query: string, variables?: Json) => graphqlRequest(url, token, query, variables);
  const at = (ms: number) => new Date(anchor.getTime() + ms).toISOString();

  // A promotion at the grocer over the month (found by name on a re-run).
  const promotions = (await call(admin, 'query($id: ID!) { partner(id: $id) { promotions { name } } }', { id: partners[0]!.id })).partner.promotions as Json[];
  if (!promotions.some((p) => p.name === PROMOTION.name)) {
    ok((await call(admin, 'mutation($input: CreatePromotionInput!) { createPromotion(input: $input) { promotion { id } userErrors { code message } } }',
      { input: { ...PROMOTION, partnerId: partners[0]!.id, startsAt: at(-14 * DAY_MS), endsAt: at(14 * DAY_MS) } })).createPromotion, 'createPromotion');
  }

  // The cause, and the fuel station matching donations to it.
  const causes = (await call(admin, '{ causes { id name } }')).causes as Json[];
  let cause = causes.find((c) => c.name === CAUSE.name);
  if (!cause) {
    cause = ok((await call(admin, 'mutation($input: CreateCauseInput!) { createCause(input: $input) { cause { id name } userErrors { code message } } }',
      { input: CAUSE })).createCause, 'createCause').cause as Json;
  }
  const campaigns = (await call(admin, 'query($id: ID!) { matchingCampaigns(causeId: $id) { partnerId } }', { id: cause.id })).matchingCampaigns as Json[];
  if (!campaigns.some((c) => c.partnerId === partners[1]!.id)) {
    ok((await call(admin, 'mutation($input: CreateMatchingCampaignInput!) { createMatchingCampaign(input: $input) { campaign { id } userErrors { code message } } }',
      { input: { partnerId: partners[1]!.id, causeId: cause.id, ratio: '1.0', capPoints: 500, startsAt: at(-DAY_MS), endsAt: at(60 * DAY_MS) } })).createMatchingCampaign,
    'createMatchingCampaign');
  }

  // Members: enrolled at their partners in order, some with a friend's referral code, one with the affiliate's code.
  const members: Json[] = [];
  let created = 0;
  for (let m = 0; m < FIRST_NAMES.length; m++) {
    for (const [i, partner] of partnersOf(m).entries()) {
      const input: Json = { email: emailOf(m) };
      if (i === 0 && m % 4 === 1) input.phone = `+44 7700 900${String(100 + m)}`;
      if (i === 0 && REFERRED_BY[m] !== undefined) input.referralCode = members[REFERRED_BY[m]!]!.referralCode;
      if (i === 0 && m === AFFILIATE_MEMBER) input.affiliateCode = affiliate.code;
      const payload = ok((await call(partners[partner]!.token, 'mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id referralCode } created userErrors { code message } } }',
        { input })).enrollMember, `enrollMember ${emailOf(m)}`);
      if (payload.created) created += 1;
      if (i === 0) members.push(payload.member);
    }
  }
  const memberToken = new Map<number, string>();
  const tokenOf = async (m: number) => {
    if (!memberToken.has(m)) memberToken.set(m, await issueToken(url, admin, Role.MEMBER, members[m]!.id));
    return memberToken.get(m)!;
  };
  ok((await call(await tokenOf(AUTO_DONOR), 'mutation($input: SetAutoDonationInput!) { setAutoDonation(input: $input) { userErrors { code message } } }',
    { input: { causeId: cause.id, percent: 10 } })).setAutoDonation, 'setAutoDonation');

  // A month of purchases, oldest first.
  const earned = new Map<number, number>();
  const posted: { plan: PlannedPurchase; id: string }[] = [];
  for (const plan of planPurchases()) {
    const input: Json = {
      idempotencyKey: plan.key, memberId: members[plan.member]!.id, amount: money(plan.amount),
      occurredAt: at(-plan.minutesBefore * 60_000),
    };
    if (plan.lines) input.lines = plan.lines;
    if (plan.affiliateCode) input.affiliateCode = affiliate.code;
    const payload = ok((await call(partners[plan.partner]!.token, 'mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { transaction { id points } userErrors { code message } } }',
      { input })).recordPurchase, `recordPurchase ${plan.key}`);
    earned.set(plan.member, (earned.get(plan.member) ?? 0) + payload.transaction.points);
    if (plan.member === FEATURED) featuredTransactions.push(payload.transaction.points);
    posted.push({ plan, id: payload.transaction.id });
  }

  // One refund: half of the affiliate member's first grocer purchase (its commission shrinks with it).
  const refunded = posted.find((p) => p.plan.member === AFFILIATE_MEMBER && p.plan.partner === 0) ?? posted.find((p) => p.plan.partner === 0)!;
  const refund = ok((await call(partners[0]!.token, 'mutation($input: ReverseTransactionInput!) { reverseTransaction(input: $input) { transaction { points } userErrors { code message } } }',
    { input: { idempotencyKey: 'demo-refund-1', transactionId: refunded.id, amount: money(Math.floor(refunded.plan.amount / 2)) } })).reverseTransaction, 'reverseTransaction');
  earned.set(refunded.plan.member, earned.get(refunded.plan.member)! + refund.transaction.points);
  if (refunded.plan.member === FEATURED) featuredTransactions.push(refund.transaction.points);

  // Redemptions at a partner other than the one that issued most of the points.
  for (const [m, partner] of REDEMPTIONS) {
    const points = Math.floor((earned.get(m) ?? 0) * 2 / 5);
    if (points < 1) continue;
    const payload = ok((await call(partners[partner]!.token, 'mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { transaction { points } userErrors { code message } } }',
      { input: { idempotencyKey: `demo-redeem-${m}`, memberId: members[m]!.id, points, description: 'Demo reward' } })).redeemPoints, `redeemPoints ${emailOf(m)}`);
    earned.set(m, earned.get(m)! + payload.transaction.points);
    if (m === FEATURED) featuredTransactions.push(payload.transaction.points);
  }

  // Donations by members (the fuel station matches them).
  for (const [m, percent] of DONORS) {
    const points = Math.floor((earned.get(m) ?? 0) * percent / 100);
    if (points < 1) continue;
    const payload = ok((await call(await tokenOf(m), 'mutation($input: DonatePointsInput!) { donatePoints(input: $input) { donation { points } userErrors { code message } } }',
      { input: { idempotencyKey: `demo-donation-${m}`, causeId: cause.id, points } })).donatePoints, `donatePoints ${emailOf(m)}`);
    if (m === FEATURED) featuredTransactions.push(-payload.donation.points);
  }
  return { memberIds: members.map((m) => m.id as string), purchases: posted.length, created };
}

/** The report: what happened, a token per role, GraphiQL and curl lines to copy. */
function report(print: (line: string) => void, url: string, result: DemoResult, anchor: Date, featured: number[]): void {
  const lines: string[] = [''];
  if (result.mode === 'seeded') {
    lines.push(`Seeded ${url}: coalition "${COALITION.name}" (EUR, tiers Silver and Gold, referrals), 3 partners, ${FIRST_NAMES.length} members,`,
      `${result.purchases} purchases over the last ${HISTORY_DAYS} days, a refund, redemptions at other partners, the cause "${CAUSE.name}"`,
      `with donations and a matching campaign, and the affiliate "${AFFILIATE.name}" (code ${result.affiliate.code}).`);
  } else if (result.mode === 'replayed') {
    lines.push(`${url} was already seeded by the demo (${anchor.toISOString()}): every write was recognised (same codes, e-mails and`,
      'idempotency keys), nothing was posted twice. Fresh tokens:');
  } else {
    lines.push(`${url} was already seeded by the demo on ${anchor.toISOString()}; it is not seeded again. Fresh tokens for that data:`);
  }
  const signed = featured.map((p) => (p < 0 ? `− ${-p}` : `+ ${p}`)).join(' ').replace(/^\+ /, '');
  lines.push('',
    `Member ${result.member.email} (${result.member.id}):`,
    featured.length ? `  the demo posted ${signed} = ${result.member.balance} points` : `  balance ${result.member.balance} points`,
    '', 'Tokens (valid 12 hours):',
    `export OPERATOR_TOKEN=${result.tokens.operator}`);
  for (const [code, token] of Object.entries(result.tokens.partners)) {
    lines.push(`export PARTNER_${code.toUpperCase().replace(/-/g, '_')}_TOKEN=${token}`);
  }
  lines.push(`export MEMBER_TOKEN=${result.tokens.member}`,
    `export AFFILIATE_TOKEN=${result.tokens.affiliate}`,
    '',
    `GraphiQL: open ${url} in a browser and set the header  Authorization: Bearer <a token above>`,
    '',
    'Try:',
    `curl -s ${url} -H "authorization: Bearer $MEMBER_TOKEN" -H 'content-type: application/json' -d '{"query":"{ me { memberCode balance tier { name } transactions(first: 5) { edges { node { type points partner { name } } } } } }"}'`,
    `curl -s ${url} -H "authorization: Bearer $PARTNER_GREEN_GROCER_TOKEN" -H 'content-type: application/json' -d '{"query":"{ myPartner { name members(first: 3) { totalCount edges { node { memberCode balance } } } } }"}'`,
    `curl -s ${url} -H "authorization: Bearer $AFFILIATE_TOKEN" -H 'content-type: application/json' -d '{"query":"{ myAffiliate { code referredMembers commissionTotals { pending { amount } approved { amount } } } }"}'`,
    `curl -s ${url} -H "authorization: Bearer $OPERATOR_TOKEN" -H 'content-type: application/json' -d '{"query":"{ ledgerCheck { ok violations } causes { name donatedPoints matchedPoints raised { amount currency } } }"}'`,
    '');
  for (const line of lines) print(line);
}

/** The CLI: the hub's URL from the first argument or HUB_URL, an operator token signed with the hub's secret. */
async function main(): Promise<void> {
  const url = process.argv[2] || process.env.HUB_URL || DEFAULT_HUB_URL;
  let secret: string;
  try {
    secret = resolveJwtSecret(resolve(process.env.DATA_DIR || './.data'), process.env.NODE_ENV ?? '');
  } catch (error) {
    throw new DemoError(`no operator token: ${(error as Error).message}`);
  }
  await runDemo({ url, adminToken: signToken(secret, { role: Role.ADMIN }, TOKEN_TTL_SECONDS) });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    if (error instanceof DemoError) {
      console.error(`demo: ${error.message}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  });
}
