import { Dec, MAX_INT32, RATE_SCALE } from '../../common/decimal';
import { ErrorCode, UserError, userError } from '../../api/errors';

/** A partner's earn rule as stored (decimals as strings). docs/rules.md, Earning. */
export interface EarnRule {
  pointsPerUnit: string;
  minSpend: string | null;
  categoryMultipliers: { category: string; multiplier: string }[];
  maxPointsPerTransaction: number | null;
  maxPointsPerMemberPerDay: number | null;
  firstPurchaseBonus: number | null;
  everyNthVisit: number | null;
  visitBonus: number | null;
  pointsValidityDays: number;
  /**
   * The return window in days (docs/rules.md, Lots): a purchase's points are pending until
   * max(occurredAt, postedAt) + pendingDays. Absent in rules stored before it existed: 0.
   */
  pendingDays?: number;
}

export const DEFAULT_POINTS_VALIDITY_DAYS = 365;
export const MAX_POINTS_VALIDITY_DAYS = 3650;
/** The longest return window a partner may set (docs/rules.md, Pending points). */
export const MAX_PENDING_DAYS = 365;
const DAY_MS = 86_400_000;

/**
 * When a purchase's points become available (docs/rules.md, Lots): `pendingDays` after the later of
 * occurredAt and the posting time; null when the rule has no window (available at posting).
 */
export function purchaseAvailableAt(rule: Pick<EarnRule, 'pendingDays'>, occurredAt: Date, postedAt: Date): Date | null {
  const days = rule.pendingDays ?? 0;
  if (days === 0) return null;
  return new Date(Math.max(occurredAt.getTime(), postedAt.getTime()) + days * DAY_MS);
}
/** Sanity bounds on configuration: beyond them a value is a typo, not a business choice. */
const MAX_POINTS_PER_UNIT = new Dec(1_000_000);
const MAX_MULTIPLIER = new Dec(1000);

export interface BreakdownLine {
  rule: string;
  points: number;
  detail: string;
}

export interface EarnResult {
  points: number;
  breakdown: BreakdownLine[];
}

/**
 * The form categories are compared in (docs/rules.md, Earning): trimmed, Unicode NFC, lower-cased, so
 * "Fuel", " fuel " and "FUEL" are one category in rules, promotions and purchase lines alike.
 * Categories are stored as given (trimmed) and compared through this key.
 */
export function categoryKey(category: string): string {
  return category.normalize('NFC').trim().toLowerCase();
}

/**
 * Whether a purchase of `amount` is a visit under the rule (docs/rules.md, Earning): its amount reaches
 * minSpend (any amount when there is none). Whether it has been fully refunded since is the
 * history's part (see earn-history.store).
 */
export function reachesMinSpend(rule: Pick<EarnRule, 'minSpend'>, amount: Dec): boolean {
  return rule.minSpend === null || amount.gte(rule.minSpend);
}

export interface PurchaseLine {
  category: string | null;
  amount: Dec;
}

export interface PurchaseForEarn {
  /** The purchase total in currency units, exact. */
  amount: Dec;
  /** Lines that sum to the amount; none: the whole amount as one line without a category. */
  lines?: PurchaseLine[];
}

/** A partner promotion as the engine sees it (already known to be active at the purchase's time). */
export interface PromotionForEarn {
  name: string;
  multiplier: string | null;
  bonusPoints: number | null;
  /** Empty: every category. */
  categories: string[];
  /** Empty: every tier (and members without one). */
  tiers: string[];
  /** Ids of clubs; empty or absent: every member. Otherwise the member must be in one of them at the purchase time. */
  clubs?: string[];
  minSpend: string | null;
}

/**
 * A club membership that counts for this purchase: the member is in the club at the purchase's
 * occurredAt, and the club is a coalition club or the purchasing partner's own (docs/rules.md, Clubs).
 */
export interface ClubForEarn {
  id: string;
  name: string;
  /** Exact decimal, ≥ 1. */
  earnMultiplier: string;
}

