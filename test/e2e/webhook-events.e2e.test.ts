import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { Role } from '../../src/api/auth';
import { ManualClock, systemClock, useClock } from '../../src/common/clock';
import { decodeTransactionId } from '../../src/common/ids';
import { createLogger } from '../../src/common/logger';
import { approveDueCommissions } from '../../src/modules/affiliate/commission-approval.service';
import { writeExpiryReminders } from '../../src/modules/posting/expiry-reminder.service';
import { runExpiry } from '../../src/modules/posting/expiry.service';
import { EVENT_TYPES } from '../../src/modules/webhook/webhook.rules';
import { runWebhookTick } from '../../src/modules/webhook/webhook.worker';
import { TestHub, startTestHub } from '../support/hub';
import { TestPartner, createPartner, ledgerCheck, unique } from '../support/scenario';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * Events made by time and by jobs (docs/rules.md, Events and webhooks): `points.expiring` reminders,
 * `commission.approved` / `commission.paid`, and `tier.changed` to every linked partner (also from
 * the expiry job's downgrades); the voucher events and `club.joined`, scoped. Real receivers on loopback; the jobs are driven directly with the
 * process clock moved (src/common/clock.ts), never by sleeping; two jobs at once run on two
 * connection pools. The last test checks README's event catalog against real deliveries.
 */
const DAY_MS = 86_400_000;
let hub: TestHub;
let other: DataSource;
let clock: ManualClock;
const worker = { allowPrivate: true, log: createLogger('silent'), random: () => 0.5, directWaitMs: 10_000, roundMs: 0 };
const tick = () => runWebhookTick(hub.db, worker);
const receivers: WebhookReceiver[] = [];
/** The operator's `*` endpoint for the whole file: one real delivery of every type, for the README check. */
let catalog: WebhookReceiver;

const TIERS = [{ name: 'Silver', qualifyingPoints: 10, earnMultiplier: '1' }];
const CONFIGURE = `mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) {
  coalition { expiryReminderDays } userErrors { code message field } } }`;
const configure = (extra: Record<string, unknown> = {}) =>
  hub.gql(CONFIGURE, { input: { name: 'Events', currency: 'EUR', donationValuePerPoint: '0.01', tiers: TIERS, ...extra } }, hub.admin);
const ENROLL = 'mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id memberCode } created userErrors { code message } } }';
const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  endpoint { id } secret userErrors { code message field } } }`;

async function receiver(): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver().start();
  receivers.push(r);
  return r;
}

/** An endpoint of `token`'s owner on a new receiver, for these event types. */
async function listen(token: string, eventTypes: string[]): Promise<WebhookReceiver & { secret: string }> {
  const r = await receiver();
  const res = await hub.gql(CREATE, { input: { url: r.url, eventTypes } }, token);
  expect(res.data.createWebhookEndpoint.userErrors).toEqual([]);
  return Object.assign(r, { secret: res.data.createWebhookEndpoint.secret as string });
}

async function enrollAt(partner: TestPartner, input: Record<string, unknown>): Promise<{ id: string; memberCode: string; created: boolean }> {
  const res = await hub.gql(ENROLL, { input }, partner.token);
  expect(res.data.enrollMember.userErrors).toEqual([]);
  return { ...res.data.enrollMember.member, created: res.data.enrollMember.created };
}

async function post(partner: TestPartner, kind: 'recordPurchase' | 'redeemPoints', memberId: string, value: string | number) {
  const input = kind === 'recordPurchase' ? { idempotencyKey: unique('k'), memberId, amount: value } : { idempotencyKey: unique('k'), memberId, points: value };
  const res = await hub.gql(`mutation($input: ${kind === 'recordPurchase' ? 'RecordPurchaseInput' : 'RedeemPointsInput'}!) { ${kind}(input: $input) {
    transaction { id points } userErrors { code message } } }`, { input }, partner.token);
  expect(res.data[kind].userErrors).toEqual([]);
  return res.data[kind].transaction as { id: string; points: number };
}

async function partnerWithPlan(holdDays: number): Promise<TestPartner> {
  const code = unique('p');
  const res = await hub.gql(`mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { message } } }`,
    { input: { code, name: code, redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' }, commissionPlan: { type: 'PERCENT_OF_SALE', rate: '0.1', holdDays } } }, hub.admin);
  expect(res.data.createPartner.userErrors).toEqual([]);
  const id = res.data.createPartner.partner.id as string;
  return { id, code, token: hub.token({ role: Role.PARTNER, partnerId: id }) };
}

async function createAffiliate(): Promise<{ id: string; code: string; token: string }> {
  const res = await hub.gql(`mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { affiliate { id code } userErrors { message } } }`,
    { input: { name: unique('Blog'), email: `${unique('aff')}@example.org` } }, hub.admin);
  expect(res.data.createAffiliate.userErrors).toEqual([]);
  const { id, code } = res.data.createAffiliate.affiliate;
  return { id, code, token: hub.token({ role: Role.AFFILIATE, affiliateId: id }) };
}

const ofMembers = (r: WebhookReceiver, ...memberIds: string[]) => r.events().filter((e) => memberIds.includes(e.data.memberId as string));

beforeAll(async () => {
  hub = await startTestHub();
  other = createDataSource(hub.databaseUrl, 4);
  await other.initialize();
  catalog = await listen(hub.admin, ['*']);
});
beforeEach(() => {
  clock = new ManualClock(new Date());
  useClock(clock);
});
afterEach(async () => {
  useClock(systemClock);
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});
afterAll(async () => {
  for (const r of receivers) await r.stop();
  await other.destroy();
  await hub.close();
});

it('expiryReminderDays: 30 until set; 0, 366 and 1.5 are INVALID_INPUT and change nothing; a valid value is shown on the coalition and audited', async () => {
  const read = async () => (await hub.gql('{ coalition { expiryReminderDays } }', {}, hub.admin)).data.coalition.expiryReminderDays;
  expect(await read()).toBe(30);
  for (const bad of [0, 366]) {
    const res = await configure({ expiryReminderDays: bad });
    expect(res.data.configureCoalition).toEqual({ coalition: null,
      userErrors: [{ code: 'INVALID_INPUT', message: 'expiryReminderDays must be a whole number from 1 to 365', field: ['input', 'expiryReminderDays'] }] });
  }
  expect((await configure({ expiryReminderDays: 1.5 })).errors).toBeDefined(); // Int: refused by GraphQL itself
  expect(await read()).toBe(30);
  expect((await configure({ expiryReminderDays: 14 })).data.configureCoalition).toEqual({ coalition: { expiryReminderDays: 14 }, userErrors: [] });
  expect((await configure()).data.configureCoalition.coalition).toEqual({ expiryReminderDays: 14 }); // omitted: unchanged
  const audit = await hub.gql('{ auditLog(first: 1, action: "coalition.configured") { edges { node { input } } } }', {}, hub.admin);
  expect(JSON.parse(audit.data.auditLog.edges[0].node.input)).not.toHaveProperty('expiryReminderDays');
  const before = await hub.gql('{ auditLog(first: 2, action: "coalition.configured") { edges { node { input } } } }', {}, hub.admin);
  expect(JSON.parse(before.data.auditLog.edges[1].node.input)).toMatchObject({ expiryReminderDays: 14 });
  expect((await configure({ expiryReminderDays: 30 })).data.configureCoalition.coalition).toEqual({ expiryReminderDays: 30 });
});

it('points.expiring: once per member and expiry date, even with two jobs at once; the points still left on the lots; operator and linked partners only, each with its own reference', async () => {
  const start = clock.now();
  const [a, b, c] = [await createPartner(hub, { pointsPerUnit: '1', pointsValidityDays: 40 }), await createPartner(hub, { pointsPerUnit: '1', pointsValidityDays: 40 }),
    await createPartner(hub, { pointsPerUnit: '1', pointsValidityDays: 40 })];
  const email = `${unique('m')}@example.com`;
  const m = await enrollAt(a, { email, externalRef: 'A-1' });
  expect((await enrollAt(b, { email, externalRef: 'B-1' })).created).toBe(false); // linked to B too
  await post(a, 'recordPurchase', m.id, '24.00');
  await post(b, 'recordPurchase', m.id, '10.00');
  await post(a, 'redeemPoints', m.id, 4); // consumed from the lot that expires first: 30 points left to expire
  const n = await enrollAt(a, { email: `${unique('n')}@example.com` });
  await post(a, 'recordPurchase', n.id, '7.00');
  const [ra, rb, rc, ro] = [await listen(a.token, ['points.expiring']), await listen(b.token, ['points.expiring']), await listen(c.token, ['points.expiring']),
    await listen(hub.admin, ['points.expiring'])];

  clock.set(new Date(start.getTime() + 8 * DAY_MS)); // 32 days before: too early
  expect(await writeExpiryReminders(hub.db, clock.now())).toBe(0);
  clock.set(new Date(start.getTime() + 11 * DAY_MS)); // 29 days before the lots' date
  const [x, y] = await Promise.all([writeExpiryReminders(hub.db, clock.now()), writeExpiryReminders(other, clock.now())]);
  expect(x + y).toBe(2); // m and n, each once, whichever job wrote it
  expect(await writeExpiryReminders(hub.db, clock.now())).toBe(0);
  clock.set(new Date(start.getTime() + 39 * DAY_MS)); // the last day before: still the same date, reminded already
  expect(await writeExpiryReminders(other, clock.now())).toBe(0);
  await tick();

  const [{ expires_at: first }] = await hub.db.query('SELECT min(expires_at) AS expires_at FROM lot WHERE member_id = $1', [m.id]);
  const expiresAt = new Date(first).toISOString();
  const base = { memberId: m.id, memberCode: m.memberCode, points: 30, expiresOn: expiresAt.slice(0, 10), expiresAt };
  expect(ofMembers(rb, m.id, n.id).map((e) => e.data)).toEqual([{ ...base, externalRef: 'B-1' }]);
  expect(ofMembers(ra, m.id, n.id).map((e) => e.data).sort((p, q) => (p.points as number) - (q.points as number)))
    .toEqual([expect.objectContaining({ memberId: n.id, points: 7, externalRef: null }), { ...base, externalRef: 'A-1' }]);
  expect(ofMembers(rc, m.id, n.id)).toEqual([]);
  expect(ofMembers(ro, m.id).map((e) => e.data)).toEqual([base]); // the operator: no partner's reference
  expect(ofMembers(ro, m.id, n.id)).toHaveLength(2);
  const delivered = rb.received.find((r) => JSON.parse(r.body).data.memberId === m.id)!;
  // Signed as the peer implementation signs (its verify() would refuse a timestamp 11 days ahead of the real clock).
  const signedAt = new Date(Number(delivered.headers['webhook-timestamp']) * 1000);
  expect(delivered.headers['webhook-signature']!.split(' ')).toContain(new Webhook(rb.secret).sign(delivered.headers['webhook-id']!, signedAt, delivered.body));
  const [{ n: rows }] = await hub.db.query('SELECT count(*)::int AS n FROM event WHERE type = $1 AND member_id = ANY($2::uuid[])', ['points.expiring', [m.id, n.id]]);
  expect(rows).toBe(2);
});

it('points.expiring is not written for points already spent: a date whose lots are all consumed gets no reminder', async () => {
  const start = clock.now();
  const a = await createPartner(hub, { pointsPerUnit: '1', pointsValidityDays: 40 });
  const spent = await enrollAt(a, { email: `${unique('s')}@example.com` });
  await post(a, 'recordPurchase', spent.id, '15.00');
  await post(a, 'redeemPoints', spent.id, 15);
  const kept = await enrollAt(a, { email: `${unique('k')}@example.com` });
  await post(a, 'recordPurchase', kept.id, '15.00');
  await post(a, 'redeemPoints', kept.id, 14);
  const ro = await listen(hub.admin, ['points.expiring']);
  clock.set(new Date(start.getTime() + 20 * DAY_MS));
  await writeExpiryReminders(hub.db, clock.now());
  await tick();
  expect(ofMembers(ro, spent.id)).toEqual([]);
  expect(ofMembers(ro, kept.id).map((e) => e.data.points)).toEqual([1]);
  const [{ n }] = await hub.db.query('SELECT count(*)::int AS n FROM points_expiry_reminder WHERE member_id = $1', [spent.id]);
  expect(n).toBe(0);
});

it('commission.approved and commission.paid: a settlement close approves then pays in one transaction; the job approves a held commission once, even with two jobs at once; scoped to operator, owing partner and affiliate', async () => {
  const periodStart = new Date(Date.now() - 1000);
  const [held, prompt, stranger] = [await partnerWithPlan(30), await partnerWithPlan(0), await createPartner(hub)];
  const [affiliate, otherAffiliate] = [await createAffiliate(), await createAffiliate()];
  const types = ['commission.approved', 'commission.paid'];
  const [rh, rp, rs, rf, rg, ro] = [await listen(held.token, types), await listen(prompt.token, types), await listen(stranger.token, types),
    await listen(affiliate.token, types), await listen(otherAffiliate.token, types), await listen(hub.admin, types)];
  const m = await enrollAt(held, { email: `${unique('c')}@example.com`, affiliateCode: affiliate.code });
  await post(held, 'recordPurchase', m.id, '40.00'); // 4.00, held 30 days
  const q = await enrollAt(prompt, { email: `${unique('d')}@example.com`, affiliateCode: affiliate.code });
  await post(prompt, 'recordPurchase', q.id, '20.00'); // 2.00, approved at once (by time)
  await new Promise((r) => setTimeout(r, 20));

  const closed = await hub.gql(`mutation($input: CloseSettlementPeriodInput!) { closeSettlementPeriod(input: $input) { run { id } userErrors { code message } } }`,
    { input: { periodStart: periodStart.toISOString(), periodEnd: new Date().toISOString() } }, hub.admin);
  expect(closed.data.closeSettlementPeriod.userErrors).toEqual([]);
  const runId = closed.data.closeSettlementPeriod.run.id as string;
  await tick();
  const [paidRow] = await hub.db.query('SELECT id, status FROM commission WHERE member_id = $1', [q.id]);
  expect(paidRow.status).toBe('PAID');
  const common = { commissionId: paidRow.id, amount: { amount: '2.00', currency: 'EUR' }, approvesAt: expect.any(String), clawbackOf: null };
  expect(rp.events().map((e) => [e.type, e.data])).toEqual([
    ['commission.approved', { ...common, status: 'APPROVED', settlementRunId: null, memberId: q.id, affiliateId: affiliate.id }],
    ['commission.paid', { ...common, status: 'PAID', settlementRunId: runId, memberId: q.id, affiliateId: affiliate.id }],
  ]);
  expect(rf.events().map((e) => [e.type, e.data])).toEqual([
    ['commission.approved', { ...common, status: 'APPROVED', settlementRunId: null, partnerId: prompt.id }],
    ['commission.paid', { ...common, status: 'PAID', settlementRunId: runId, partnerId: prompt.id }],
  ]);
  expect(JSON.stringify(rf.events())).not.toContain(q.id);
  expect(JSON.stringify(rf.events())).not.toContain(q.memberCode);
  expect(ro.events().map((e) => [e.type, e.data.partnerId, e.data.affiliateId, e.data.memberId])).toEqual([
    ['commission.approved', prompt.id, affiliate.id, q.id], ['commission.paid', prompt.id, affiliate.id, q.id]]);
  expect(rh.received).toHaveLength(0); // still held: neither approved nor paid

  const start = clock.now();
  clock.set(new Date(start.getTime() + 29 * DAY_MS));
  await approveDueCommissions(hub.db, clock.now());
  await tick();
  expect(rh.received).toHaveLength(0);
  clock.set(new Date(start.getTime() + 30 * DAY_MS + 60_000));
  const [x, y] = await Promise.all([approveDueCommissions(hub.db, clock.now()), approveDueCommissions(other, clock.now())]);
  expect(x + y).toBe(1);
  expect(await approveDueCommissions(hub.db, clock.now())).toBe(0);
  await tick();
  const [heldRow] = await hub.db.query('SELECT id, status, approves_at FROM commission WHERE member_id = $1', [m.id]);
  expect(heldRow.status).toBe('APPROVED');
  expect(rh.events().map((e) => [e.type, e.data])).toEqual([['commission.approved', { commissionId: heldRow.id, amount: { amount: '4.00', currency: 'EUR' },
    status: 'APPROVED', approvesAt: new Date(heldRow.approves_at).toISOString(), clawbackOf: null, settlementRunId: null, memberId: m.id, affiliateId: affiliate.id }]]);
  expect(rh.events()[0]!.timestamp).toBe(new Date(heldRow.approves_at).toISOString()); // when the hold ended, not when the job ran
  expect(rf.events().map((e) => e.type)).toEqual(['commission.approved', 'commission.paid', 'commission.approved']);
  expect(rf.events()[2]!.data).not.toHaveProperty('memberId');
  expect(rs.received).toHaveLength(0);
  expect(rg.received).toHaveLength(0);
  expect(rp.received).toHaveLength(2); // a paid commission is never approved again
});

it('tier.changed goes to every partner linked to the member (not only the one whose purchase changed it) and to the operator; the expiry job\'s downgrade sends it too', async () => {
  const [a, b, c] = [await createPartner(hub), await createPartner(hub), await createPartner(hub)];
  const email = `${unique('t')}@example.com`;
  const t = await enrollAt(a, { email });
  await enrollAt(b, { email });
  const [ra, rb, rc, ro] = [await listen(a.token, ['tier.changed']), await listen(b.token, ['tier.changed']), await listen(c.token, ['tier.changed']),
    await listen(hub.admin, ['tier.changed'])];
  const bought = await post(a, 'recordPurchase', t.id, '12.00');
  await tick();
  const up = { memberId: t.id, from: null, to: 'Silver' };
  for (const r of [ra, rb, ro]) expect(ofMembers(r, t.id).map((e) => e.data)).toEqual([up]);
  expect(ofMembers(rc, t.id)).toEqual([]);

  // A year and more later the purchase no longer qualifies: the expiry job downgrades the member.
  const id = decodeTransactionId(bought.id)!.transactionId;
  await hub.db.query(`UPDATE ledger_transaction SET posted_at = posted_at - interval '400 days' WHERE member_id = $1 AND id = $2`, [t.id, id]);
  await hub.db.query(`UPDATE ledger_entry SET posted_at = posted_at - interval '400 days' WHERE member_id = $1 AND transaction_id = $2`, [t.id, id]);
  const result = await runExpiry(hub.db, new Date());
  expect(result.tierChanges).toBeGreaterThanOrEqual(1);
  await tick();
  const down = { memberId: t.id, from: 'Silver', to: null };
  for (const r of [ra, rb, ro]) expect(ofMembers(r, t.id).map((e) => e.data)).toEqual([up, down]);
  expect(ofMembers(rc, t.id)).toEqual([]);
  expect((await hub.gql(`{ member(id: "${t.id}") { tier { name } } }`, {}, b.token)).data.member.tier).toBeNull();
});

it('voucher.issued, voucher.redeemed, voucher.voided, voucher.expired (the expiry job) and club.joined: the operator with the member id; the reward\'s partner its own vouchers with the member masked; another partner nothing; club.joined to the linked partners (a partner club: its partner only)', async () => {
  useClock(systemClock); // the till's redemption and the postings on one clock: the payloads' instants in the order they happened
  const [shop, fuel, stranger] = [await createPartner(hub), await createPartner(hub), await createPartner(hub)];
  const email = `${unique('v')}@example.com`;
  const m = await enrollAt(shop, { email });
  expect((await enrollAt(fuel, { email })).created).toBe(false); // linked to fuel too
  await post(shop, 'recordPurchase', m.id, '1000.00');
  const types = ['voucher.issued', 'voucher.redeemed', 'voucher.voided', 'voucher.expired', 'club.joined'];
  const [rs, rf, rx, ro] = [await listen(shop.token, types), await listen(fuel.token, types), await listen(stranger.token, types), await listen(hub.admin, types)];
  const createReward = async (token: string, input: Record<string, unknown>) => {
    const res = await hub.gql(`mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code message } } }`,
      { input: { name: unique('Reward '), ...input } }, token);
    expect(res.data.createReward.userErrors).toEqual([]);
    return res.data.createReward.reward.id as string;
  };
  const createClub = async (token: string) => {
    const res = await hub.gql(`mutation($input: CreateClubInput!) { createClub(input: $input) { club { id } userErrors { code message } } }`,
      { input: { name: unique('Club '), earnMultiplier: '1', membershipDays: 30 } }, token);
    expect(res.data.createClub.userErrors).toEqual([]);
    return res.data.createClub.club.id as string;
  };
  const memberToken = hub.token({ role: Role.MEMBER, memberId: m.id });
  const claim = async (rewardId: string) => {
    const res = await hub.gql(`mutation($input: ClaimRewardInput!) { claimReward(input: $input) {
      voucher { id code expiresAt } membership { club { id } expiresAt } userErrors { code message } } }`, { input: { idempotencyKey: unique('k'), rewardId } }, memberToken);
    expect(res.data.claimReward.userErrors).toEqual([]);
    return res.data.claimReward as { voucher: { id: string; code: string; expiresAt: string } | null; membership: { club: { id: string }; expiresAt: string } | null };
  };

  const ticket = await createReward(shop.token, { pointsPrice: 100 });
  const [v1, v2, v3] = [(await claim(ticket)).voucher!, (await claim(ticket)).voucher!, (await claim(ticket)).voucher!];
  const redeemed = await hub.gql(`mutation($input: RedeemVoucherInput!) { redeemVoucher(input: $input) { voucher { redeemedAt } userErrors { code } } }`,
    { input: { code: v1.code } }, shop.token);
  expect(redeemed.data.redeemVoucher.userErrors).toEqual([]);
  const voided = await hub.gql(`mutation($input: VoidVoucherInput!) { voidVoucher(input: $input) { userErrors { code } } }`,
    { input: { idempotencyKey: unique('k'), code: v2.code } }, memberToken);
  expect(voided.data.voidVoucher.userErrors).toEqual([]);
  const operatorClub = await createClub(hub.admin);
  const shopClub = await createClub(shop.token);
  const joinedAll = (await claim(await createReward(hub.admin, { pointsPrice: 50, value: '0.50', kind: 'MEMBERSHIP', clubId: operatorClub }))).membership!;
  const joinedShop = (await claim(await createReward(shop.token, { pointsPrice: 50, kind: 'MEMBERSHIP', clubId: shopClub }))).membership!;
  // v3 is never used: its validity ends (shortened in the database, as reward-claims.e2e does, so the
  // job runs at the real now and the README's example reads as in production); the expiry job expires it.
  await hub.db.query(`UPDATE voucher SET expires_at = now() - interval '1 second' WHERE member_id = $1 AND id = $2`, [m.id, v3.id]);
  const [{ expires_at: endedAt }] = await hub.db.query('SELECT expires_at FROM voucher WHERE member_id = $1 AND id = $2', [m.id, v3.id]);
  const expired = await runExpiry(hub.db, new Date());
  expect(expired.expiredVouchers).toBe(1);
  await tick();
  await tick();

  const base = (v: { id: string; code: string }) => ({ voucherId: v.id, code: v.code, rewardId: ticket });
  const masked = `•••••••••${m.memberCode.slice(-3)}`;
  const operator = { memberId: m.id, partnerId: shop.id };
  const redeemedAt = redeemed.data.redeemVoucher.voucher.redeemedAt as string;
  const vouchers = [
    ['voucher.issued', { ...base(v1), state: 'ISSUED', expiresAt: v1.expiresAt }], ['voucher.issued', { ...base(v2), state: 'ISSUED', expiresAt: v2.expiresAt }],
    ['voucher.issued', { ...base(v3), state: 'ISSUED', expiresAt: v3.expiresAt }], ['voucher.redeemed', { ...base(v1), state: 'REDEEMED', redeemedAt }],
    ['voucher.voided', { ...base(v2), state: 'VOIDED', expiresAt: v2.expiresAt }], ['voucher.expired', { ...base(v3), state: 'EXPIRED', expiresAt: new Date(endedAt).toISOString() }],
  ] as const;
  const club = (c: string, j: { expiresAt: string }) => ({ memberId: m.id, clubId: c, expiresAt: j.expiresAt, source: 'POINTS' });
  // Compared as sets (by type and voucher/club): the order of one member's events is webhooks.e2e's subject.
  const sorted = (events: (readonly [string, Record<string, unknown>])[]) => [...events]
    .sort((p, q) => `${p[0]}|${p[1].voucherId ?? p[1].clubId}`.localeCompare(`${q[0]}|${q[1].voucherId ?? q[1].clubId}`));
  const got = (r: WebhookReceiver, events = r.events()) => sorted(events.map((e) => [e.type, e.data] as const));
  // The operator: every event, with the member's id and the reward's partner.
  expect(got(ro, ofMembers(ro, m.id))).toEqual(sorted([...vouchers.map(([t, d]) => [t, { ...d, ...operator }] as const),
    ['club.joined', club(operatorClub, joinedAll)], ['club.joined', club(shopClub, joinedShop)]]));
  // The reward's partner: its vouchers with the member masked (no id), and both club.joined (linked; the second is its club).
  expect(got(rs)).toEqual(sorted([...vouchers.map(([t, d]) => [t, { ...d, member: masked }] as const),
    ['club.joined', club(operatorClub, joinedAll)], ['club.joined', club(shopClub, joinedShop)]]));
  expect(JSON.stringify(rs.events().filter((e) => e.type.startsWith('voucher.')))).not.toContain(m.id);
  // Another linked partner: no voucher of another partner's reward; club.joined of the operator's club only.
  expect(rf.events().map((e) => [e.type, e.data])).toEqual([['club.joined', club(operatorClub, joinedAll)]]);
  expect(rx.received).toHaveLength(0); // not linked, not the reward's partner
  const [{ n }] = await hub.db.query(`SELECT count(*)::int AS n FROM event WHERE member_id = $1 AND type LIKE 'voucher.%'`, [m.id]);
  expect(n).toBe(6);
});

it("README's event catalog has an example of every event type with the fields of a real delivery", async () => {
  // The types no test above produced: a donation, a refund before approval, an erasure.
  const a = await partnerWithPlan(30);
  const affiliate = await createAffiliate();
  const m = await enrollAt(a, { email: `${unique('r')}@example.com`, affiliateCode: affiliate.code });
  const bought = await post(a, 'recordPurchase', m.id, '30.00');
  const refund = await hub.gql(`mutation($input: ReverseTransactionInput!) { reverseTransaction(input: $input) { userErrors { code message } } }`,
    { input: { idempotencyKey: unique('k'), transactionId: bought.id } }, a.token);
  expect(refund.data.reverseTransaction.userErrors).toEqual([]);
  await post(a, 'recordPurchase', m.id, '10.00');
  const causeId = (await hub.gql('mutation { createCause(input: { name: "Catalog cause" }) { cause { id } } }', {}, hub.admin)).data.createCause.cause.id;
  const donated = await hub.gql(`mutation($input: DonatePointsInput!) { donatePoints(input: $input) { userErrors { code } } }`,
    { input: { idempotencyKey: unique('k'), causeId, points: 5 } }, hub.token({ role: Role.MEMBER, memberId: m.id }));
  expect(donated.data.donatePoints.userErrors).toEqual([]);
  const erased = await hub.gql(`mutation($input: EraseMemberInput!) { eraseMember(input: $input) { userErrors { code } } }`, { input: { memberId: m.id } }, hub.admin);
  expect(erased.data.eraseMember.userErrors).toEqual([]);
  await tick();

  const real = new Map<string, { id: string; type: string; timestamp: string; data: Record<string, unknown> }>();
  for (const e of catalog.events()) if (!real.has(e.type)) real.set(e.type, e);
  const ours = [...EVENT_TYPES];
  expect(ours.filter((t) => !real.has(t))).toEqual([]);
  if (process.env.WEBHOOK_EXAMPLES_OUT) writeFileSync(process.env.WEBHOOK_EXAMPLES_OUT, JSON.stringify(ours.map((t) => real.get(t)), null, 2));

  const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Webhooks'), readme.indexOf('\n## ', readme.indexOf('### Webhooks')) >>> 0);
  const examples = new Map<string, { data: unknown }>();
  for (const block of section.matchAll(/```json\n([\s\S]*?)```/g)) {
    const parsed = JSON.parse(block[1]!);
    if (parsed && typeof parsed.type === 'string') examples.set(parsed.type, parsed);
  }
  // The shape of a payload: its keys, recursively; null matches anything (an optional reference).
  const shape = (v: unknown): unknown => (v === null ? null : Array.isArray(v) ? [v.length ? shape(v[0]) : null]
    : typeof v === 'object' ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])])) : typeof v);
  const same = (x: unknown, y: unknown): boolean => {
    if (x === null || y === null) return true;
    if (typeof x !== 'object' || typeof y !== 'object') return x === y;
    if (Array.isArray(x) || Array.isArray(y)) return Array.isArray(x) && Array.isArray(y) && (!x.length || !y.length || same(x[0], y[0]));
    const kx = Object.keys(x!);
    return kx.join() === Object.keys(y!).join() && kx.every((k) => same((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]));
  };
  const mismatched = ours.filter((t) => !examples.has(t) || !same(shape(examples.get(t)!.data), shape(real.get(t)!.data)));
  expect(mismatched).toEqual([]);
});
