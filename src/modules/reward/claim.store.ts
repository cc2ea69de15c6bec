import { QueryRunner } from 'typeorm';
import { rows } from '../../db/transaction';

/**
 * The SQL of claims and voucher returns inside a posting (the reward step, posting/steps/reward.step.ts):
 * what a claim needs under the member lock (the rewards, locked; the members' standing) and the
 * rows claims and returns write. Every member-scoped table is keyed by member first.
 */

/** A reward as a claim reads it, locked FOR UPDATE (so stock is taken one claim at a time). */
export interface ClaimReward {
  id: string;
  partner_id: string | null;
  name: string;
  kind: 'VOUCHER' | 'MEMBERSHIP';
  club_id: string | null;
  /** The club's membershipDays (MEMBERSHIP rewards). */
  membership_days: number | null;
  /** The club's partner (null: a coalition club). */
  club_partner_id: string | null;
  points_price: number;
  value_minor: string;
  stock: number | null;
  claimed: number;
  per_member_limit: number | null;
  tiers: string[];
  clubs: string[];
  starts_at: Date | null;
  ends_at: Date | null;
  active: boolean;
  voucher_validity_days: number;
}

/** What a claim needs of one member beyond its book: clubs, claims that count, club expiries, partner links. */
export interface ClaimStanding {
  /** Clubs the member is in at the posting time. */
  clubIds: string[];
  /** Its claims that still count, by reward (vouchers ISSUED or REDEEMED, memberships bought with points). */
  claims: Map<string, number>;
  /** The latest expiry of each club it was ever in. */
  clubExpiry: Map<string, Date>;
  /** The partners it is linked to (receivers of club.joined). */
  linkedPartnerIds: string[];
}

export interface VoucherRow {
  member_id: string;
  id: string;
  code: string;
  reward_id: string;
  state: 'ISSUED' | 'REDEEMED' | 'VOIDED' | 'EXPIRED';
  transaction_id: string;
  issued_at: Date;
  expires_at: Date;
  redeemed_at: Date | null;
}

/** A voucher a return reads, locked FOR UPDATE, with its reward's partner (null: the operator's). */
export type LockedVoucher = VoucherRow & { reward_partner_id: string | null; reward_name: string };

export interface MembershipInsert {
  member_id: string;
  id: string;
  club_id: string;
  reward_id: string;
  transaction_id: string;
  starts_at: Date;
  expires_at: Date;
}

/** One batch's claims: what was loaded, and what the reward step writes in its finish. */
export interface Claims {
  rewards: Map<string, ClaimReward>;
  standings: Map<string, ClaimStanding>;
  vouchers: Map<string, LockedVoucher>;
  /** Claims taken from each reward's stock by this batch. */
  taken: Map<string, number>;
  newVouchers: VoucherRow[];
  memberships: MembershipInsert[];
  ended: { member_id: string; id: string; state: 'VOIDED' | 'EXPIRED' }[];
}

export function emptyClaims(): Claims {
  return { rewards: new Map(), standings: new Map(), vouchers: new Map(), taken: new Map(), newVouchers: [], memberships: [], ended: [] };
}

/**
 * Loads a batch's claim state after the members are locked: the rewards (locked in id order, after
 * the members: the one lock order of claims, returns and updateReward), each claiming member's
 * standing at `now`, and the vouchers being returned (locked, after their member).
 */
export async function loadClaims(q: QueryRunner, rewardIds: string[], memberIds: string[], vouchers: { memberId: string; voucherId: string }[], now: Date): Promise<Claims> {
  const claims = emptyClaims();
  if (rewardIds.length) {
    const found = await rows<ClaimReward>(q, `
      SELECT r.id, r.partner_id, r.name, r.kind, r.club_id, c.membership_days, c.partner_id AS club_partner_id, r.points_price, r.value_minor::text AS value_minor,
        r.stock, r.claimed, r.per_member_limit, r.tiers, r.clubs::text[] AS clubs, r.starts_at, r.ends_at, r.active, r.voucher_validity_days
      FROM reward r LEFT JOIN club c ON c.id = r.club_id WHERE r.id = ANY($1::uuid[]) ORDER BY r.id FOR UPDATE OF r`, [rewardIds]);
    for (const r of found) claims.rewards.set(r.id, r);
  }
  if (memberIds.length) {
    const standing = await rows<{ member_id: string; clubs: { club_id: string; expires_at: string }[] | null; claims: { reward_id: string; n: number }[] | null; links: string[] | null }>(q, `
      SELECT m.id AS member_id,
        (SELECT json_agg(json_build_object('club_id', club_id, 'expires_at', e)) FROM (SELECT club_id, max(expires_at) AS e FROM club_membership
          WHERE member_id = m.id GROUP BY club_id) x) AS clubs,
        (SELECT json_agg(json_build_object('reward_id', reward_id, 'n', n)) FROM (SELECT reward_id, count(*)::int AS n FROM (
          SELECT reward_id FROM voucher WHERE member_id = m.id AND reward_id = ANY($2::uuid[]) AND state IN ('ISSUED', 'REDEEMED')
          UNION ALL SELECT reward_id FROM club_membership WHERE member_id = m.id AND reward_id = ANY($2::uuid[]) AND source = 'POINTS') c GROUP BY reward_id) y) AS claims,
        (SELECT array_agg(l.partner_id::text) FROM member_partner_link l WHERE l.member_id = m.id) AS links
      FROM member m WHERE m.id = ANY($1::uuid[])`, [memberIds, rewardIds]);
    for (const s of standing) {
      const clubExpiry = new Map((s.clubs ?? []).map((c) => [c.club_id, new Date(c.expires_at)]));
      claims.standings.set(s.member_id, {
        clubIds: [...clubExpiry].filter(([, at]) => at.getTime() > now.getTime()).map(([id]) => id),
        claims: new Map((s.claims ?? []).map((c) => [c.reward_id, c.n])), clubExpiry, linkedPartnerIds: s.links ?? [],
      });
    }
  }
  if (vouchers.length) {
    const found = await rows<LockedVoucher>(q, `
      SELECT v.member_id, v.id, v.code, v.reward_id, v.state, v.transaction_id, v.issued_at, v.expires_at, v.redeemed_at, r.partner_id AS reward_partner_id, r.name AS reward_name
      FROM voucher v JOIN reward r ON r.id = v.reward_id
      WHERE (v.member_id, v.id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[])) ORDER BY v.member_id, v.id FOR UPDATE OF v`,
    [vouchers.map((v) => v.memberId), vouchers.map((v) => v.voucherId)]);
    for (const v of found) claims.vouchers.set(v.id, v);
  }
  return claims;
}

