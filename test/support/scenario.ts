import assert from 'node:assert/strict';
import { Role } from '../../src/api/auth';
import { TestHub } from './hub';

let counter = 0;
/** A name no other call in this process returns, for codes, e-mails and idempotency keys. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${process.pid}x${counter}`;
}

export const PARTNER_FIELDS = 'id code name redemptionValuePerPoint earnRule { pointsPerUnit minSpend maxPointsPerTransaction pointsValidityDays } commissionPlan { type rate holdDays }';
export const POSTING_FIELDS = 'transaction { id type points amount { amount currency } breakdown { rule points detail } occurredAt postedAt } member { id balance debt } userErrors { code message field }';

export interface TestPartner {
  id: string;
  code: string;
  token: string;
}

/** Creates a partner through the API (as the operator) and a token for it. */
export async function createPartner(hub: TestHub, earnRule: Record<string, unknown> = { pointsPerUnit: '1' },
  redemptionValuePerPoint = '0.01'): Promise<TestPartner> {
  const code = unique('p');
  const res = await hub.gql(`mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id code } userErrors { code message } } }`,
    { input: { code, name: `Partner ${code}`, redemptionValuePerPoint, earnRule } }, hub.admin);
  const partner = res.data?.createPartner?.partner;
  assert.ok(partner, `createPartner failed: ${JSON.stringify(res)}`);
  return { id: partner.id, code, token: hub.token({ role: Role.PARTNER, partnerId: partner.id }) };
}

export interface TestMember {
  id: string;
  memberCode: string;
  token: string;
}

/** Enrolls a new member at a partner. */
export async function enroll(hub: TestHub, partner: TestPartner, input: Record<string, unknown> = {}): Promise<TestMember> {
  const res = await hub.gql(`mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id memberCode } created userErrors { code message } } }`,
    { input: { email: `${unique('m')}@example.com`, ...input } }, partner.token);
  const member = res.data?.enrollMember?.member;
  assert.ok(member, `enrollMember failed: ${JSON.stringify(res)}`);
  return { id: member.id, memberCode: member.memberCode, token: hub.token({ role: Role.MEMBER, memberId: member.id }) };
}

export async function purchase(hub: TestHub, partner: TestPartner, member: TestMember, amount: string, extra: Record<string, unknown> = {}) {
  const res = await hub.gql(`mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { ${POSTING_FIELDS} } }`,
    { input: { idempotencyKey: unique('k'), memberId: member.id, amount, ...extra } }, partner.token);
  return res.data!.recordPurchase;
}

export async function redeem(hub: TestHub, partner: TestPartner, member: TestMember, points: number, extra: Record<string, unknown> = {}) {
  const res = await hub.gql(`mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { ${POSTING_FIELDS} } }`,
    { input: { idempotencyKey: unique('k'), memberId: member.id, points, ...extra } }, partner.token);
  return res.data!.redeemPoints;
}

export async function reverse(hub: TestHub, token: string, transactionId: string, amount?: string, idempotencyKey = unique('k')) {
  const res = await hub.gql(`mutation($input: ReverseTransactionInput!) { reverseTransaction(input: $input) { ${POSTING_FIELDS} } }`,
    { input: { idempotencyKey, transactionId, ...(amount ? { amount } : {}) } }, token);
  return res.data!.reverseTransaction;
}

export async function bonus(hub: TestHub, token: string, member: TestMember, points: number, extra: Record<string, unknown> = {}) {
  const res = await hub.gql(`mutation($input: AwardBonusInput!) { awardBonus(input: $input) { ${POSTING_FIELDS} } }`,
    { input: { idempotencyKey: unique('k'), memberId: member.id, action: 'CUSTOM', points, ...extra } }, token);
  return res.data!.awardBonus;
}

export async function balanceOf(hub: TestHub, member: TestMember): Promise<number> {
  const res = await hub.gql('{ me { balance } }', {}, member.token);
  return res.data!.me.balance;
}

export async function ledgerCheck(hub: TestHub): Promise<{ ok: boolean; violations: string[] }> {
  const res = await hub.gql('{ ledgerCheck { ok violations } }', {}, hub.admin);
  return res.data!.ledgerCheck;
}

/** Row counts of every ledger table: a failed write must leave them all as they were. */
export async function ledgerRowCounts(hub: TestHub): Promise<Record<string, number>> {
  const tables = ['ledger_transaction', 'ledger_entry', 'lot', 'lot_movement', 'member_debt', 'obligation', 'member', 'member_identifier', 'member_partner_link', 'partner'];
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = Number((await hub.db.query(`SELECT count(*)::int AS n FROM ${t}`))[0].n);
  return counts;
}

export const CLAIM_FIELDS = 'voucher { id code state } transaction { id type points } member { id balance debt } userErrors { code message field }';

/** Claims a reward (the member's own token, or a partner's / the operator's with memberId in `extra`). */
export async function claimReward(hub: TestHub, token: string, rewardId: string, extra: Record<string, unknown> = {}) {
  const res = await hub.gql(`mutation($input: ClaimRewardInput!) { claimReward(input: $input) { ${CLAIM_FIELDS} } }`,
    { input: { idempotencyKey: unique('k'), rewardId, ...extra } }, token);
  return res.data!.claimReward;
}

/** Voids a voucher by its code. */
export async function voidVoucher(hub: TestHub, token: string, code: string, idempotencyKey = unique('k')) {
  const res = await hub.gql(`mutation($input: VoidVoucherInput!) { voidVoucher(input: $input) { voucher { id state } transaction { id type points } member { id balance debt }
    userErrors { code message field } } }`, { input: { idempotencyKey, code } }, token);
  return res.data!.voidVoucher;
}
