import { createHash } from 'node:crypto';
import { ValidationError, validateSync } from 'class-validator';
import { Role, callerLabel } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, UserError, fail, ok, userError } from '../../api/errors';
import { Dec, EARLIEST_INSTANT, MAX_AMOUNT_UNITS, MAX_INT32, parseDecimal, toMinorUnits } from '../../common/decimal';
import { decodeTransactionId, isUuid } from '../../common/ids';
import { inPostingTransaction, isUniqueViolation, rows } from '../../db/transaction';
import { EarnResult } from '../earning/earn-rule';
import { Member } from '../member/member.types';
import { actingPartner } from '../partner/acting-partner';
import { AwardBonusInput, RecordPurchaseInput, RedeemPointsInput, ReverseTransactionInput } from '../ledger/ledger.inputs';
import { DonationRow, IDEMPOTENCY_CONSTRAINT } from '../ledger/ledger.store';
import { keptOrLoadedTerms, loadAndKeep, loadTerms } from './posting-terms.store';
import { StaleTerms } from './posting-step';
import { BreakdownLine, Transaction, TransactionType } from '../ledger/ledger.types';
import { toTransaction } from '../ledger/ledger.view';
import { PostingRun } from './posting-run';
import { normalizeAffiliateCode } from '../affiliate/affiliate.codes';
import { dropSelfAttributions } from '../affiliate/self-attribution';
import { PostingRequest, PostingTerms } from './posting.types';

/** How far ahead of the server clock a purchase's occurredAt may be (clock skew between systems). */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
/** Purchases in one recordPurchases request. */
export const MAX_BATCH_SIZE = 1000;

export interface Posted {
  transaction: Transaction;
  member: Member;
}

function requestHash(kind: string, input: object): string {
  return createHash('sha256').update(kind).update(JSON.stringify(input)).digest('hex');
}

/** Checks an amount of money: a positive decimal within the currency's precision and the sanity bound. */
function parseAmount(text: string, exponent: number, field: string[]): Outcome<Dec> {
  const amount = parseDecimal(text);
  if (!amount) return fail(userError(ErrorCode.INVALID_INPUT, 'amount must be a decimal such as "12.50"', field));
  if (amount.lte(0)) return fail(userError(ErrorCode.INVALID_INPUT, 'amount must be greater than zero', field));
  if (amount.decimalPlaces() > exponent) return fail(userError(ErrorCode.INVALID_INPUT, `amount may have at most ${exponent} decimal places in this currency`, field));
  if (amount.gt(MAX_AMOUNT_UNITS)) return fail(userError(ErrorCode.INVALID_INPUT, `amount must be at most ${MAX_AMOUNT_UNITS.toFixed()}`, field));
  return ok(amount);
}

function checkPoints(points: number, field: string[]): UserError | undefined {
  return Number.isInteger(points) && points >= 1 && points <= MAX_INT32 ? undefined : userError(ErrorCode.INVALID_INPUT, 'points must be a whole number from 1 to 2147483647', field);
}

function memberNotFound(field: string[]): Outcome<never> {
  return fail(userError(ErrorCode.NOT_FOUND, 'No such member', field));
}

/**
 * Turns a purchase input into a posting request, or says what is wrong with it. Writes nothing.
 * occurredAt may lie at most `maxBackdateDays` (the coalition's) in the past and 5 minutes ahead.
 */
