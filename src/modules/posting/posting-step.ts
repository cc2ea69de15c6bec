import type { QueryRunner } from 'typeorm';
import type { Outcome } from '../../api/errors';
import type { EarnResult } from '../earning/earn-rule';
import type { History, HistoryQuery } from '../earning/earn-history.store';
import type { MemberBook, LotState } from '../ledger/ledger.rules';
import type { CampaignRow, CommissionRow, DonationRow, LockedMember, OutboxRow, TransactionRow } from '../ledger/ledger.store';
import type { Claims } from '../reward/claim.store';
import type { TransactionType } from '../ledger/ledger.types';
import type { PartnerTerms, PostingRequest, PostingTerms, ReversalOriginal } from './posting.types';

/**
 * The contract between the posting runner (posting-run.ts) and the features: each feature adds a
 * PostingStep to the ordered list in steps.ts. The runner owns the round trips (terms before the
 * transaction; then the lock, the loads the steps declared, one write); a step only declares what
 * it needs and turns (request, member book, terms, loaded data) into effects on the StepScope.
 */

export interface RunOptions {
  caller: string;
  /** Partners act on linked members only; null: the operator, on every member. */
  linkPartnerId: string | null;
  /** Quote: apply the rules, write nothing, ignore idempotency. */
  dryRun?: boolean;
  /** Skip members another run holds (the expiry job), instead of waiting for them. */
  skipLocked?: boolean;
  /**
   * The terms were kept from an earlier posting, at this version: the lock statement confirms it,
   * and the run throws StaleTerms (writing nothing) when the terms changed since or it cannot tell.
   */
  termsVersion?: string;
}

/** Thrown by a run on kept terms that are no longer current: the caller posts again on fresh terms. */
export class StaleTerms extends Error {
  constructor() {
    super('the posting terms changed since they were kept');
  }
}

/** A locked member and the member state steps may change (written with the batch when it differs from the row). */
export interface MemberState {
  row: LockedMember;
  tier: string | null;
  successfulReferrals: number;
  referralRewardedAt: Date | null;
}

/** What one request produced: its transaction, and what the API shows of it. */
export type Applied = { transaction: TransactionRow; earned?: EarnResult; expiredLots?: number; donation?: DonationRow;
  /** A purchase: when its points become available (the posting time when there is no return window). */
  availableAt?: Date };

/** What a step's `post` made of a request; `purchased` when it posted a purchase the later steps act on. */
export interface Posted {
  outcome: Outcome<Applied>;
  purchased?: Purchased;
}

/** A cause as donations need it. */
export interface CauseRow {
  id: string;
  name: string;
  active: boolean;
}

/** Rows of the batch that are not points: written by writePosting with the rest. */
export interface Effects {
  commissions: CommissionRow[];
  /** Existing commission rows whose amount or status changed (a refund before approval). */
  changedCommissions: CommissionRow[];
  donations: DonationRow[];
  /** Campaigns locked for matching, with their matched points when locked. */
  campaigns: (CampaignRow & { lockedAt: number })[];
  /** Outbox events a step adds (voucher.issued, club.joined, ...), written with the posting. */
  events: OutboxRow[];
}

/** What the runner offers a step while it applies a batch (one member lock, one transaction). */
export interface StepScope {
  /** The posting time (set once the members are locked). */
  readonly now: Date;
  readonly terms: PostingTerms;
  readonly options: RunOptions;
  /** Earlier transactions the steps asked for (needs.history); empty rows for what nobody asked. */
  readonly history: History;
  readonly causes: Map<string, CauseRow>;
  /** Rewards claimed (locked), the claiming members' standing, vouchers returned (locked); and what claims write. */
  readonly claims: Claims;
  readonly effects: Effects;
  /** The original transaction of a reversal request (with its consumption for a redemption or a reward). */
  original(r: PostingRequest): ReversalOriginal | undefined;
  member(memberId: string): MemberState | undefined;
  partner(partnerId: string): PartnerTerms | undefined;
  /** The member's book: balance, lots, debts; every change it makes becomes entries, movements, obligations. */
  book(memberId: string): MemberBook;
  /** A new transaction row (points 0) for the request, posted now. */
  newTransaction(r: { memberId: string; idempotencyKey: string; requestHash: string; partnerId: string | null }, type: TransactionType, caller?: string): TransactionRow;
  /** Adds a transaction to the batch (and to the idempotency keys seen). */
  record(row: TransactionRow): TransactionRow;
  /** When points credited now for this partner (null: the hub) expire: its validity period after they become available (`availableAt`, null: now). */
  expiry(partnerId: string | null, availableAt?: Date | null): Date;
  /** Whether crediting `points` would carry the member's balance past MAX_INT32. */
  overflows(memberId: string, points: number): boolean;
  /** In-batch counters (so two requests of one batch see each other); keys are the step's own. */
  count(key: string): number;
  add(key: string, n: number): void;
}

/** What the runner knows when it collects the steps' needs: after the lock, before the other loads. */
export interface NeedView {
  readonly now: Date;
  readonly terms: PostingTerms;
  readonly options: RunOptions;
  member(memberId: string): LockedMember | undefined;
  original(r: PostingRequest): ReversalOriginal | undefined;
}

/** The loads a batch needs, batched by the runner into its existing statements. */
export interface Needs {
  /** Earlier transactions (loadHistory): loaded only when some rule asks. */
  history: HistoryQuery;
  /** Causes (loadCauses): donated to, asked or automatic. */
  causes: Set<string>;
  /** Rewards claimed (loadClaims, locked after the members). */
  rewards: Set<string>;
  /** Vouchers returned (voided or expired), locked after their members. */
  vouchers: { memberId: string; voucherId: string }[];
  /** Asks for the visit counts of a member at a partner (once per pair). */
  counts(memberId: string, partnerId: string): void;
}

/** A purchase just posted: its row, the lot it created, what it earned. */
export interface Purchased {
  request: PostingRequest & { kind: TransactionType.PURCHASE };
  member: MemberState;
  partner: PartnerTerms;
  row: TransactionRow;
  lot: LotState | undefined;
  earned: EarnResult;
  /** Whether it is the member's first visit at the partner (a visit reaches minSpend). */
  firstVisit: boolean;
}

/** A refund (REVERSAL of a purchase) just applied. */
export interface Refunded {
  request: PostingRequest & { kind: TransactionType.REVERSAL };
  original: ReversalOriginal;
  /** All refunded of the purchase so far, this refund included, in minor units. */
  refundedMinor: bigint;
  /** The points this refund took back. */
  points: number;
}

/**
 * One feature's part of a posting. Every hook is optional; the runner calls them in list order.
 * Expected failures are Outcome values (nothing of the request is written); throw only for bugs.
 */
export interface PostingStep {
  readonly name: string;
  /** (a) What the step needs loaded for this request, added to the batch's loads. */
  need?(r: PostingRequest, needs: Needs, view: NeedView): void;
  /** (b) The posting of a request kind this step owns (at most one step a kind); undefined: not this step's kind. */
  post?(s: StepScope, r: PostingRequest): Posted | undefined;
  /** (b) Effects of a purchase posted by the earn step. */
  purchased?(s: StepScope, p: Purchased): void;
  /** (b) Effects of a refund of a purchase. */
  refunded?(s: StepScope, p: Refunded): void;
  /** After every request is applied: work across the batch that takes a lock of its own (matching). */
  finish?(s: StepScope, q: QueryRunner): Promise<void>;
}
