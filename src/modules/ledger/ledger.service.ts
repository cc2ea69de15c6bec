import { createHash } from 'node:crypto';
import { ValidationError, validateSync } from 'class-validator';
import { QueryRunner } from 'typeorm';
import { Role, callerLabel } from '../../api/auth';
import type { RequestContext } from '../../api/context';
import { ErrorCode, Outcome, UserError, fail, ok, userError } from '../../api/errors';
import { Dec, MAX_AMOUNT_UNITS, MAX_INT32, formatMinorUnits, parseDecimal, toMinorUnits } from '../../common/decimal';
import { decodeTransactionId, encodeTransactionId, isUuid, uuidv7 } from '../../common/ids';
import { inTransaction, isUniqueViolation } from '../../db/transaction';
import { Coalition } from '../coalition/coalition.types';
import { DEFAULT_POINTS_VALIDITY_DAYS, computeEarn } from '../earning/earn-rule';
import { Member } from '../member/member.types';
import { toMember } from '../member/member.service';
import { actingPartner } from '../partner/acting-partner';
import { AwardBonusInput, RecordPurchaseInput, RedeemPointsInput, ReverseTransactionInput } from './ledger.inputs';
import { LotState, MemberBook, ObligationRow, emptyChanges, refundPoints } from './ledger.rules';
import {
  IDEMPOTENCY_CONSTRAINT, LockedMember, PartnerTerms, Posting, TransactionRow, findTransaction, loadConsumption, loadLots,
  loadOpenDebts, loadPartnerTerms, loadTerms, lockMembers, reversalTotals, writePosting,
} from './ledger.store';
import { BonusAction, Transaction, TransactionType } from './ledger.types';

/** How far ahead of the server clock a purchase's occurredAt may be (clock skew between systems). */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** Purchases in one recordPurchases request. */
export const MAX_BATCH_SIZE = 1000;
const DAY_MS = 86_400_000;

interface RequestBase {
  memberId: string;
  idempotencyKey: string;
  requestHash: string;
  /** The partner the posting is for; null: the operator. */
  partnerId: string | null;
}

type PostingRequest = RequestBase & (
  | { kind: TransactionType.PURCHASE; amount: Dec; amountMinor: bigint; occurredAt: Date }
  | { kind: TransactionType.BONUS; action: BonusAction; points: number; description: string | null }
  | { kind: TransactionType.REDEMPTION; points: number; description: string | null }
  | { kind: TransactionType.REVERSAL; originalId: string; refundMinor: bigint | null }
);

export interface Posted {
  transaction: Transaction;
  member: Member;
}

function requestHash(kind: string, input: object): string {
  return createHash('sha256').update(kind).update(JSON.stringify(input)).digest('hex');
}