function purchaseRequest(input: RecordPurchaseInput, partnerId: string, exponent: number, affiliates: Map<string, string>, now: Date, path: string[],
  maxBackdateDays: number): Outcome<PostingRequest> {
  const errors: UserError[] = [];
  if (!isUuid(input.memberId)) return memberNotFound([...path, 'memberId']);
  const amount = parseAmount(input.amount, exponent, [...path, 'amount']);
  if (!amount.ok) errors.push(...amount.errors);
  if (input.occurredAt && input.occurredAt.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    errors.push(userError(ErrorCode.INVALID_INPUT, 'occurredAt is in the future', [...path, 'occurredAt']));
  }
  if (input.occurredAt && !(input.occurredAt.getTime() >= EARLIEST_INSTANT.getTime())) {
    errors.push(userError(ErrorCode.INVALID_INPUT, `occurredAt must be after ${EARLIEST_INSTANT.toISOString()}`, [...path, 'occurredAt']));
  } else if (input.occurredAt && input.occurredAt.getTime() < now.getTime() - maxBackdateDays * DAY_MS) {
    // Backdating is bounded: holds, promotions and day caps would otherwise be farmed in the past.
    errors.push(userError(ErrorCode.INVALID_INPUT, `occurredAt may be at most ${maxBackdateDays} days in the past`, [...path, 'occurredAt']));
  }
  if (input.lines?.length && amount.ok) {
    let sum = new Dec(0);
    input.lines.forEach((line, i) => {
      const lineAmount = parseDecimal(line.amount);
      if (!lineAmount || lineAmount.lt(0) || lineAmount.decimalPlaces() > exponent) {
        errors.push(userError(ErrorCode.INVALID_INPUT, `a line amount must be a non-negative amount with at most ${exponent} decimal places`, [...path, 'lines', String(i), 'amount']));
      } else sum = sum.plus(lineAmount);
    });
    if (!errors.length && !sum.eq(amount.value)) errors.push(userError(ErrorCode.INVALID_INPUT, `lines sum to ${sum.toFixed()}, not to the amount ${amount.value.toFixed()}`, [...path, 'lines']));
  }
  const affiliateCode = input.affiliateCode == null ? undefined : normalizeAffiliateCode(input.affiliateCode);
  const affiliateId = affiliateCode !== undefined ? affiliates.get(affiliateCode) ?? null : null;
  if (input.affiliateCode != null && !affiliateId) errors.push(userError(ErrorCode.INVALID_INPUT, 'Unknown affiliate code', [...path, 'affiliateCode']));
  if (errors.length || !amount.ok) return fail(...errors);
  const normalized = {
    memberId: input.memberId, partnerId, amount: amount.value.toFixed(), occurredAt: input.occurredAt?.toISOString() ?? null,
    lines: input.lines?.map((l) => ({ sku: l.sku ?? null, category: l.category ?? null, amount: new Dec(l.amount).toFixed() })) ?? null,
    affiliateCode: input.affiliateCode == null ? null : affiliateCode ?? null,
  };
  return ok({
    kind: TransactionType.PURCHASE, memberId: input.memberId, idempotencyKey: input.idempotencyKey, partnerId,
    requestHash: requestHash(TransactionType.PURCHASE, normalized),
    amount: amount.value, amountMinor: toMinorUnits(amount.value, exponent), occurredAt: input.occurredAt ?? now,
    lines: input.lines?.length ? input.lines.map((l) => ({ category: l.category?.trim() || null, amount: new Dec(l.amount) })) : null,
    affiliateId,
  });
}

/**
 * Posts a batch of requests for one caller in one database transaction (see PostingRun); failed
 * requests come back as their user errors and write nothing.
 */
async function post(ctx: RequestContext, requests: Outcome<PostingRequest>[], terms: PostingTerms, dryRun = false,
  linkPartnerId: string | null = linkScope(ctx), termsVersion?: string): Promise<Outcome<Posted & { earned?: EarnResult; donation?: DonationRow; availableAt?: Date }>[]> {
  const currency = { code: terms.coalition.currency, exponent: terms.coalition.currencyExponent };
  const valid = requests.flatMap((r) => (r.ok ? [r.value] : []));
  if (!valid.length) return requests as Outcome<Posted>[];
  const options = { caller: callerLabel(ctx.caller!), linkPartnerId, dryRun, termsVersion };
  const outcome = await inPostingTransaction(ctx.db, async (q) => ok(await new PostingRun(q, terms, options).run(valid)),
    // A new voucher code that collides with an existing one (60 random bits: practically never) is drawn again by the retry.
    (error) => isUniqueViolation(error, IDEMPOTENCY_CONSTRAINT) || isUniqueViolation(error, 'PK_voucher_code'));
  if (!outcome.ok) throw new Error('unreachable: posting outcome is always ok');
  const results = outcome.value;
  let next = 0;
  return requests.map((r) => {
    if (!r.ok) return r;
    const result = results[next++]!;
    if (!result.ok) return result;
    return ok({ transaction: toTransaction(result.value.transaction, currency), member: result.value.member, earned: result.value.earned, donation: result.value.donation,
      availableAt: result.value.availableAt });
  });
}

