import { AccountType, Changes, DebtState, LotState, MemberBook, ObligationKind, emptyChanges, planConsumption, refundPoints } from './ledger.rules';

const day = (n: number) => new Date(Date.UTC(2026, 0, 1 + n));

function lot(id: string, partnerId: string | null, remaining: number, expiresDay: number, createdDay = 0, points = remaining): LotState {
  return { id, transactionId: `t-${id}`, issuer: { partnerId }, points, remaining, expiresAt: day(expiresDay), createdAt: day(createdDay), isNew: false, dirty: false };
}

function book(lots: LotState[], balance: number, debt = 0, debts: DebtState[] = [], now = day(0), expiredNotLoaded = 0, pendingNotLoaded = 0): { book: MemberBook; changes: Changes } {
  const changes = emptyChanges();
  const rates: Record<string, string> = { grocer: '0.01', fuel: '0.008' };
  return { book: new MemberBook('member', balance, debt, lots, debts, changes, (id) => rates[id]!, now, expiredNotLoaded, pendingNotLoaded), changes };
}

function sumsToZero(changes: Changes): boolean {
  const byTx = new Map<string, number>();
  for (const e of changes.entries) byTx.set(e.transactionId, (byTx.get(e.transactionId) ?? 0) + e.points);
  return [...byTx.values()].every((v) => v === 0);
}

describe('planConsumption: earliest expiry first, then oldest, then id', () => {
  it.each([
    ['takes the lot that expires first', [lot('a', 'g', 10, 30), lot('b', 'g', 10, 10)], 5, [['b', 5]], 0],
    ['spills into the next lot', [lot('a', 'g', 10, 30), lot('b', 'g', 10, 10)], 15, [['b', 10], ['a', 5]], 0],
    ['same expiry: the older lot first', [lot('a', 'g', 10, 10, 2), lot('b', 'g', 10, 10, 1)], 12, [['b', 10], ['a', 2]], 0],
    ['same expiry and age: by id', [lot('b', 'g', 10, 10), lot('a', 'g', 10, 10)], 3, [['a', 3]], 0],
    ['skips empty lots', [lot('a', 'g', 0, 1, 0, 10), lot('b', 'g', 4, 9)], 4, [['b', 4]], 0],
    ['reports what the lots cannot cover', [lot('a', 'g', 4, 1)], 10, [['a', 4]], 6],
    ['nothing to take', [lot('a', 'g', 4, 1)], 0, [], 0],
  ])('%s', (_name, lots, points, expected, missing) => {
    const plan = planConsumption(lots, points);
    expect(plan.takes.map((t) => [t.lot.id, t.points])).toEqual(expected);
    expect(plan.missing).toBe(missing);
  });
});

describe('refundPoints: on the running total, floor(earned × refunded in all / amount); the completing refund takes the rest', () => {
  it.each([
    // earned, amount, refunded before, taken before, refund, points
    [125, 10000n, 0n, 0, 3000n, 37],
    [125, 10000n, 3000n, 37, 3000n, 38], // floor(125 × 0.6) = 75 in all
    [125, 10000n, 6000n, 75, 4000n, 50],
    [10, 1000n, 0n, 0, 99n, 0], // ten refunds of 0.99 of 10.00 (10 points): 0, 1, 1, … 9 in all
    [10, 1000n, 99n, 0, 99n, 1],
    [10, 1000n, 891n, 8, 99n, 1],
    [10, 1000n, 990n, 9, 10n, 1], // the 11th, of the last 0.10, completes it: the last point
    [125, 10000n, 3000n, 30, 3000n, 45], // taken back less before (an older rule): this refund catches up to 75

    [125, 10000n, 0n, 0, 10000n, 125],
    [7, 300n, 0n, 0, 100n, 2],
    [7, 300n, 100n, 2, 100n, 2],
    [7, 300n, 200n, 4, 100n, 3],
    [1, 1999n, 0n, 0, 1n, 0],
  ])('earned %i of %s, refunded %s before (%i points), refund %s → %i points', (earned, amount, before, taken, refund, points) => {
    expect(refundPoints(earned, amount, before, taken, refund)).toBe(points);
  });
});

