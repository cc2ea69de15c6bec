import { Role } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, badRequest, fail, forbidden, ok, userError } from '../../api/errors';
import { clock } from '../../common/clock';
import { decodeTransactionId } from '../../common/ids';
import { Connection, DEFAULT_PAGE_SIZE, decodeCursor, toConnection } from '../../common/pagination';
import { inTransaction, rows } from '../../db/transaction';
import { Transaction } from '../ledger/ledger.types';
import { Member } from '../member/member.types';
import { postClaim, postVoucherReturn } from '../posting/posting.service';
import { maskedMember } from '../posting/steps/reward.step';
import { recordEvents } from '../webhook/webhook.store';
import { memberClubs } from './club.service';
import { ClaimRewardInput, RedeemVoucherInput, VoidVoucherInput, VouchersArgs } from './reward.inputs';
import { canonicalVoucherCode, formatVoucherCode } from './reward.rules';
import { rewardsByIds } from './reward.service';
import { ClubMembership, Voucher, VoucherState } from './reward.types';

interface VoucherDbRow {
  member_id: string;
  id: string;
  code: string;
  reward_id: string;
  state: VoucherState;
  transaction_id: string;
  issued_at: Date;
  expires_at: Date;
  redeemed_at: Date | null;
  reward_partner_id: string | null;
  member_code: string;
}

const VOUCHER_COLUMNS = `v.member_id, v.id, v.code, v.reward_id, v.state, v.transaction_id, v.issued_at, v.expires_at, v.redeemed_at,
  r.partner_id AS reward_partner_id, m.member_code`;
const VOUCHER_FROM = 'voucher v JOIN reward r ON r.id = v.reward_id JOIN member m ON m.id = v.member_id';

/**
 * Which vouchers the caller may see, as SQL on aliases v and r: the operator every voucher; a partner
 * the vouchers of its own rewards (others do not exist for it); a member its own. Others: none.
 */
function visibleVouchers(ctx: RequestContext, params: unknown[]): string {
  const caller = ctx.caller;
  switch (caller?.role) {
    case Role.ADMIN:
      return 'TRUE';
    case Role.PARTNER:
      params.push(caller.partnerId);
      return `r.partner_id = $${params.length}`;
    case Role.MEMBER:
      params.push(caller.memberId);
      return `v.member_id = $${params.length}`;
    default:
      return 'FALSE';
  }
}

/** Vouchers as the API shows them; `member` by who asks (Voucher.member). */
async function toVouchers(ctx: RequestContext, found: VoucherDbRow[]): Promise<Voucher[]> {
  const rewards = await rewardsByIds(ctx, found.map((v) => v.reward_id));
  const role = ctx.caller?.role;
  return found.map((v) => ({
    id: v.id, code: formatVoucherCode(v.code), state: v.state, reward: rewards.get(v.reward_id)!,
    member: role === Role.ADMIN ? v.member_id : role === Role.MEMBER ? v.member_code : maskedMember(v.member_code),
    issuedAt: v.issued_at, expiresAt: v.expires_at, redeemedAt: v.redeemed_at,
  }));
}

/** A voucher by code as typed (canonicalVoucherCode), if the caller may see it (visibleVouchers); else undefined. */
async function visibleVoucher(ctx: RequestContext, code: string, q: Parameters<typeof rows>[0] = ctx.db, lock = false): Promise<VoucherDbRow | undefined> {
  const canonical = canonicalVoucherCode(code);
  if (!canonical) return undefined;
  const params: unknown[] = [canonical];
  const filter = visibleVouchers(ctx, params);
  const [found] = await rows<VoucherDbRow>(q, `SELECT ${VOUCHER_COLUMNS} FROM voucher_code c JOIN ${VOUCHER_FROM.replace('voucher v', 'voucher v ON v.member_id = c.member_id AND v.id = c.voucher_id')}
    WHERE c.code = $1 AND ${filter}${lock ? ' FOR UPDATE OF v' : ''}`, params);
  return found;
}

async function voucherOfClaim(ctx: RequestContext, memberId: string, transactionId: string): Promise<VoucherDbRow | undefined> {
  const [found] = await rows<VoucherDbRow>(ctx.db, `SELECT ${VOUCHER_COLUMNS} FROM ${VOUCHER_FROM} WHERE v.member_id = $1 AND v.transaction_id = $2`, [memberId, transactionId]);
  return found;
}

