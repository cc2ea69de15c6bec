/**
 * The member row as the SQL reads it, with no imports: the ledger core locks members with it
 * (ledger.store lockMembers) without depending on the member service above it.
 */
export interface MemberRow {
  id: string;
  member_code: string;
  referral_code: string;
  email: string | null;
  phone: string | null;
  birth_date: string | null;
  balance: string;
  debt: string;
  tier: string | null;
  successful_referrals: number;
  referral_rewarded_at: Date | null;
  affiliate_id: string | null;
  affiliate_attributed_at: Date | null;
  auto_donation_cause_id: string | null;
  auto_donation_percent: number;
  created_at: Date;
  /** Points of lots past expiry not yet moved by the job (MEMBER_COLUMNS); absent: none. */
  expired_points?: string;
  /** Points of lots still pending now (MEMBER_COLUMNS); absent: none. */
  pending_points?: string;
}

/** The member row as stored: `balance` still includes lots past expiry the expiry job has not reached. */
export const MEMBER_STORED_COLUMNS = `m.id, m.member_code, m.referral_code, m.email, m.phone, m.birth_date::text AS birth_date, m.balance, m.debt,
  m.tier, m.successful_referrals, m.referral_rewarded_at, m.affiliate_id, m.affiliate_attributed_at,
  m.auto_donation_cause_id, m.auto_donation_percent, m.created_at`;