describe('MemberBook', () => {
  it('redeeming another issuer’s lot creates an obligation at the redeeming partner’s rate', () => {
    const { book: b, changes } = book([lot('g1', 'grocer', 50, 10), lot('f1', 'fuel', 100, 300)], 150);
    expect(b.redeem('tx', 'fuel', 70)).toBeUndefined();
    expect(b.balance).toBe(80);
    expect(changes.obligations).toEqual([
      { memberId: 'member', transactionId: 'tx', kind: ObligationKind.REDEMPTION, payerType: AccountType.PARTNER, payerId: 'grocer',
        payeeType: AccountType.PARTNER, payeeId: 'fuel', points: 50, rate: '0.008' },
    ]);
    expect(changes.movements).toEqual([
      { memberId: 'member', transactionId: 'tx', lotId: 'g1', points: -50 },
      { memberId: 'member', transactionId: 'tx', lotId: 'f1', points: -20 },
    ]);
    expect(sumsToZero(changes)).toBe(true);
  });

  it.each([
    ['more than the balance', 151, 0, 'INSUFFICIENT_POINTS'],
    ['while in debt', 1, 5, 'MEMBER_IN_DEBT'],
  ])('refuses a redemption of %s without changing anything', (_name, points, debt, code) => {
    const { book: b, changes } = book([lot('g1', 'grocer', 150, 10)], 150 - debt, debt);
    expect(b.redeem('tx', 'grocer', points)).toBe(code);
    expect(changes).toEqual(emptyChanges());
    expect(b.balance).toBe(150 - debt);
  });

  it('takes back from the own lot, then other lots, then records debt owed to the issuer', () => {
    const own = lot('g1', 'grocer', 10, 10, 0, 50);
    const { book: b, changes } = book([own, lot('f1', 'fuel', 25, 300)], 35);
    b.takeBack('rev', { partnerId: 'grocer' }, 'g1', 50, 'debt-1', day(5));
    expect(b.balance).toBe(-15);
    expect(b.debt).toBe(15);
    expect(b.debts).toMatchObject([{ id: 'debt-1', creditorPartnerId: 'grocer', points: 15, remaining: 15, isNew: true }]);
    expect(changes.obligations).toMatchObject([{ kind: ObligationKind.DEBT_RECOVERY, payerId: 'fuel', payeeId: 'grocer', points: 25, rate: '0.01' }]);
    expect(sumsToZero(changes)).toBe(true);
  });

  it('a new lot pays the debt first, owed by its issuer to the creditor', () => {
    const debt: DebtState = { id: 'd', transactionId: 'rev', creditorPartnerId: 'grocer', points: 30, remaining: 30, createdAt: day(1), isNew: false, dirty: false };
    const { book: b, changes } = book([], -30, 30, [debt]);
    const created = b.credit('buy', 'new-lot', { partnerId: 'fuel' }, 20, day(400), day(2))!;
    expect(created.remaining).toBe(0);
    expect(b).toMatchObject({ balance: -10, debt: 10 });
    expect(debt).toMatchObject({ remaining: 10, dirty: true });
    expect(changes.obligations).toMatchObject([{ kind: ObligationKind.DEBT_RECOVERY, payerId: 'fuel', payeeId: 'grocer', points: 20 }]);
  });

  it('a partner lot paying a debt owed to the operator owes the operator, at that partner’s own value', () => {
    const debt: DebtState = { id: 'd', transactionId: 'rev', creditorPartnerId: null, points: 5, remaining: 5, createdAt: day(1), isNew: false, dirty: false };
    const { book: b, changes } = book([], -5, 5, [debt]);
    b.credit('buy', 'l', { partnerId: 'fuel' }, 20, day(400), day(2));
    expect(b).toMatchObject({ balance: 15, debt: 0 });
    expect(changes.obligations).toEqual([{ memberId: 'member', transactionId: 'buy', kind: ObligationKind.DEBT_RECOVERY,
      payerType: AccountType.PARTNER, payerId: 'fuel', payeeType: AccountType.OPERATOR, payeeId: null, points: 5, rate: '0.008' }]);
  });

  it('an operator lot paying a debt owed to the operator owes nothing', () => {
    const debt: DebtState = { id: 'd', transactionId: 'rev', creditorPartnerId: null, points: 5, remaining: 5, createdAt: day(1), isNew: false, dirty: false };
    const { book: b, changes } = book([], -5, 5, [debt]);
    b.credit('bonus', 'l', { partnerId: null }, 20, day(400), day(2));
    expect(b).toMatchObject({ balance: 15, debt: 0 });
    expect(changes.obligations).toEqual([]);
  });

  describe('lots past expiry at the posting time (the expiry job has not run)', () => {
    // Posting at day 20: the grocer lot expired on day 10, the fuel lot expires on day 300.
    const setup = () => book([lot('g1', 'grocer', 50, 10, 0), lot('f1', 'fuel', 30, 300, 1)], 80, 0, [], day(20));

    it('are not available, not redeemed, not donated', () => {
      const { book: b, changes } = setup();
      expect(b.available).toBe(30);
      expect(b.redeem('tx', 'fuel', 31)).toBe('INSUFFICIENT_POINTS');
      expect(b.donate('d', 'cause', 31, '0.01', 2)).toBe('INSUFFICIENT_POINTS');
      expect(b.donate('d', 'cause', 1, '0.01', 2, 'g1')).toBe('INSUFFICIENT_POINTS');
      expect(changes).toEqual(emptyChanges());
      expect(b.redeem('tx', 'grocer', 30)).toBeUndefined();
      expect(changes.movements).toEqual([{ memberId: 'member', transactionId: 'tx', lotId: 'f1', points: -30 }]);
      expect(b).toMatchObject({ balance: 50, available: 0 });
    });

    it('count in available when the book did not load them (expiredNotLoaded)', () => {
      const { book: b } = book([], 80, 0, [], day(20), 50);
      expect(b.available).toBe(30);
    });

    it('a reversal takes the expired part of its own lot first, then other lots, with no obligation for the expired part', () => {
      const { book: b, changes } = setup();
      expect(b.takeBack('rev', { partnerId: 'grocer' }, 'g1', 60, 'debt', day(20))).toBe(0);
      expect(changes.movements).toEqual([
        { memberId: 'member', transactionId: 'rev', lotId: 'g1', points: -50 },
        { memberId: 'member', transactionId: 'rev', lotId: 'f1', points: -10 },
      ]);
      expect(changes.obligations).toMatchObject([{ kind: ObligationKind.DEBT_RECOVERY, payerId: 'fuel', payeeId: 'grocer', points: 10 }]);
      expect(b).toMatchObject({ balance: 20, available: 20, debt: 0 });
    });

    it('a reversal counts points the job already moved to breakage as taken back, giving them back from breakage', () => {
      const own = lot('g1', 'grocer', 0, 10, 0, 50);
      const { book: b, changes } = book([own, lot('f1', 'fuel', 30, 300, 1)], 30, 0, [], day(20));
      expect(b.takeBack('rev', { partnerId: 'grocer' }, 'g1', 50, 'debt', day(20), { transactionId: 'unexpire', points: 40 })).toBe(40);
      expect(changes.entries.filter((e) => e.transactionId === 'unexpire')).toMatchObject([
        { accountType: AccountType.MEMBER, points: 40 }, { accountType: AccountType.BREAKAGE, points: -40 }]);
      expect(changes.obligations).toMatchObject([{ kind: ObligationKind.DEBT_RECOVERY, payerId: 'fuel', payeeId: 'grocer', points: 10 }]);
      expect(own.remaining).toBe(0);
      expect(b).toMatchObject({ balance: 20, available: 20, debt: 0 });
      expect(sumsToZero(changes)).toBe(true);
    });
  });

  describe('pending lots (a return window): availability judged against the posting time', () => {
    // Posting at day 20: the grocer lot (purchase on day 15, 30-day window) becomes available on day 45; the fuel lot is available.
    const pendingLot = (remaining = 50, points = remaining) => ({ ...lot('g1', 'grocer', remaining, 410, 15, points), availableAt: day(45) });
    const setup = (now = day(20)) => book([pendingLot(), lot('f1', 'fuel', 30, 300, 1)], 80, 0, [], now);

    it('are not available, not redeemed, not donated (also by an automatic donation from that lot)', () => {
      const { book: b, changes } = setup();
      expect(b).toMatchObject({ available: 30, pending: 50 });
      expect(b.redeem('tx', 'fuel', 31)).toBe('INSUFFICIENT_POINTS');
      expect(b.donate('d', 'cause', 31, '0.01', 2)).toBe('INSUFFICIENT_POINTS');
      expect(b.donate('d', 'cause', 1, '0.01', 2, 'g1')).toBe('INSUFFICIENT_POINTS');
      expect(b.consume('claim', ObligationKind.REWARD, { partnerId: null }, 31, '0.01')).toBe('INSUFFICIENT_POINTS');
      expect(changes).toEqual(emptyChanges());
      expect(b.redeem('tx', 'grocer', 30)).toBeUndefined();
      expect(changes.movements).toEqual([{ memberId: 'member', transactionId: 'tx', lotId: 'f1', points: -30 }]);
      expect(b).toMatchObject({ balance: 50, available: 0, pending: 50 });
    });

    it.each([
      ['a millisecond before availableAt: pending', day(45).getTime() - 1, 30, 50],
      ['at availableAt: available', day(45).getTime(), 80, 0],
      ['a millisecond after: available', day(45).getTime() + 1, 80, 0],
    ])('%s', (_name, at, available, pending) => {
      const { book: b } = setup(new Date(at));
      expect(b).toMatchObject({ available, pending });
    });

    it('count as pending when the book did not load them (pendingNotLoaded)', () => {
      const { book: b } = book([], 80, 0, [], day(20), 0, 50);
      expect(b).toMatchObject({ available: 30, pending: 50 });
    });

    it('a refund inside the window takes the points back from the pending lot: no debt, no obligation', () => {
      const { book: b, changes } = setup();
      b.takeBack('rev', { partnerId: 'grocer' }, 'g1', 20, 'debt', day(20));
      expect(changes.movements).toEqual([{ memberId: 'member', transactionId: 'rev', lotId: 'g1', points: -20 }]);
      expect(changes.obligations).toEqual([]);
      expect(b).toMatchObject({ balance: 60, available: 30, pending: 30, debt: 0 });
      expect(sumsToZero(changes)).toBe(true);
    });

    it('a new pending lot pays open debt first; what is left stays pending', () => {
      const debt: DebtState = { id: 'd', transactionId: 'rev', creditorPartnerId: 'fuel', points: 30, remaining: 30, createdAt: day(1), isNew: false, dirty: false };
      const { book: b, changes } = book([], -30, 30, [debt], day(20));
      const l = b.credit('buy', 'l', { partnerId: 'grocer' }, 100, day(410), day(20), day(50))!;
      expect(l).toMatchObject({ remaining: 70, availableAt: day(50) });
      expect(changes.obligations).toMatchObject([{ kind: ObligationKind.DEBT_RECOVERY, payerId: 'grocer', payeeId: 'fuel', points: 30 }]);
      expect(b).toMatchObject({ balance: 70, debt: 0, available: 0, pending: 70 });
    });

    it('a reversal that other available lots cannot cover takes from pending lots before it makes debt', () => {
      const { book: b, changes } = book([pendingLot(), lot('f1', 'fuel', 10, 300, 1)], 60, 0, [], day(20));
      b.takeBack('rev', { partnerId: 'fuel' }, 'f1', 25, 'debt', day(20));
      expect(changes.movements).toEqual([
        { memberId: 'member', transactionId: 'rev', lotId: 'f1', points: -10 },
        { memberId: 'member', transactionId: 'rev', lotId: 'g1', points: -15 },
      ]);
      expect(changes.obligations).toMatchObject([{ kind: ObligationKind.DEBT_RECOVERY, payerId: 'grocer', payeeId: 'fuel', points: 15 }]);
      expect(b).toMatchObject({ balance: 35, debt: 0, available: 0, pending: 35 });
    });
  });

  it('restoring a redemption gives the same lots their points back and negates its obligations', () => {
    const g = lot('g1', 'grocer', 0, 10, 0, 50);
    const { book: b, changes } = book([g], 0);
    b.restore('ret', { partnerId: 'fuel' }, [{ lotId: 'g1', points: -50 }], [
      { memberId: 'member', transactionId: 'red', kind: ObligationKind.REDEMPTION, payerType: AccountType.PARTNER, payerId: 'grocer',
        payeeType: AccountType.PARTNER, payeeId: 'fuel', points: 50, rate: '0.008' },
    ]);
    expect(g.remaining).toBe(50);
    expect(b.balance).toBe(50);
    expect(changes.obligations).toMatchObject([{ transactionId: 'ret', points: -50, rate: '0.008' }]);
    expect(sumsToZero(changes)).toBe(true);
  });

  describe('consume: the one place points spent with a partner or the operator become obligations', () => {
    it.each([
      // beneficiary, lots (issuer, remaining), points, expected obligations [payer, payeeType, payee, points]
      ['a partner reward: other issuers owe it, its own lot owes nothing', 'fuel', [['grocer', 30], ['fuel', 40], [null, 20]], 80,
        [['grocer', AccountType.PARTNER, 'fuel', 30], [null, AccountType.PARTNER, 'fuel', 10]]],
      ['an operator reward: partner lots owe the operator, the operator’s own lot nothing', null, [['grocer', 30], [null, 40], ['fuel', 20]], 90,
        [['grocer', AccountType.OPERATOR, null, 30], ['fuel', AccountType.OPERATOR, null, 20]]],
    ] as [string, string | null, [string | null, number][], number, [string | null, AccountType, string | null, number][]][])('%s', (_name, beneficiary, held, points, expected) => {
      const lots = held.map(([issuer, remaining], i) => lot(`l${i}`, issuer, remaining, 100, i));
      const { book: b, changes } = book(lots, held.reduce((sum, [, r]) => sum + r, 0));
      expect(b.consume('claim', ObligationKind.REWARD, { partnerId: beneficiary }, points, '0.0075')).toBeUndefined();
      expect(changes.obligations.map((o) => [o.payerId, o.payeeType, o.payeeId, o.points])).toEqual(expected);
      expect(changes.obligations.every((o) => o.kind === ObligationKind.REWARD && o.rate === '0.0075')).toBe(true);
      expect(changes.entries).toMatchObject([{ accountType: AccountType.MEMBER, points: -points }, { accountType: beneficiary ? AccountType.PARTNER : AccountType.OPERATOR, accountId: beneficiary, points }]);
      expect(sumsToZero(changes)).toBe(true);
    });

    it.each([
      ['MEMBER_IN_DEBT', 10, 5],
      ['INSUFFICIENT_POINTS', 0, 51],
    ])('refuses with %s and changes nothing', (code, debt, points) => {
      const g = lot('g1', 'grocer', 50, 100);
      const { book: b, changes } = book([g], 50 - debt, debt);
      expect(b.consume('claim', ObligationKind.REWARD, { partnerId: 'fuel' }, points, '0.01')).toBe(code);
      expect(changes).toEqual(emptyChanges());
      expect(g.remaining).toBe(50);
    });

    it('never takes a lot past its expiry', () => {
      const { book: b } = book([lot('old', 'grocer', 50, -1), lot('new', 'fuel', 20, 100)], 70);
      expect(b.consume('claim', ObligationKind.REWARD, { partnerId: 'fuel' }, 21, '0.01')).toBe('INSUFFICIENT_POINTS');
      expect(b.consume('claim', ObligationKind.REWARD, { partnerId: 'fuel' }, 20, '0.01')).toBeUndefined();
    });

    it('restoring an operator reward credits the member from the operator account', () => {
      const g = lot('g1', 'grocer', 0, 10, 0, 50);
      const { book: b, changes } = book([g], 0);
      b.restore('void', { partnerId: null }, [{ lotId: 'g1', points: -50 }], []);
      expect(changes.entries).toMatchObject([{ accountType: AccountType.MEMBER, points: 50 }, { accountType: AccountType.OPERATOR, accountId: null, points: -50 }]);
      expect(b.balance).toBe(50);
    });
  });
});