/**
 * The terms a batch of purchases needs: its partners (with their promotions and clubs) and the
 * affiliates of its codes. Kept from an earlier posting unless `fresh` (keptOrLoadedTerms).
 */
async function purchaseTerms(ctx: RequestContext, partnerIds: string[], inputs: RecordPurchaseInput[], fresh: boolean): Promise<{ terms: PostingTerms; kept: boolean }> {
  const codes = [...new Set(inputs.map((i) => (i.affiliateCode == null ? undefined : normalizeAffiliateCode(i.affiliateCode))).filter((c): c is string => c !== undefined))];
  return fresh ? { terms: await loadAndKeep(ctx.db, partnerIds, codes), kept: false } : keptOrLoadedTerms(ctx.db, partnerIds, codes);
}

/** Keeps field paths pointing into `inputs[i]` for batch items. */
function atPath<T>(outcome: Outcome<T>, path: string[]): Outcome<T> {
  if (outcome.ok || path[0] !== 'inputs') return outcome;
  return fail(...outcome.errors.map((e) => ({ ...e, field: e.field ? [...path, ...e.field.slice(1)] : path })));
}

export async function recordPurchases(ctx: RequestContext, inputs: RecordPurchaseInput[], batch: boolean): Promise<Outcome<Posted>[]> {
  const results = await onCurrentTerms(ctx, inputs, batch, false);
  return batch ? results.map((r, i) => atPath(r, ['inputs', String(i)])) : results;
}

/**
 * Checks and posts purchases on the terms kept from an earlier posting when there are some, with
 * the lock statement confirming they are current; when they are not (StaleTerms), or when an input
 * was refused on them, once more on terms read afresh — a change to the terms counts from the next
 * posting on, as when every posting read them.
 */
async function onCurrentTerms(ctx: RequestContext, inputs: RecordPurchaseInput[], batch: boolean, dryRun: boolean) {
  for (let fresh = false; ; fresh = true) {
    const { requests, terms, kept } = await purchaseRequests(ctx, inputs, batch, fresh);
    if (kept && requests.some((r) => !r.ok)) continue;
    try {
      return await post(ctx, requests, terms, dryRun, linkScope(ctx), kept ? terms.version : undefined);
    } catch (error) {
      if (!(error instanceof StaleTerms) || fresh) throw error;
    }
  }
}

async function purchaseRequests(ctx: RequestContext, inputs: RecordPurchaseInput[], batch: boolean, fresh: boolean)
  : Promise<{ requests: Outcome<PostingRequest>[]; terms: PostingTerms; kept: boolean }> {
  const now = new Date();
  // In parallel, so the partner loader checks every named partner in one query.
  const acting = await Promise.all(inputs.map((input) => actingPartner(ctx, input.partnerId, false)));
  const { terms, kept } = await purchaseTerms(ctx, [...new Set(acting.flatMap((a) => (a.ok && a.value ? [a.value] : [])))], inputs, fresh);
  const requests = inputs.map((input, i): Outcome<PostingRequest> => {
    const partner = acting[i]!;
    if (!partner.ok) return partner;
    const invalid = batch ? checkBatchItem(input) : [];
    if (invalid.length) return fail(...invalid);
    return purchaseRequest(input, partner.value!, terms.coalition.currencyExponent, terms.affiliates, now, ['input'], terms.coalition.maxBackdateDays);
  });
  // An affiliate code naming the member's own affiliate account attributes nothing: the purchase posts as without it.
  await dropSelfAttributions(ctx.db, requests.flatMap((r) => (r.ok && r.value.kind === TransactionType.PURCHASE && isUuid(r.value.memberId) ? [r.value] : [])));
  return { requests, terms, kept };
}

export interface Quote {
  points: number;
  breakdown: BreakdownLine[];
  /** When the points would become available: the partner's return window after the later of occurredAt and now; now when it has none. */
  availableAt: Date;
}

/**
 * Exactly what recordPurchase would post for this input now: the same path under the same member
 * lock, with the writes left out. The idempotency key is not looked at.
 */
export async function quotePurchase(ctx: RequestContext, input: RecordPurchaseInput): Promise<Outcome<Quote>> {
  const [result] = await onCurrentTerms(ctx, [input], false, true);
  if (!result!.ok) return result!;
  return ok({ points: result!.value.transaction.points, breakdown: result!.value.transaction.breakdown, availableAt: result!.value.availableAt! });
}