/**
 * `voucher(code)`: the reward's partner looks a code up at its till (reward, state, expiry, masked
 * member); another partner gets null (NOT_FOUND: a code it did not issue does not exist for it).
 * The operator sees every voucher (member: its id), a member its own (member: its member code).
 */
export async function findVoucher(ctx: RequestContext, code: string): Promise<Voucher | null> {
  const found = await visibleVoucher(ctx, code);
  return found ? (await toVouchers(ctx, [found]))[0]! : null;
}

/**
 * Claims a reward (docs/rules.md, Rewards: claims): the member for itself (memberId omitted or its
 * own), a partner at its till for a linked member (its own rewards), the operator for any member.
 * Returns the voucher (VOUCHER) or the club membership as it stands (MEMBERSHIP), the REWARD
 * transaction and the member. A replayed key returns the first claim. Errors: NOT_FOUND, the
 * refusals (NOT_ELIGIBLE, OUT_OF_STOCK, LIMIT_EXCEEDED, MEMBER_IN_DEBT, INSUFFICIENT_POINTS),
 * IDEMPOTENCY_KEY_REUSED, INVALID_INPUT (memberId missing for a partner or the operator).
 */
export async function claimReward(ctx: RequestContext, input: ClaimRewardInput): Promise<Outcome<{ voucher: Voucher | null; membership: ClubMembership | null; transaction: Transaction; member: Member }>> {
  const caller = ctx.caller!;
  let memberId: string;
  if (caller.role === Role.MEMBER) {
    if (input.memberId != null && input.memberId !== caller.memberId) return fail(userError(ErrorCode.NOT_FOUND, 'No such member', ['input', 'memberId']));
    memberId = caller.memberId;
  } else if (caller.role === Role.PARTNER || caller.role === Role.ADMIN) {
    if (input.memberId == null) return fail(userError(ErrorCode.INVALID_INPUT, 'memberId: the member who claims', ['input', 'memberId']));
    memberId = input.memberId;
  } else throw forbidden('Rewards are claimed by members, partners at their tills and the operator');
  if (!input.idempotencyKey.trim()) return fail(userError(ErrorCode.INVALID_INPUT, 'idempotencyKey must not be blank', ['input', 'idempotencyKey']));
  const posted = await postClaim(ctx, { idempotencyKey: input.idempotencyKey, rewardId: input.rewardId, memberId });
  if (!posted.ok) return posted;
  const ids = decodeTransactionId(posted.value.transaction.id)!;
  const voucher = await voucherOfClaim(ctx, ids.memberId, ids.transactionId);
  let membership: ClubMembership | null = null;
  if (!voucher) {
    const [joined] = await rows<{ club_id: string }>(ctx.db, 'SELECT club_id FROM club_membership WHERE member_id = $1 AND transaction_id = $2', [ids.memberId, ids.transactionId]);
    if (joined) membership = (await memberClubs(ctx, ids.memberId)).find((m) => m.club.id === joined.club_id) ?? null;
  }
  return ok({ voucher: voucher ? (await toVouchers(ctx, [voucher]))[0]! : null, membership, transaction: posted.value.transaction, member: posted.value.member });
}

/**
 * Redeems a voucher at the till (docs/rules.md, Vouchers): the reward's partner only (the operator
 * for operator rewards); anyone else NOT_FOUND. Once: the state moves ISSUED → REDEEMED under the
 * voucher's row lock, so two tills redeeming one code at once redeem it once; the other gets
 * VOUCHER_NOT_REDEEMABLE naming the state (REDEEMED, VOIDED, EXPIRED — also an ISSUED voucher past
 * its expiry the job has not reached yet). `voucher.redeemed` is written in the same transaction.
 */