/**
 * Writes what a batch's claims and returns produced, in the posting's transaction: stock taken
 * (the CHECK on reward keeps claimed ≤ stock as a last guard), new vouchers and their code index
 * rows, memberships bought with points, and vouchers ended (VOIDED, EXPIRED). One statement.
 */
export async function writeClaims(q: QueryRunner, claims: Claims): Promise<void> {
  const parts: string[] = [];
  const params: unknown[] = [];
  const arrays = (...columns: unknown[][]) => columns.map((c) => { params.push(c); return `$${params.length}`; });
  if (claims.taken.size) {
    const p = arrays([...claims.taken.keys()], [...claims.taken.values()]);
    parts.push(`rc AS (UPDATE reward SET claimed = claimed + v.n FROM unnest(${p[0]}::uuid[], ${p[1]}::int[]) AS v(id, n) WHERE reward.id = v.id)`);
  }
  const vs = claims.newVouchers;
  if (vs.length) {
    const p = arrays(vs.map((v) => v.member_id), vs.map((v) => v.id), vs.map((v) => v.code), vs.map((v) => v.reward_id), vs.map((v) => v.transaction_id),
      vs.map((v) => v.issued_at.toISOString()), vs.map((v) => v.expires_at.toISOString()));
    parts.push(`nv AS (INSERT INTO voucher (member_id, id, code, reward_id, state, transaction_id, issued_at, expires_at)
      SELECT m, i, c, r, 'ISSUED', t, a, e FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::text[], ${p[3]}::uuid[], ${p[4]}::uuid[], ${p[5]}::timestamptz[],
        ${p[6]}::timestamptz[]) AS x(m, i, c, r, t, a, e))`);
    parts.push(`nvc AS (INSERT INTO voucher_code (code, member_id, voucher_id) SELECT * FROM unnest(${p[2]}::text[], ${p[0]}::uuid[], ${p[1]}::uuid[]))`);
  }
  const ms = claims.memberships;
  if (ms.length) {
    const p = arrays(ms.map((m) => m.member_id), ms.map((m) => m.id), ms.map((m) => m.club_id), ms.map((m) => m.reward_id), ms.map((m) => m.transaction_id),
      ms.map((m) => m.starts_at.toISOString()), ms.map((m) => m.expires_at.toISOString()));
    parts.push(`ncm AS (INSERT INTO club_membership (member_id, id, club_id, source, reward_id, transaction_id, starts_at, expires_at)
      SELECT m, i, c, 'POINTS', r, t, s, e FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::uuid[], ${p[3]}::uuid[], ${p[4]}::uuid[], ${p[5]}::timestamptz[],
        ${p[6]}::timestamptz[]) AS x(m, i, c, r, t, s, e))`);
  }
  const es = claims.ended;
  if (es.length) {
    const p = arrays(es.map((e) => e.member_id), es.map((e) => e.id), es.map((e) => e.state));
    parts.push(`uv AS (UPDATE voucher SET state = v.state FROM unnest(${p[0]}::uuid[], ${p[1]}::uuid[], ${p[2]}::text[]) AS v(member_id, id, state)
      WHERE voucher.member_id = v.member_id AND voucher.id = v.id AND voucher.state = 'ISSUED')`);
  }
  if (!parts.length) return;
  await rows(q, `WITH ${parts.join(',\n')} SELECT 1`, params);
}