/**
 * The input rules class-validator applies to a single purchase's arguments, applied to each item
 * of a batch on its own, so one bad item does not sink the others.
 */
function checkBatchItem(input: RecordPurchaseInput): UserError[] {
  return validateSync(input, { forbidUnknownValues: false, validationError: { target: false, value: false } })
    .flatMap((error) => flattenValidationError(error, ['input']));
}

function flattenValidationError(error: ValidationError, path: string[]): UserError[] {
  const field = [...path, error.property];
  const own = Object.values(error.constraints ?? {}).map((message) => userError(ErrorCode.INVALID_INPUT, message, field));
  return [...own, ...(error.children ?? []).flatMap((child) => flattenValidationError(child, field))];
}

/** Partners act on linked members only; the operator on every member. */
function linkScope(ctx: RequestContext): string | null {
  return ctx.caller!.role === Role.PARTNER ? ctx.caller!.partnerId : null;
}

/** The checks a single points posting for a member shares: who acts, which member, how many points. */
async function pointsPosting(ctx: RequestContext, input: { memberId: string; points: number; partnerId?: string | null; description?: string | null },
  operatorMayOmitPartner: boolean): Promise<Outcome<{ partnerId: string | null; description: string | null }>> {
  const acting = await actingPartner(ctx, input.partnerId, operatorMayOmitPartner);
  if (!acting.ok) return acting;
  if (!isUuid(input.memberId)) return memberNotFound(['input', 'memberId']);
  const pointsError = checkPoints(input.points, ['input', 'points']);
  if (pointsError) return fail(pointsError);
  return ok({ partnerId: acting.value, description: input.description?.trim() || null });
}

async function postOne(ctx: RequestContext, request: PostingRequest): Promise<Outcome<Posted>> {
  const [result] = await post(ctx, [ok(request)], await loadTerms(ctx.db, request.partnerId ? [request.partnerId] : []));
  return result!;
}

export async function redeemPoints(ctx: RequestContext, input: RedeemPointsInput): Promise<Outcome<Posted>> {
  const checked = await pointsPosting(ctx, input, false);
  if (!checked.ok) return checked;
  const { partnerId, description } = checked.value;
  return postOne(ctx, {
    kind: TransactionType.REDEMPTION, memberId: input.memberId, idempotencyKey: input.idempotencyKey, partnerId, points: input.points, description,
    requestHash: requestHash(TransactionType.REDEMPTION, { memberId: input.memberId, partnerId, points: input.points, description }),
  });
}

export async function awardBonus(ctx: RequestContext, input: AwardBonusInput): Promise<Outcome<Posted>> {
  const checked = await pointsPosting(ctx, input, true);
  if (!checked.ok) return checked;
  const { partnerId, description } = checked.value;
  return postOne(ctx, {
    kind: TransactionType.BONUS, memberId: input.memberId, idempotencyKey: input.idempotencyKey, partnerId, action: input.action, points: input.points, description,
    requestHash: requestHash(TransactionType.BONUS, { memberId: input.memberId, partnerId, action: input.action, points: input.points, description }),
  });
}

export async function reverseTransaction(ctx: RequestContext, input: ReverseTransactionInput): Promise<Outcome<Posted>> {
  const ids = decodeTransactionId(input.transactionId);
  if (!ids) return fail(userError(ErrorCode.NOT_FOUND, 'No such transaction', ['input', 'transactionId']));
  const partnerId = ctx.caller!.role === Role.PARTNER ? ctx.caller!.partnerId : null;
  // A refund may cancel the member's referral: the lock statement locks its referrer too (lockMembers' referrals).
  const terms = await loadTerms(ctx.db, partnerId ? [partnerId] : []);
  let refundMinor: bigint | null = null;
  if (input.amount != null) {
    const { currencyExponent } = terms.coalition;
    const amount = parseAmount(input.amount, currencyExponent, ['input', 'amount']);
    if (!amount.ok) return amount;
    refundMinor = toMinorUnits(amount.value, currencyExponent);
  }
  const request: PostingRequest = {
    kind: TransactionType.REVERSAL, memberId: ids.memberId, idempotencyKey: input.idempotencyKey, partnerId,
    requestHash: requestHash(TransactionType.REVERSAL, { transactionId: ids.transactionId, refundMinor: refundMinor?.toString() ?? null }),
    originalId: ids.transactionId, refundMinor,
  };
  const [result] = await post(ctx, [ok(request)], terms);
  return result!;
}