/** What the engine needs to know of the member and its history; all default to a first-time, tierless member. */
export interface EarnContext {
  tier: { name: string; earnMultiplier: string } | null;
  promotions: PromotionForEarn[];
  /** The member's clubs that count at this partner at the purchase time (their multipliers and club-only promotions); absent: none. */
  clubs?: ClubForEarn[];
  /** Visits the member made at this partner before this one: purchases that reached minSpend and are not fully refunded. */
  visitsBefore: number;
  /** Punch-card bonuses among those visits (a fully refunded visit gave its bonus back with it). */
  visitBonusesBefore: number;
  /** Points already earned at this partner on the UTC day of this purchase's occurredAt. */
  pointsEarnedToday: number;
}

export const NO_HISTORY: EarnContext = { tier: null, promotions: [], visitsBefore: 0, visitBonusesBefore: 0, pointsEarnedToday: 0 };

/** Checks a rate: a decimal with at most six fractional digits, within [min, max]. */
export function checkRate(value: string, field: string[], min: Dec, max: Dec, minExclusive = false): UserError | undefined {
  const rate = new Dec(value);
  if (rate.decimalPlaces() > RATE_SCALE) return userError(ErrorCode.INVALID_INPUT, `${field.at(-1)} may have at most ${RATE_SCALE} decimal places`, field);
  if (minExclusive ? rate.lte(min) : rate.lt(min)) return userError(ErrorCode.INVALID_INPUT, `${field.at(-1)} must be ${minExclusive ? 'greater than' : 'at least'} ${min.toFixed()}`, field);
  if (rate.gt(max)) return userError(ErrorCode.INVALID_INPUT, `${field.at(-1)} must be at most ${max.toFixed()}`, field);
  return undefined;
}

function checkCount(value: number | null | undefined, field: string[], min: number, max = MAX_INT32): UserError | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    return userError(ErrorCode.INVALID_INPUT, `${field.at(-1)} must be a whole number from ${min} to ${max}`, field);
  }
  return undefined;
}

/** Every problem with an earn rule, each with the path of its field; empty when it is valid. */
export function validateEarnRule(rule: EarnRule, currencyExponent: number, path: string[]): UserError[] {
  const errors: (UserError | undefined)[] = [
    checkRate(rule.pointsPerUnit, [...path, 'pointsPerUnit'], new Dec(0), MAX_POINTS_PER_UNIT),
    checkCount(rule.maxPointsPerTransaction, [...path, 'maxPointsPerTransaction'], 1),
    checkCount(rule.maxPointsPerMemberPerDay, [...path, 'maxPointsPerMemberPerDay'], 1),
    checkCount(rule.firstPurchaseBonus, [...path, 'firstPurchaseBonus'], 0),
    checkCount(rule.everyNthVisit, [...path, 'everyNthVisit'], 1, 1000),
    checkCount(rule.visitBonus, [...path, 'visitBonus'], 1),
    checkCount(rule.pointsValidityDays, [...path, 'pointsValidityDays'], 1, MAX_POINTS_VALIDITY_DAYS),
    checkCount(rule.pendingDays, [...path, 'pendingDays'], 0, MAX_PENDING_DAYS),
  ];
  if (rule.minSpend !== null) {
    const minSpend = new Dec(rule.minSpend);
    if (minSpend.isNegative() || minSpend.decimalPlaces() > currencyExponent) {
      errors.push(userError(ErrorCode.INVALID_INPUT, `minSpend must be a non-negative amount with at most ${currencyExponent} decimal places`, [...path, 'minSpend']));
    }
  }
  if ((rule.everyNthVisit === null) !== (rule.visitBonus === null)) {
    errors.push(userError(ErrorCode.INVALID_INPUT, 'everyNthVisit and visitBonus go together', [...path, 'everyNthVisit']));
  }
  const seen = new Set<string>();
  rule.categoryMultipliers.forEach((c, i) => {
    const field = [...path, 'categoryMultipliers', String(i)];
    if (!c.category.trim()) errors.push(userError(ErrorCode.INVALID_INPUT, 'category must not be empty', [...field, 'category']));
    // Categories compare case-insensitively: "Fuel" and "fuel" are the same category twice.
    if (seen.has(categoryKey(c.category))) errors.push(userError(ErrorCode.INVALID_INPUT, `category ${c.category.trim()} appears twice`, [...field, 'category']));
    seen.add(categoryKey(c.category));
    // 0 excludes the category from earning (tobacco, gift cards, lottery).
    errors.push(checkRate(c.multiplier, [...field, 'multiplier'], new Dec(0), MAX_MULTIPLIER));
  });
  return errors.filter((e): e is UserError => e !== undefined);
}

