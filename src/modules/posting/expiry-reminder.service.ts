import type { DataSource } from 'typeorm';
import { inTransaction, rows } from '../../db/transaction';
import { loadMemberLinks } from '../member/member-links.store';
import { NewEvent, recordEvents } from '../webhook/webhook.store';

/** (member, expiry date) pairs reminded in one transaction of the job. */
const REMINDER_BATCH = 500;
const DAY_MS = 86_400_000;

/** What one reminder says: the points of a member's lots that expire on one UTC date. */
export interface ExpiringPoints {
  memberId: string;
  memberCode: string;
  /** UTC date, YYYY-MM-DD. */
  expiresOn: string;
  /** Points left on the member's open lots expiring that date: what will actually expire unless spent. */
  points: number;
  /** The first instant (UTC) on that date at which one of those lots expires. */
  expiresAt: Date;
}

/**
 * `points.expiring` (docs/rules.md, Events and webhooks): to the operator (member id and code) and to
 * every partner linked to the member (the same, plus that partner's own reference for the member,
 * never another partner's). Points, expiresOn (UTC date) and expiresAt (UTC).
 */
export function pointsExpiringEvent(r: ExpiringPoints, links: { partnerId: string; externalRef: string | null }[], at: Date): NewEvent {
  const data = { memberId: r.memberId, memberCode: r.memberCode, points: r.points, expiresOn: r.expiresOn, expiresAt: r.expiresAt.toISOString() };
  return {
    memberId: r.memberId, type: 'points.expiring', occurredAt: at, partnerIds: links.map((l) => l.partnerId), affiliateIds: [],
    data, views: Object.fromEntries(links.map((l) => [`partner:${l.partnerId}`, { ...data, externalRef: l.externalRef }])),
  };
}

/**
 * The expiry reminder job. At `now` (UTC), for every member (not erased) and every UTC date from
 * today to today + expiryReminderDays on which some of its open lots expire after now, writes one `points.expiring`
 * event with the points still left on those lots — points already redeemed, donated or expired are not
 * in a lot's `remaining`, so only points that would actually expire are counted; a date whose lots are
 * all spent gets no reminder. Each (member, date) is reminded once, ever: the reminder's row
 * (`points_expiry_reminder`, primary key (member_id, expires_on)) is inserted with ON CONFLICT DO
 * NOTHING in the same transaction as the event, so two instances running the job at once write one
 * event (the second waits on the first's key, then skips it). Points a member earns later on an
 * already reminded date are not reminded again.
 *
 * It is not the expiry job (expiry.service.ts): that one acts on lots already past expiry and posts
 * EXPIRY transactions; this one only reads lots that will expire and writes events. Neither depends on
 * the other having run. Returns the number of reminders written.
 */
export async function writeExpiryReminders(db: DataSource, now: Date): Promise<number> {
  const [setting] = await rows<{ days: number }>(db, 'SELECT expiry_reminder_days AS days FROM coalition WHERE id = 1');
  // Whole UTC dates: a date is reminded from 00:00 UTC `days` days before it, with all its lots at once.
  const until = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS + (setting!.days + 1) * DAY_MS);
  let written = 0;
  for (;;) {
    const due = await rows<{ member_id: string; member_code: string; expires_on: string; points: number; expires_at: Date }>(db,
      `SELECT l.member_id, m.member_code, to_char(l.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS expires_on, sum(l.remaining)::int AS points, min(l.expires_at) AS expires_at
       FROM lot l JOIN member m ON m.id = l.member_id AND m.erased_at IS NULL
       WHERE l.remaining > 0 AND l.expires_at > $1 AND l.expires_at < $2
         AND NOT EXISTS (SELECT 1 FROM points_expiry_reminder r WHERE r.member_id = l.member_id AND r.expires_on = (l.expires_at AT TIME ZONE 'UTC')::date)
       GROUP BY l.member_id, m.member_code, 3 ORDER BY l.member_id, 3 LIMIT ${REMINDER_BATCH}`, [now, until]);
    if (!due.length) return written;
    const outcome = await inTransaction(db, async (q) => {
      const inserted = await rows<{ member_id: string; expires_on: string }>(q,
        `INSERT INTO points_expiry_reminder (member_id, expires_on, points, expires_at, created_at)
         SELECT u.*, $5::timestamptz FROM unnest($1::uuid[], $2::date[], $3::int[], $4::timestamptz[]) AS u(member_id, expires_on, points, expires_at)
         ON CONFLICT (member_id, expires_on) DO NOTHING RETURNING member_id, to_char(expires_on, 'YYYY-MM-DD') AS expires_on`,
        [due.map((d) => d.member_id), due.map((d) => d.expires_on), due.map((d) => d.points), due.map((d) => d.expires_at.toISOString()), now]);
      const mine = new Set(inserted.map((r) => `${r.member_id}|${r.expires_on}`));
      const reminders = due.filter((d) => mine.has(`${d.member_id}|${d.expires_on}`));
      const links = await loadMemberLinks(q, [...new Set(reminders.map((r) => r.member_id))]);
      await recordEvents(q, reminders.map((d) => pointsExpiringEvent({ memberId: d.member_id, memberCode: d.member_code, expiresOn: d.expires_on, points: d.points,
        expiresAt: d.expires_at }, links.get(d.member_id) ?? [], now)));
      return { ok: true as const, value: reminders.length };
    });
    written += outcome.ok ? outcome.value : 0;
    if (due.length < REMINDER_BATCH) return written;
  }
}
