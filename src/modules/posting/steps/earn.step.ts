import { ErrorCode, fail, ok, userError } from '../../../api/errors';
import { MAX_INT32 } from '../../../common/decimal';
import { uuidv7 } from '../../../common/ids';
import { ClubForEarn, computeEarn, purchaseAvailableAt, reachesMinSpend } from '../../earning/earn-rule';
import { utcDay } from '../../earning/earn-history.store';
import { TransactionType } from '../../ledger/ledger.types';
import type { Applied, Posted, PostingStep, StepScope } from '../posting-step';
import type { ClubTerms, PostingRequest, PostingTerms } from '../posting.types';

type Purchase = PostingRequest & { kind: TransactionType.PURCHASE };

/**
 * Earning (docs/rules.md, Earning): a purchase earns computeEarn's points under the partner's rule, the
 * member's tier, the clubs it is in at occurredAt (coalition clubs and the partner's own: their
 * multipliers, club-only promotions) and the promotions running at occurredAt, with visits, visit
 * bonuses and the daily cap counted over the history plus this batch. Credits one lot, pending until
 * the partner's pendingDays after the later of occurredAt and the posting (purchaseAvailableAt;
 * none: available now), that expires the partner's pointsValidityDays after it becomes available.
 * Needs: visit counts (first-purchase and every-Nth-visit rules), day points (daily cap), the
 * member's membership periods when a club counts at the partner (they ride the history statement,
 * read after the lock). Errors: NOT_FOUND (partner), INVALID_INPUT (more than MAX_INT32 points),
 * LIMIT_EXCEEDED (balance past MAX_INT32).
 */
export const earnStep: PostingStep = {
  name: 'earn',
  need(r, needs, view) {
    if (r.kind !== TransactionType.PURCHASE) return;
    const rule = view.terms.partners.get(r.partnerId!)?.earn_rule;
    if (rule?.firstPurchaseBonus || rule?.everyNthVisit) needs.counts(r.memberId, r.partnerId!);
    if (rule?.maxPointsPerMemberPerDay) needs.history.days.push({ memberId: r.memberId, partnerId: r.partnerId!, day: utcDay(r.occurredAt) });
    const clubs = clubsThatCount(view.terms, r);
    if (clubs.length) {
      needs.history.memberships.push({ memberId: r.memberId, since: r.occurredAt });
      for (const c of clubs) needs.history.clubIds.add(c);
    }
  },
  post(s, r) {
    return r.kind === TransactionType.PURCHASE ? purchase(s, r) : undefined;
  },
};

/** The partner's promotions running at the purchase's occurredAt. */
function activePromotions(terms: PostingTerms, r: Purchase) {
  return terms.promotions.filter((p) => p.partnerId === r.partnerId && p.startsAt <= r.occurredAt && r.occurredAt < p.endsAt);
}

/**
 * The clubs whose membership could change this purchase's points: coalition clubs and the partner's
 * own with a multiplier above 1, and the clubs its running promotions are restricted to. None (no
 * clubs, or only ×1 clubs no promotion names): the memberships are not read at all.
 */
function clubsThatCount(terms: PostingTerms, r: Purchase): string[] {
  const ids = new Set<string>();
  for (const c of terms.clubs.values()) if ((c.partnerId === null || c.partnerId === r.partnerId) && c.earnMultiplier !== '1') ids.add(c.id);
  for (const p of activePromotions(terms, r)) for (const c of p.clubs ?? []) ids.add(c);
  return [...ids];
}

function purchase(s: StepScope, r: Purchase): Posted {
  const member = s.member(r.memberId)!;
  const partnerId = r.partnerId!;
  const terms = s.partner(partnerId);
  if (!terms) return { outcome: fail(userError(ErrorCode.NOT_FOUND, 'No such partner', ['input', 'partnerId'])) };
  const rule = terms.earn_rule;
  const countKey = `count|${r.memberId}|${partnerId}`;
  const day = utcDay(r.occurredAt);
  const dayKey = `day|${r.memberId}|${partnerId}|${day.toISOString()}`;
  const tier = s.terms.coalition.tiers.find((t) => t.name === member.tier) ?? null;
  const promotions = activePromotions(s.terms, r);
  const clubs = s.history.clubsAt(r.memberId, r.occurredAt).map((id) => s.terms.clubs.get(id))
    .filter((c): c is ClubTerms => c !== undefined && (c.partnerId === null || c.partnerId === partnerId))
    .map((c): ClubForEarn => ({ id: c.id, name: c.name, earnMultiplier: c.earnMultiplier }));
  const visitKey = `visit-bonus|${r.memberId}|${partnerId}`;
  const visitsBefore = s.history.visits(r.memberId, partnerId) + s.count(countKey);
  const earned = computeEarn(rule, { amount: r.amount, lines: r.lines ?? undefined }, {
    tier,
    promotions,
    clubs,
    visitsBefore,
    visitBonusesBefore: s.history.visitBonuses(r.memberId, partnerId) + s.count(visitKey),
    pointsEarnedToday: s.history.dayPoints(r.memberId, partnerId, day) + s.count(dayKey),
  });
  if (earned.points > MAX_INT32) return { outcome: fail(userError(ErrorCode.INVALID_INPUT, 'This purchase would earn more points than one transaction can hold', ['input', 'amount'])) };
  if (s.overflows(r.memberId, earned.points)) return { outcome: fail(userError(ErrorCode.LIMIT_EXCEEDED, `A member's balance may not exceed ${MAX_INT32} points`, ['input', 'points'])) };
  const tx = s.newTransaction(r, TransactionType.PURCHASE);
  const availableAt = purchaseAvailableAt(rule, r.occurredAt, s.now);
  const lot = s.book(r.memberId).credit(tx.id, uuidv7(s.now.getTime()), { partnerId }, earned.points, s.expiry(partnerId, availableAt), s.now, availableAt);
  // Only visits count (docs/rules.md, Earning): a purchase below minSpend is not one.
  const visit = reachesMinSpend(rule, r.amount);
  if (visit) s.add(countKey, 1);
  if (earned.breakdown.some((b) => b.rule === 'VISIT_BONUS')) s.add(visitKey, 1);
  s.add(dayKey, earned.points);
  const row = s.record({ ...tx, points: earned.points, amount_minor: r.amountMinor.toString(), breakdown: earned.breakdown, occurred_at: r.occurredAt });
  const applied: Applied = { transaction: row, earned, availableAt: availableAt ?? s.now };
  return { outcome: ok(applied), purchased: { request: r, member, partner: terms, row, lot, earned, firstVisit: visit && visitsBefore === 0 } };
}