function promotionApplies(promotion: PromotionForEarn, total: Dec, tier: string | null, clubIds: string[]): boolean {
  if (promotion.minSpend !== null && total.lt(promotion.minSpend)) return false;
  if (promotion.clubs?.length && !promotion.clubs.some((c) => clubIds.includes(c))) return false;
  return promotion.tiers.length === 0 || (tier !== null && promotion.tiers.includes(tier));
}

function promotionCovers(promotion: PromotionForEarn, category: string | null): boolean {
  return promotion.categories.length === 0 || (category !== null && promotion.categories.some((c) => categoryKey(c) === categoryKey(category)));
}

/** The rule's multiplier for a line's category ('1' when it has none); compared by categoryKey. */
function categoryMultiplier(rule: EarnRule, category: string | null): string {
  if (category === null) return '1';
  const key = categoryKey(category);
  return rule.categoryMultipliers.find((c) => categoryKey(c.category) === key)?.multiplier ?? '1';
}

/**
 * The club multipliers on the exact base `exact` (points, unrounded): one CLUB_MULTIPLIER line per
 * club whose multiplier is not 1, each worth what it adds once the running product is rounded down,
 * so the lines and BASE add up to floor(exact × every multiplier) — rounded down once. Returns the
 * points the lines add.
 */
function clubLines(exact: Dec, clubs: ClubForEarn[], breakdown: BreakdownLine[]): number {
  let before = exact;
  let added = 0;
  for (const club of clubs) {
    const multiplier = new Dec(club.earnMultiplier);
    if (multiplier.eq(1)) continue;
    const after = before.times(multiplier);
    const points = after.floor().minus(before.floor()).toNumber();
    breakdown.push({ rule: 'CLUB_MULTIPLIER', points, detail: `club ${club.name} × ${multiplier.toFixed()}: ${before.toFixed()} × ${multiplier.toFixed()} = ${after.toFixed()}, rounded down` });
    added += points;
    before = after;
  }
  return added;
}

/**
 * Points a purchase earns (docs/rules.md, Earning), as one pure function:
 * 1. each line: amount × pointsPerUnit × category multiplier × the largest multiplier among the
 *    matching promotions (a club-only promotion matches members of one of its clubs) × tier
 *    multiplier, exactly;
 * 2. base = floor(sum of lines) when the total reaches minSpend, else 0; then each club's
 *    multiplier (context.clubs, by name) multiplies the exact sum, as its own CLUB_MULTIPLIER line
 *    worth floor(sum × the multipliers so far) − floor(sum × the ones before): the total is the
 *    exact product rounded down once, and the lines add up to it;
 * 3. plus each matching promotion's bonus points (a line of an excluded category, multiplier 0,
 *    makes no promotion apply), and, when the purchase is a visit (it reaches minSpend), the
 *    first-purchase bonus (no visit before) and the punch-card bonus (the visits, this one
 *    included, complete an Nth more than the punch-card bonuses already held);
 * 4. then maxPointsPerTransaction, then what is left of maxPointsPerMemberPerDay.
 * Each step that changes the points is a breakdown line.
 */