export async function redeemVoucher(ctx: RequestContext, input: RedeemVoucherInput): Promise<Outcome<Voucher>> {
  const caller = ctx.caller!;
  if (caller.role !== Role.PARTNER && caller.role !== Role.ADMIN) throw forbidden('Vouchers are redeemed by the reward’s partner');
  const notFound = fail(userError(ErrorCode.NOT_FOUND, 'No such voucher', ['input', 'code']));
  const outcome = await inTransaction(ctx.db, async (q) => {
    const found = await visibleVoucher(ctx, input.code, q, true);
    // The operator redeems only its own (operator) rewards' vouchers: a partner's are redeemed at that partner's till.
    if (!found || (caller.role === Role.ADMIN && found.reward_partner_id !== null)) return notFound;
    const now = clock.now();
    if (found.state !== VoucherState.ISSUED || found.expires_at.getTime() <= now.getTime()) {
      const state = found.state === VoucherState.ISSUED ? VoucherState.EXPIRED : found.state;
      return fail(userError(ErrorCode.VOUCHER_NOT_REDEEMABLE, `This voucher is ${state}${state === VoucherState.EXPIRED ? ` (since ${found.expires_at.toISOString()})` : ''}`, ['input', 'code']));
    }
    await rows(q, `UPDATE voucher SET state = 'REDEEMED', redeemed_at = $3 WHERE member_id = $1 AND id = $2`, [found.member_id, found.id, now]);
    const redeemed = { ...found, state: VoucherState.REDEEMED, redeemed_at: now };
    const common = { voucherId: found.id, code: formatVoucherCode(found.code), rewardId: found.reward_id, state: 'REDEEMED', redeemedAt: now.toISOString() };
    const partnerId = found.reward_partner_id;
    await recordEvents(q, [{ memberId: found.member_id, type: 'voucher.redeemed', occurredAt: now, partnerIds: partnerId ? [partnerId] : [], affiliateIds: [],
      data: { ...common, memberId: found.member_id, partnerId }, views: partnerId ? { [`partner:${partnerId}`]: { ...common, member: maskedMember(found.member_code) } } : {} }]);
    return ok(redeemed);
  });
  if (!outcome.ok) return outcome;
  return ok((await toVouchers(ctx, [outcome.value]))[0]!);
}

/**
 * Voids a voucher (docs/rules.md, Vouchers): its member (before use), the reward's partner, the
 * operator; anyone else NOT_FOUND. Posts a REVERSAL of the claim that gives the points back to the
 * lots they came from and reverses the REWARD obligations (postVoucherReturn); idempotent by key.
 * Errors: NOT_FOUND, VOUCHER_NOT_REDEEMABLE (not ISSUED: the state named), IDEMPOTENCY_KEY_REUSED.
 */
export async function voidVoucher(ctx: RequestContext, input: VoidVoucherInput): Promise<Outcome<{ voucher: Voucher; transaction: Transaction; member: Member }>> {
  const found = await visibleVoucher(ctx, input.code);
  if (!found) return fail(userError(ErrorCode.NOT_FOUND, 'No such voucher', ['input', 'code']));
  if (!input.idempotencyKey.trim()) return fail(userError(ErrorCode.INVALID_INPUT, 'idempotencyKey must not be blank', ['input', 'idempotencyKey']));
  const posted = await postVoucherReturn(ctx, { idempotencyKey: input.idempotencyKey, memberId: found.member_id, transactionId: found.transaction_id, voucherId: found.id });
  if (!posted.ok) return posted;
  const now = (await visibleVoucher(ctx, input.code))!;
  return ok({ voucher: (await toVouchers(ctx, [now]))[0]!, transaction: posted.value.transaction, member: posted.value.member });
}

/**
 * Member.vouchers: newest first, optionally in one state; a partner sees only the vouchers of its
 * own rewards, the operator and the member all of the member's.
 */
export async function memberVouchers(ctx: RequestContext, member: Member, args: VouchersArgs): Promise<Connection<Voucher>> {
  const params: unknown[] = [member.id];
  const conditions = ['v.member_id = $1', visibleVouchers(ctx, params)];
  if (args.state) {
    params.push(args.state);
    conditions.push(`v.state = $${params.length}`);
  }
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (first < 1) throw badRequest('first must be at least 1');
  const pageParams = [...params];
  const page = [...conditions];
  if (args.after) {
    pageParams.push(decodeCursor(args.after, ['uuid'])[0]!);
    page.push(`v.id < $${pageParams.length}`);
  }
  pageParams.push(first + 1);
  const found = await rows<VoucherDbRow>(ctx.db, `SELECT ${VOUCHER_COLUMNS} FROM ${VOUCHER_FROM} WHERE ${page.join(' AND ')} ORDER BY v.id DESC LIMIT $${pageParams.length}`, pageParams);
  const nodes = new Map((await toVouchers(ctx, found)).map((v) => [v.id, v]));
  return toConnection(found, first, (v) => [v.id], (v) => nodes.get(v.id)!,
    async () => (await rows<{ n: number }>(ctx.db, `SELECT count(*)::int AS n FROM ${VOUCHER_FROM} WHERE ${conditions.join(' AND ')}`, params))[0]!.n);
}