/** A member gives points to a cause (docs/rules.md, Charity): idempotent by key, like every posting. */
export async function donatePoints(ctx: RequestContext, input: { idempotencyKey: string; causeId: string; points: number }): Promise<Outcome<Posted & { donation: DonationRow }>> {
  const memberId = (ctx.caller as { memberId: string }).memberId;
  const pointsError = checkPoints(input.points, ['input', 'points']);
  if (pointsError) return fail(pointsError);
  if (!isUuid(input.causeId)) return fail(userError(ErrorCode.NOT_FOUND, 'No such cause', ['input', 'causeId']));
  const request: PostingRequest = {
    kind: TransactionType.DONATION, memberId, idempotencyKey: input.idempotencyKey, partnerId: null, causeId: input.causeId, points: input.points,
    requestHash: requestHash(TransactionType.DONATION, { causeId: input.causeId, points: input.points }),
  };
  const [result] = await post(ctx, [ok(request)], await loadTerms(ctx.db, []));
  if (!result!.ok) return result!;
  // A replayed key brings the transaction back, not the donation row: read it.
  const donation = result!.value.donation ?? (await findDonationOf(ctx, memberId, decodeTransactionId(result!.value.transaction.id)!.transactionId));
  return ok({ ...result!.value, donation: donation! });
}

async function findDonationOf(ctx: RequestContext, memberId: string, transactionId: string): Promise<DonationRow | undefined> {
  const [row] = await rows<DonationRow>(ctx.db, 'SELECT * FROM donation WHERE member_id = $1 AND transaction_id = $2', [memberId, transactionId]);
  return row;
}

/**
 * Claims a reward for a member (docs/rules.md, Rewards: claims) as a REWARD posting (the reward step):
 * idempotent by key per caller and member like every posting. A partner claims at its till for a
 * member linked to it, its own rewards only (others NOT_FOUND); the member and the operator any
 * reward. Errors: NOT_FOUND (member, reward), the claim refusals (reward step), IDEMPOTENCY_KEY_REUSED.
 */
export async function postClaim(ctx: RequestContext, input: { idempotencyKey: string; rewardId: string; memberId: string }): Promise<Outcome<Posted>> {
  if (!isUuid(input.memberId)) return memberNotFound(['input', 'memberId']);
  if (!isUuid(input.rewardId)) return fail(userError(ErrorCode.NOT_FOUND, 'No such reward', ['input', 'rewardId']));
  const partnerId = ctx.caller!.role === Role.PARTNER ? ctx.caller!.partnerId : null;
  const request: PostingRequest = {
    kind: TransactionType.REWARD, memberId: input.memberId, idempotencyKey: input.idempotencyKey, partnerId, rewardId: input.rewardId,
    requestHash: requestHash(TransactionType.REWARD, { memberId: input.memberId, rewardId: input.rewardId }),
  };
  const [result] = await post(ctx, [ok(request)], await loadTerms(ctx.db, []));
  return result!;
}

/**
 * Returns a claimed reward with its voucher (voidVoucher): a REVERSAL of the claim's REWARD
 * transaction posted by the reward step, idempotent by key. The caller's right to the voucher is
 * checked before (the voucher's member, the reward's partner, the operator), so the member need not
 * be linked to the partner. Errors: VOUCHER_NOT_REDEEMABLE (not ISSUED), IDEMPOTENCY_KEY_REUSED.
 */
export async function postVoucherReturn(ctx: RequestContext, input: { idempotencyKey: string; memberId: string; transactionId: string; voucherId: string }): Promise<Outcome<Posted>> {
  const partnerId = ctx.caller!.role === Role.PARTNER ? ctx.caller!.partnerId : null;
  const request: PostingRequest = {
    kind: TransactionType.REVERSAL, memberId: input.memberId, idempotencyKey: input.idempotencyKey, partnerId, originalId: input.transactionId, refundMinor: null,
    voucher: { id: input.voucherId, to: 'VOIDED' }, requestHash: requestHash('VOUCHER_VOID', { voucherId: input.voucherId }),
  };
  const [result] = await post(ctx, [ok(request)], await loadTerms(ctx.db, []), false, null);
  return result!;
}
