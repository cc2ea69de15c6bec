import { expiredAndPending } from './ledger.store';

/** expiredAndPending reads lots the lock brought as loadExpiredPoints reads them at the same instant. */
describe('expiredAndPending', () => {
  const at = new Date('2026-12-01T00:00:00.000Z');
  const t = (ms: number) => new Date(at.getTime() + ms);
  it.each([
    ['no lots: absent, like a member loadExpiredPoints finds nothing for', [], undefined],
    ['past expiry at `at` (inclusive)', [{ remaining: 5, expiresAt: at, availableAt: null }], { expired: 5, pending: 0 }],
    ['expiring just after `at`: neither', [{ remaining: 5, expiresAt: t(1), availableAt: null }], { expired: 0, pending: 0 }],
    ['pending after `at`', [{ remaining: 7, expiresAt: t(86_400_000), availableAt: t(1) }], { expired: 0, pending: 7 }],
    ['available at `at` exactly: not pending', [{ remaining: 7, expiresAt: t(86_400_000), availableAt: at }], { expired: 0, pending: 0 }],
    ['past expiry and never available: expired, not pending', [{ remaining: 3, expiresAt: t(-1), availableAt: t(1) }], { expired: 3, pending: 0 }],
    ['several, summed', [{ remaining: 3, expiresAt: t(-5), availableAt: null }, { remaining: 4, expiresAt: t(-1), availableAt: null },
      { remaining: 10, expiresAt: t(9e9), availableAt: t(60_000) }], { expired: 7, pending: 10 }],
  ])('%s', (_, lots, expected) => {
    expect(expiredAndPending(lots, at)).toEqual(expected);
  });
});
