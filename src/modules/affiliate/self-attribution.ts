import { DataSource, QueryRunner } from 'typeorm';
import { rows } from '../../db/transaction';
import { isSamePerson } from '../member/member.rules';

/** A member and the affiliate a purchase would attribute it to. */
export interface Attribution {
  memberId: string;
  affiliateId: string | null;
}

/**
 * Removes the affiliate from every attribution whose member is the affiliate itself — the same
 * mailbox or phone (isSamePerson; docs/rules.md, Affiliates): an affiliate earns no commission on its
 * own purchases. One query for the whole batch; unknown members are left as they are (the posting
 * refuses them).
 */
export async function dropSelfAttributions(db: DataSource | QueryRunner, attributions: Attribution[]): Promise<void> {
  const named = attributions.filter((a) => a.affiliateId !== null);
  if (!named.length) return;
  const found = await rows<{ member_id: string; affiliate_id: string; m_email: string | null; m_phone: string | null; a_email: string; a_phone: string | null }>(db,
    `SELECT x.member_id, x.affiliate_id, m.email AS m_email, m.phone AS m_phone, a.email AS a_email, a.phone AS a_phone
     FROM (SELECT DISTINCT * FROM unnest($1::uuid[], $2::uuid[]) AS x(member_id, affiliate_id)) x
     JOIN member m ON m.id = x.member_id JOIN affiliate a ON a.id = x.affiliate_id`,
    [named.map((a) => a.memberId), named.map((a) => a.affiliateId)]);
  const own = new Set(found.filter((r) => isSamePerson({ email: r.m_email, phone: r.m_phone }, { email: r.a_email, phone: r.a_phone }))
    .map((r) => `${r.member_id}|${r.affiliate_id}`));
  for (const a of named) if (own.has(`${a.memberId}|${a.affiliateId}`)) a.affiliateId = null;
}