export function toTransaction(row: TransactionRow, currency: { code: string; exponent: number }): Transaction {
  return {
    id: encodeTransactionId(row.member_id, row.id),
    type: row.type as TransactionType,
    points: row.points,
    memberId: row.member_id,
    partnerId: row.partner_id,
    amount: row.amount_minor === null ? null : { amount: formatMinorUnits(BigInt(row.amount_minor), currency.exponent), currency: currency.code },
    reversesId: row.reverses_id ? encodeTransactionId(row.member_id, row.reverses_id) : null,
    bonusAction: row.bonus_action as BonusAction | null,
    description: row.description,
    breakdown: row.breakdown,
    occurredAt: row.occurred_at,
    postedAt: row.posted_at,
  };
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

/** Turns a purchase input into a posting request, or says what is wrong with it. Writes nothing. */
function purchaseRequest(input: RecordPurchaseInput, partnerId: string, exponent: number, now: Date, path: string[]): Outcome<PostingRequest> {
  const errors: UserError[] = [];
  if (!isUuid(input.memberId)) return memberNotFound([...path, 'memberId']);
  const amount = parseAmount(input.amount, exponent, [...path, 'amount']);
  if (!amount.ok) errors.push(...amount.errors);
  if (input.occurredAt && input.occurredAt.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    errors.push(userError(ErrorCode.INVALID_INPUT, 'occurredAt is in the future', [...path, 'occurredAt']));
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
  if (input.affiliateCode != null) {
    // Affiliates arrive with their own issue; until then no code is known.
    errors.push(userError(ErrorCode.INVALID_INPUT, 'Unknown affiliate code', [...path, 'affiliateCode']));
  }
  if (errors.length || !amount.ok) return fail(...errors);
  const normalized = {
    memberId: input.memberId, partnerId, amount: amount.value.toFixed(), occurredAt: input.occurredAt?.toISOString() ?? null,
    lines: input.lines?.map((l) => ({ sku: l.sku ?? null, category: l.category ?? null, amount: new Dec(l.amount).toFixed() })) ?? null,
    affiliateCode: input.affiliateCode ?? null,
  };
  return ok({
    kind: TransactionType.PURCHASE, memberId: input.memberId, idempotencyKey: input.idempotencyKey, partnerId,
    requestHash: requestHash(TransactionType.PURCHASE, normalized),
    amount: amount.value, amountMinor: toMinorUnits(amount.value, exponent), occurredAt: input.occurredAt ?? now,
  });
}

/**
 * Posts a batch of requests for one caller in one transaction: the members are locked in id
 * order, every request is judged on its own against the state the requests before it left, and
 * all that succeeded is written in one statement. A failed request writes nothing.
 */
async function post(ctx: RequestContext, requests: (Outcome<PostingRequest>)[], linkPartnerId: string | null,
  terms: { coalition: Coalition; partners: Map<string, PartnerTerms> }): Promise<Outcome<Posted>[]> {
  const caller = callerLabel(ctx.caller!);
  const currency = { code: terms.coalition.currency, exponent: terms.coalition.currencyExponent };
  const valid = requests.flatMap((r) => (r.ok ? [r.value] : []));
  if (!valid.length) return requests as Outcome<Posted>[];
  const outcome = await inTransaction(ctx.db, async (q) => ok(await postLocked(q, caller, valid, linkPartnerId, terms.partners)),
    (error) => isUniqueViolation(error, IDEMPOTENCY_CONSTRAINT));
  if (!outcome.ok) throw new Error('unreachable: posting outcome is always ok');
  const results = outcome.value;
  let next = 0;
  return requests.map((r) => {
    if (!r.ok) return r;
    const result = results[next++]!;
    if (!result.ok) return result;
    return ok({ transaction: toTransaction(result.value.transaction, currency), member: result.value.member });
  });
}

interface RawPosted {
  transaction: TransactionRow;
  member: Member;
}

async function postLocked(q: QueryRunner, caller: string, requests: PostingRequest[], linkPartnerId: string | null,
  knownTerms: Map<string, PartnerTerms>): Promise<Outcome<RawPosted>[]> {
  const now = new Date();
  const memberIds = [...new Set(requests.map((r) => r.memberId))].sort();
  const locked = await lockMembers(q, memberIds, linkPartnerId, caller, [...new Set(requests.map((r) => r.idempotencyKey))]);

  // What reversals need: the original, what was already reversed, and for a redemption its consumption.
  const originals = new Map<PostingRequest, { row: TransactionRow; totals: { count: number; refundedMinor: bigint; points: number };
    consumption?: { movements: { lotId: string; points: number }[]; obligations: ObligationRow[] } }>();
  for (const r of requests) {
    if (r.kind !== TransactionType.REVERSAL || !locked.get(r.memberId)?.linked) continue;
    const row = await findTransaction(q, r.memberId, r.originalId);
    if (!row) continue;
    const totals = await reversalTotals(q, r.memberId, r.originalId);
    const consumption = row.type === TransactionType.REDEMPTION ? await loadConsumption(q, r.memberId, r.originalId) : undefined;
    originals.set(r, { row, totals, consumption });
  }
  const lotMembers = [...new Set(requests.filter((r) => r.kind === TransactionType.REDEMPTION || r.kind === TransactionType.REVERSAL).map((r) => r.memberId))];
  const lotIds = [...originals.values()].flatMap((o) => o.consumption?.movements.map((m) => m.lotId) ?? []);
  const lots = lotMembers.length ? await loadLots(q, lotMembers, lotIds) : new Map<string, LotState[]>();
  const debts = await loadOpenDebts(q, memberIds.filter((id) => Number(locked.get(id)?.debt ?? 0) > 0));
  const partnerIds = new Set<string>();
  for (const r of requests) if (r.partnerId) partnerIds.add(r.partnerId);
  for (const list of debts.values()) for (const d of list) if (d.creditorPartnerId) partnerIds.add(d.creditorPartnerId);
  for (const o of originals.values()) if (o.row.partner_id) partnerIds.add(o.row.partner_id);
  const terms = new Map(knownTerms);
  for (const [id, t] of await loadPartnerTerms(q, [...partnerIds].filter((id) => !terms.has(id)))) terms.set(id, t);

  const changes = emptyChanges();
  const rateOf = (partnerId: string) => terms.get(partnerId)!.redemption_value_per_point;
  const books = new Map<string, MemberBook>();
  const bookOf = (member: LockedMember) => {
    let book = books.get(member.id);
    if (!book) {
      book = new MemberBook(member.id, Number(member.balance), Number(member.debt), lots.get(member.id) ?? [], debts.get(member.id) ?? [], changes, rateOf);
      books.set(member.id, book);
    }
    return book;
  };
  const written: TransactionRow[] = [];
  const byKey = new Map<string, TransactionRow>();
  for (const member of locked.values()) for (const t of member.earlier) byKey.set(`${t.member_id}|${t.idempotency_key}`, t);
  const results: (Outcome<TransactionRow> & { memberId: string })[] = [];

  for (const r of requests) {
    const member = locked.get(r.memberId);
    const result = (() => {
      if (!member?.linked) return r.kind === TransactionType.REVERSAL ? fail(userError(ErrorCode.NOT_FOUND, 'No such transaction', ['input', 'transactionId'])) : memberNotFound(['input', 'memberId']);
      const previous = byKey.get(`${r.memberId}|${r.idempotencyKey}`);
      if (previous) {
        return previous.request_hash === r.requestHash ? ok(previous)
          : fail(userError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This idempotency key was used with different input', ['input', 'idempotencyKey']));
      }
      const row = postOne(r, bookOf(member), terms, originals.get(r), caller, now);
      if (row.ok) {
        written.push(row.value);
        byKey.set(`${r.memberId}|${r.idempotencyKey}`, row.value);
      }
      return row;
    })();
    results.push({ ...result, memberId: r.memberId });
  }

  const posting: Posting = { transactions: written, changes, lots: [], lotOwner: new Map(), debts: [], members: [] };
  for (const book of books.values()) {
    for (const lot of book.lots.values()) {
      if (lot.isNew || lot.dirty) {
        posting.lots.push(lot);
        posting.lotOwner.set(lot, book.memberId);
      }
    }
    for (const debt of book.debts) if (debt.isNew || debt.dirty) posting.debts.push({ memberId: book.memberId, debt });
    const before = locked.get(book.memberId)!;
    if (book.balance !== Number(before.balance) || book.debt !== Number(before.debt)) posting.members.push({ id: book.memberId, balance: book.balance, debt: book.debt });
  }
  await writePosting(q, posting, now);

  return results.map((result) => {
    if (!result.ok) return result;
    const before = locked.get(result.memberId)!;
    const book = books.get(result.memberId);
    const member = toMember({ ...before, balance: String(book?.balance ?? before.balance), debt: String(book?.debt ?? before.debt) });
    return ok({ transaction: result.value, member });
  });
}

/** Applies one request to its member's book; the transaction row it posts, or why it cannot. */
function postOne(r: PostingRequest, book: MemberBook, terms: Map<string, PartnerTerms>,
  original: { row: TransactionRow; totals: { count: number; refundedMinor: bigint; points: number }; consumption?: { movements: { lotId: string; points: number }[]; obligations: ObligationRow[] } } | undefined,
  caller: string, now: Date): Outcome<TransactionRow> {
  const id = uuidv7(now.getTime());
  const tx: TransactionRow = {
    member_id: r.memberId, id, type: r.kind, partner_id: r.partnerId, caller, idempotency_key: r.idempotencyKey, request_hash: r.requestHash,
    points: 0, amount_minor: null, reverses_id: null, bonus_action: null, description: null, breakdown: [], occurred_at: now, posted_at: now,
  };
  const validityDays = (partnerId: string | null) => (partnerId ? terms.get(partnerId)!.earn_rule.pointsValidityDays : DEFAULT_POINTS_VALIDITY_DAYS);
  const expiry = (partnerId: string | null) => new Date(now.getTime() + validityDays(partnerId) * DAY_MS);
  switch (r.kind) {
    case TransactionType.PURCHASE: {
      const earned = computeEarn(terms.get(r.partnerId!)!.earn_rule, { amount: r.amount });
      if (earned.points > MAX_INT32) return fail(userError(ErrorCode.INVALID_INPUT, 'This purchase would earn more points than one transaction can hold', ['input', 'amount']));
      book.credit(id, uuidv7(now.getTime()), { partnerId: r.partnerId }, earned.points, expiry(r.partnerId), now);
      return ok({ ...tx, points: earned.points, amount_minor: r.amountMinor.toString(), breakdown: earned.breakdown, occurred_at: r.occurredAt });
    }
    case TransactionType.BONUS: {
      book.credit(id, uuidv7(now.getTime()), { partnerId: r.partnerId }, r.points, expiry(r.partnerId), now);
      return ok({ ...tx, points: r.points, bonus_action: r.action, description: r.description,
        breakdown: [{ rule: 'BONUS', points: r.points, detail: `${r.action} bonus` }] });
    }
    case TransactionType.REDEMPTION: {
      const refused = book.redeem(id, r.partnerId!, r.points);
      if (refused === 'MEMBER_IN_DEBT') return fail(userError(ErrorCode.MEMBER_IN_DEBT, `The member owes ${book.debt} points and cannot redeem until they are repaid`, ['input', 'memberId']));
      if (refused === 'INSUFFICIENT_POINTS') return fail(userError(ErrorCode.INSUFFICIENT_POINTS, `The member has ${book.balance} points, fewer than ${r.points}`, ['input', 'points']));
      return ok({ ...tx, points: -r.points, description: r.description });
    }
    case TransactionType.REVERSAL:
      return reverse(r, book, original, tx, now);
  }
}

function reverse(r: PostingRequest & { kind: TransactionType.REVERSAL }, book: MemberBook,
  original: { row: TransactionRow; totals: { count: number; refundedMinor: bigint; points: number }; consumption?: { movements: { lotId: string; points: number }[]; obligations: ObligationRow[] } } | undefined,
  tx: TransactionRow, now: Date): Outcome<TransactionRow> {
  const notFound = fail(userError(ErrorCode.NOT_FOUND, 'No such transaction', ['input', 'transactionId']));
  // Only the partner that posted a transaction, or the operator, reverses it.
  if (!original || (r.partnerId !== null && original.row.partner_id !== r.partnerId)) return notFound;
  const { row, totals } = original;
  const reversal = { ...tx, partner_id: row.partner_id, reverses_id: row.id, occurred_at: now };
  const issuer = { partnerId: row.partner_id };
  switch (row.type) {
    case TransactionType.PURCHASE: {
      const amountMinor = BigInt(row.amount_minor!);
      if (totals.refundedMinor >= amountMinor) return fail(userError(ErrorCode.ALREADY_REVERSED, 'This purchase has been fully refunded', ['input', 'transactionId']));
      const left = amountMinor - totals.refundedMinor;
      const refund = r.refundMinor ?? left;
      if (refund > left) return fail(userError(ErrorCode.INVALID_INPUT, 'The refund is more than is left of the purchase', ['input', 'amount']));
      const points = refundPoints(row.points, amountMinor, totals.refundedMinor, -totals.points, refund);
      const ownLot = [...book.lots.values()].find((l) => l.transactionId === row.id);
      book.takeBack(tx.id, issuer, ownLot?.id, points, uuidv7(now.getTime()), now);
      return ok({ ...reversal, points: -points, amount_minor: refund.toString(),
        breakdown: [{ rule: refund === left ? 'REFUND' : 'PARTIAL_REFUND', points: -points, detail: `refund of ${refund} of ${amountMinor} minor units` }] });
    }
    case TransactionType.BONUS: {
      if (r.refundMinor !== null) return fail(userError(ErrorCode.INVALID_INPUT, 'Bonuses reverse whole: leave amount out', ['input', 'amount']));
      if (totals.count > 0) return fail(userError(ErrorCode.ALREADY_REVERSED, 'This bonus has been reversed', ['input', 'transactionId']));
      const ownLot = [...book.lots.values()].find((l) => l.transactionId === row.id);
      book.takeBack(tx.id, issuer, ownLot?.id, row.points, uuidv7(now.getTime()), now);
      return ok({ ...reversal, points: -row.points });
    }
    case TransactionType.REDEMPTION: {
      if (r.refundMinor !== null) return fail(userError(ErrorCode.INVALID_INPUT, 'Redemptions reverse whole: leave amount out', ['input', 'amount']));
      if (totals.count > 0) return fail(userError(ErrorCode.ALREADY_REVERSED, 'This redemption has been reversed', ['input', 'transactionId']));
      book.restore(tx.id, row.partner_id!, original.consumption!.movements, original.consumption!.obligations);
      return ok({ ...reversal, points: -row.points });
    }
    default:
      return fail(userError(ErrorCode.INVALID_INPUT, 'A reversal cannot itself be reversed', ['input', 'transactionId']));
  }
}

/** Keeps field paths pointing into `inputs[i]` for batch items. */
function atPath<T>(outcome: Outcome<T>, path: string[]): Outcome<T> {
  if (outcome.ok || path[0] !== 'inputs') return outcome;
  return fail(...outcome.errors.map((e) => ({ ...e, field: e.field ? [...path, ...e.field.slice(1)] : path })));
}

export async function recordPurchases(ctx: RequestContext, inputs: RecordPurchaseInput[], batch: boolean): Promise<Outcome<Posted>[]> {
  const now = new Date();
  const acting: Outcome<string | null>[] = [];
  for (const input of inputs) acting.push(await actingPartner(ctx, input.partnerId, false));
  const terms = await loadTerms(ctx.db, [...new Set(acting.flatMap((a) => (a.ok && a.value ? [a.value] : [])))]);
  const requests = inputs.map((input, i): Outcome<PostingRequest> => {
    const partner = acting[i]!;
    if (!partner.ok) return partner;
    const invalid = batch ? checkBatchItem(input) : [];
    if (invalid.length) return fail(...invalid);
    return purchaseRequest(input, partner.value!, terms.coalition.currencyExponent, now, ['input']);
  });
  const results = await post(ctx, requests, linkScope(ctx), terms);
  return batch ? results.map((r, i) => atPath(r, ['inputs', String(i)])) : results;
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

export async function redeemPoints(ctx: RequestContext, input: RedeemPointsInput): Promise<Outcome<Posted>> {
  const acting = await actingPartner(ctx, input.partnerId, false);
  if (!acting.ok) return acting;
  if (!isUuid(input.memberId)) return memberNotFound(['input', 'memberId']);
  const pointsError = checkPoints(input.points, ['input', 'points']);
  if (pointsError) return fail(pointsError);
  const description = input.description?.trim() || null;
  const request: PostingRequest = {
    kind: TransactionType.REDEMPTION, memberId: input.memberId, idempotencyKey: input.idempotencyKey, partnerId: acting.value,
    requestHash: requestHash(TransactionType.REDEMPTION, { memberId: input.memberId, partnerId: acting.value, points: input.points, description }),
    points: input.points, description,
  };
  const [result] = await post(ctx, [ok(request)], linkScope(ctx), await loadTerms(ctx.db, [acting.value!]));
  return result!;
}

export async function awardBonus(ctx: RequestContext, input: AwardBonusInput): Promise<Outcome<Posted>> {
  const acting = await actingPartner(ctx, input.partnerId, true);
  if (!acting.ok) return acting;
  if (!isUuid(input.memberId)) return memberNotFound(['input', 'memberId']);
  const pointsError = checkPoints(input.points, ['input', 'points']);
  if (pointsError) return fail(pointsError);
  const description = input.description?.trim() || null;
  const request: PostingRequest = {
    kind: TransactionType.BONUS, memberId: input.memberId, idempotencyKey: input.idempotencyKey, partnerId: acting.value,
    requestHash: requestHash(TransactionType.BONUS, { memberId: input.memberId, partnerId: acting.value, action: input.action, points: input.points, description }),
    action: input.action, points: input.points, description,
  };
  const [result] = await post(ctx, [ok(request)], linkScope(ctx), await loadTerms(ctx.db, acting.value ? [acting.value] : []));
  return result!;
}

export async function reverseTransaction(ctx: RequestContext, input: ReverseTransactionInput): Promise<Outcome<Posted>> {
  const ids = decodeTransactionId(input.transactionId);
  if (!ids) return fail(userError(ErrorCode.NOT_FOUND, 'No such transaction', ['input', 'transactionId']));
  const partnerId = ctx.caller!.role === Role.PARTNER ? ctx.caller!.partnerId : null;
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
  const [result] = await post(ctx, [ok(request)], linkScope(ctx), terms);
  return result!;
}