export function computeEarn(rule: EarnRule, purchase: PurchaseForEarn, context: EarnContext = NO_HISTORY): EarnResult {
  const breakdown: BreakdownLine[] = [];
  const tierName = context.tier?.name ?? null;
  const tierMultiplier = new Dec(context.tier?.earnMultiplier ?? 1);
  const clubs = [...(context.clubs ?? [])].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  const applicable = context.promotions.filter((p) => promotionApplies(p, purchase.amount, tierName, clubs.map((c) => c.id)));
  const lines = purchase.lines?.length ? purchase.lines : [{ category: null, amount: purchase.amount }];
  const plain = lines.length === 1 && lines[0]!.category === null && tierMultiplier.eq(1) && !applicable.some((p) => p.multiplier !== null);

  let points = 0;
  if (rule.minSpend !== null && purchase.amount.lt(rule.minSpend)) {
    breakdown.push({ rule: 'MIN_SPEND', points: 0, detail: `${purchase.amount.toFixed()} is below the minimum spend of ${rule.minSpend}` });
  } else if (plain) {
    const exact = purchase.amount.times(rule.pointsPerUnit);
    points = exact.floor().toNumber();
    breakdown.push({ rule: 'BASE', points, detail: `${purchase.amount.toFixed()} × ${rule.pointsPerUnit} points per unit = ${exact.toFixed()}, rounded down` });
    points += clubLines(exact, clubs, breakdown);
  } else {
    let sum = new Dec(0);
    const parts: string[] = [];
    for (const line of lines) {
      const category = categoryMultiplier(rule, line.category);
      const promotion = applicable.filter((p) => p.multiplier !== null && promotionCovers(p, line.category))
        .reduce<PromotionForEarn | undefined>((best, p) => (!best || new Dec(p.multiplier!).gt(best.multiplier!) ? p : best), undefined);
      const promoMultiplier = promotion?.multiplier ?? '1';
      const exact = line.amount.times(rule.pointsPerUnit).times(category).times(promoMultiplier).times(tierMultiplier);
      sum = sum.plus(exact);
      parts.push(`${line.amount.toFixed()}${line.category ? ` (${line.category})` : ''} × ${rule.pointsPerUnit}`
        + (category !== '1' ? ` × category ${category}` : '') + (promotion ? ` × ${promotion.name} ${promoMultiplier}` : '')
        + (!tierMultiplier.eq(1) ? ` × tier ${tierName} ${tierMultiplier.toFixed()}` : '') + ` = ${exact.toFixed()}`);
    }
    points = sum.floor().toNumber();
    breakdown.push({ rule: 'BASE', points, detail: `${parts.join('; ')}; total ${sum.toFixed()}, rounded down` });
    points += clubLines(sum, clubs, breakdown);
  }

  for (const promotion of applicable) {
    if (promotion.bonusPoints && lines.some((l) => !new Dec(categoryMultiplier(rule, l.category)).isZero() && promotionCovers(promotion, l.category))) {
      points += promotion.bonusPoints;
      breakdown.push({ rule: 'PROMOTION_BONUS', points: promotion.bonusPoints, detail: `${promotion.name}` });
    }
  }
  // Only a visit counts for the first-purchase bonus and the punch card: a purchase below minSpend uses neither up.
  const isVisit = reachesMinSpend(rule, purchase.amount);
  if (isVisit && rule.firstPurchaseBonus && context.visitsBefore === 0) {
    points += rule.firstPurchaseBonus;
    breakdown.push({ rule: 'FIRST_PURCHASE_BONUS', points: rule.firstPurchaseBonus, detail: 'first purchase at this partner' });
  }
  const visit = context.visitsBefore + 1;
  // Due when the visits complete more punch cards than bonuses are held: a refunded earlier visit
  // lowers the count without paying the card already completed a second time.
  if (isVisit && rule.everyNthVisit && rule.visitBonus && Math.floor(visit / rule.everyNthVisit) > context.visitBonusesBefore) {
    points += rule.visitBonus;
    breakdown.push({ rule: 'VISIT_BONUS', points: rule.visitBonus, detail: `visit ${visit}: every ${rule.everyNthVisit}th visit earns ${rule.visitBonus}` });
  }
  if (rule.maxPointsPerTransaction !== null && points > rule.maxPointsPerTransaction) {
    breakdown.push({ rule: 'MAX_PER_TRANSACTION', points: rule.maxPointsPerTransaction - points, detail: `capped at ${rule.maxPointsPerTransaction} points per transaction` });
    points = rule.maxPointsPerTransaction;
  }
  if (rule.maxPointsPerMemberPerDay !== null) {
    const left = Math.max(0, rule.maxPointsPerMemberPerDay - context.pointsEarnedToday);
    if (points > left) {
      breakdown.push({ rule: 'MAX_PER_DAY', points: left - points,
        detail: `capped at ${rule.maxPointsPerMemberPerDay} points a day at this partner; ${context.pointsEarnedToday} earned already that day` });
      points = left;
    }
  }
  return { points, breakdown };
}
