import { Dec, formatMinorUnits } from '../../common/decimal';
import { LineTotal, PartyKey, Position, SettledLine, Transfer, netPositions, partyKey, roundToMinor, settleLines, settleTransfers, statementCsv } from './settlement.rules';

/** Settlement maths (docs/rules.md, Units and rounding; Redemption and cross-redemption settlement), without a database. */

const partner = (id: string): PartyKey => ({ type: 'PARTNER', id });
const OPERATOR: PartyKey = { type: 'OPERATOR', id: null };
const [A, B, C, D, E] = ['a', 'b', 'c', 'd', 'e'].map(partner) as [PartyKey, PartyKey, PartyKey, PartyKey, PartyKey];

function settled(kind: string, payer: PartyKey, payee: PartyKey, points: number, amountMinor: bigint): SettledLine {
  return { kind, payer, payee, points: BigInt(points), exact: new Dec(amountMinor.toString()).div(100), amountMinor };
}

const position = (party: PartyKey, amountMinor: bigint): Position => ({ party, amountMinor });

/** mulberry32: a tiny seeded PRNG, so the property checks are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('roundToMinor: one half-up rounding, half away from zero, to the currency exponent', () => {
  it.each([
    // exact, exponent, minor units
    ['0.005', 2, 1n],
    ['0.0049999', 2, 0n],
    ['0.0050001', 2, 1n],
    ['-0.005', 2, -1n],
    ['-0.0049999', 2, 0n],
    ['0.015', 2, 2n],
    ['0.025', 2, 3n], // half up, not half even
    ['12.345', 2, 1235n],
    ['12.344999999', 2, 1234n],
    ['0', 2, 0n],
    ['123456789012345.675', 2, 12345678901234568n], // beyond a double's precision
    ['0.5', 0, 1n],
    ['0.4999', 0, 0n],
    ['2.5', 0, 3n],
    ['-0.5', 0, -1n],
    ['1234', 0, 1234n],
    ['0.0005', 3, 1n],
    ['0.00049999', 3, 0n],
    ['1.2345', 3, 1235n],
    ['-1.2345', 3, -1235n],
  ])('%s at exponent %i → %s', (exact, exponent, minor) => {
    expect(roundToMinor(new Dec(exact), exponent)).toBe(minor);
  });
});

describe('settleLines: a line is rounded once, on its exact sum, not per event', () => {
  it.each([
    // events of 1 point at 0.0045 each: each product alone would round to 0.00
    [1, 0n],
    [2, 1n], // 0.009
    [3, 1n], // 0.0135
    [10, 5n], // 0.045 → 0.05
    [111, 50n], // 0.4995 → 0.50
    [1000, 450n], // 4.5
  ])('%i events of 0.0045 → %s minor units', (events, minor) => {
    let exact = new Dec(0);
    for (let i = 0; i < events; i++) exact = exact.plus(new Dec(1).times('0.0045'));
    const line: LineTotal = { kind: 'REDEMPTION', payer: A, payee: B, points: BigInt(events), exact };
    expect(settleLines([line], 2)).toEqual([{ ...line, amountMinor: minor }]);
  });

  it('rounds each line on its own, keeping kind, parties and points', () => {
    const lines: LineTotal[] = [
      { kind: 'REDEMPTION', payer: A, payee: B, points: 333n, exact: new Dec('333').times('0.0033') }, // 1.0989
      { kind: 'DEBT_RECOVERY', payer: A, payee: B, points: 7n, exact: new Dec('7').times('0.0125') }, // 0.0875
      { kind: 'REDEMPTION', payer: B, payee: A, points: -80n, exact: new Dec('-80').times('0.012') }, // -0.96
    ];
    expect(settleLines(lines, 2).map((l) => [l.kind, l.payer, l.payee, l.points, l.amountMinor])).toEqual([
      ['REDEMPTION', A, B, 333n, 110n],
      ['DEBT_RECOVERY', A, B, 7n, 9n],
      ['REDEMPTION', B, A, -80n, -96n],
    ]);
  });
});

describe('netPositions: receivable − payable per party, summing to exactly zero', () => {
  it.each([
    ['no lines', [], []],
    ['one line', [settled('REDEMPTION', A, B, 250, 200n)], [position(A, -200n), position(B, 200n)]],
    ['a chain nets out the middle party', [settled('REDEMPTION', A, B, 500, 500n), settled('REDEMPTION', B, C, 500, 500n)],
      [position(A, -500n), position(B, 0n), position(C, 500n)]],
    ['two kinds between the same parties add up', [settled('REDEMPTION', A, B, 100, 100n), settled('DEBT_RECOVERY', A, B, 10, 13n)],
      [position(A, -113n), position(B, 113n)]],
    ['opposite directions offset', [settled('REDEMPTION', A, B, 100, 100n), settled('REDEMPTION', B, A, 30, 37n)],
      [position(A, -63n), position(B, 63n)]],
    ['a negative line (returns) reverses the direction', [settled('REDEMPTION', A, B, -80, -96n)], [position(A, 96n), position(B, -96n)]],
    ['the operator is a party like any other', [settled('DEBT_RECOVERY', A, OPERATOR, 5, 5n)], [position(OPERATOR, 5n), position(A, -5n)]],
  ] as [string, SettledLine[], Position[]][])('%s', (_name, lines, expected) => {
    const positions = netPositions(lines);
    expect(positions).toEqual(expected);
    expect(positions.reduce((sum, p) => sum + p.amountMinor, 0n)).toBe(0n);
  });
});

/** What settling `transfers` leaves of each party's position: all zero when they settle it exactly. */
function leftAfter(positions: Position[], transfers: Transfer[]): Map<string, bigint> {
  const left = new Map(positions.map((p) => [partyKey(p.party), p.amountMinor]));
  for (const t of transfers) {
    left.set(partyKey(t.from), (left.get(partyKey(t.from)) ?? 0n) + t.amountMinor);
    left.set(partyKey(t.to), (left.get(partyKey(t.to)) ?? 0n) - t.amountMinor);
  }
  return left;
}

function expectSettles(positions: Position[], transfers: Transfer[]): void {
  expect([...leftAfter(positions, transfers).values()].every((v) => v === 0n)).toBe(true);
  const nonZero = positions.filter((p) => p.amountMinor !== 0n).length;
  expect(transfers.length).toBeLessThanOrEqual(Math.max(nonZero - 1, 0));
  const payers = new Set(transfers.map((t) => partyKey(t.from)));
  const receivers = new Set(transfers.map((t) => partyKey(t.to)));
  expect([...payers].filter((p) => receivers.has(p))).toEqual([]);
  for (const t of transfers) expect(t.amountMinor).toBeGreaterThan(0n);
  // Payers are exactly the parties with a negative position, receivers those with a positive one.
  expect([...payers].sort()).toEqual(positions.filter((p) => p.amountMinor < 0n).map((p) => partyKey(p.party)).sort());
  expect([...receivers].sort()).toEqual(positions.filter((p) => p.amountMinor > 0n).map((p) => partyKey(p.party)).sort());
}

describe('settleTransfers: payments that settle the positions', () => {
  it.each([
    ['one party: nothing to pay', [position(A, 0n)], []],
    ['all positions zero: nothing to pay', [position(A, 0n), position(B, 0n), position(C, 0n)], []],
    ['two parties: one payment', [position(A, -150n), position(B, 150n)], [{ from: A, to: B, amountMinor: 150n }]],
    ['ties are broken by party key', [position(D, 100n), position(B, -100n), position(C, 100n), position(A, -100n)],
      [{ from: A, to: C, amountMinor: 100n }, { from: B, to: D, amountMinor: 100n }]],
    ['a chain A→B→C: A pays C, B is even', netPositions([settled('REDEMPTION', A, B, 500, 500n), settled('REDEMPTION', B, C, 500, 500n)]),
      [{ from: A, to: C, amountMinor: 500n }]],
    ['many parties: the largest payer pays the largest receiver first',
      [position(A, -700n), position(B, -300n), position(C, 400n), position(D, 350n), position(E, 250n)],
      [{ from: A, to: C, amountMinor: 400n }, { from: A, to: D, amountMinor: 300n }, { from: B, to: E, amountMinor: 250n }, { from: B, to: D, amountMinor: 50n }]],
    ['one payer, many receivers', [position(A, -6n), position(B, 1n), position(C, 2n), position(D, 3n)],
      [{ from: A, to: D, amountMinor: 3n }, { from: A, to: C, amountMinor: 2n }, { from: A, to: B, amountMinor: 1n }]],
    ['the operator and a cause settle like partners', [position(OPERATOR, -10n), position({ type: 'CAUSE', id: 'c1' }, 10n)],
      [{ from: OPERATOR, to: { type: 'CAUSE', id: 'c1' }, amountMinor: 10n }]],
  ] as [string, Position[], Transfer[]][])('%s', (_name, positions, expected) => {
    const transfers = settleTransfers(positions);
    expect(transfers).toEqual(expected);
    expectSettles(positions, transfers);
    // The same positions in another order give the same transfers.
    expect(settleTransfers([...positions].reverse())).toEqual(expected);
  });

  const SEED = 20261122;
  it(`settles every position exactly, in at most (non-zero parties − 1) payments, over 400 random runs (seed ${SEED})`, () => {
    const random = mulberry32(SEED);
    const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
    const parties: PartyKey[] = [OPERATOR, { type: 'CAUSE', id: 'cause-1' }, ...'abcdefghij'.split('').map(partner)];
    for (let run = 0; run < 400; run++) {
      const n = int(1, parties.length);
      const involved = parties.slice(0, n);
      const lines: SettledLine[] = [];
      for (let i = int(0, 25); i > 0; i--) {
        const payer = involved[int(0, n - 1)]!;
        const payee = involved[int(0, n - 1)]!;
        if (payer === payee) continue;
        const points = int(-500, 5000);
        // Small amounts make ties and exact cancellations common.
        lines.push(settled(random() < 0.5 ? 'REDEMPTION' : 'DEBT_RECOVERY', payer, payee, points, BigInt(random() < 0.3 ? int(-3, 3) : int(-1000, 100000))));
      }
      const positions = netPositions(lines);
      expect(positions.reduce((sum, p) => sum + p.amountMinor, 0n)).toBe(0n);
      for (const p of positions) {
        const key = partyKey(p.party);
        const receivable = lines.filter((l) => partyKey(l.payee) === key).reduce((s, l) => s + l.amountMinor, 0n);
        const payable = lines.filter((l) => partyKey(l.payer) === key).reduce((s, l) => s + l.amountMinor, 0n);
        expect(p.amountMinor).toBe(receivable - payable);
      }
      const transfers = settleTransfers(positions);
      expectSettles(positions, transfers);
      expect(settleTransfers([...positions].reverse())).toEqual(transfers);
    }
  });
});

describe('statementCsv: one party’s share of a run', () => {
  const run = { periodStart: new Date('2026-11-01T00:00:00.000Z'), periodEnd: new Date('2026-12-01T00:00:00.000Z') };
  const names: Record<string, string> = {
    [partyKey(A)]: 'Green Grocer',
    [partyKey(B)]: 'Fuel, Inc.',
    [partyKey(C)]: '=HYPERLINK("http://evil.example")',
    [partyKey(D)]: 'Cinema "Odeon"',
    [partyKey(E)]: '+1 Airline',
    [partyKey(OPERATOR)]: 'City Rewards',
  };
  const csv = (party: PartyKey, lines: SettledLine[]) =>
    statementCsv(party, (p) => names[partyKey(p)]!, lines, run, (minor) => formatMinorUnits(minor, 2), 'EUR');
  const HEADER = 'period_start,period_end,kind,direction,counterparty_type,counterparty,points,amount_EUR';
  const PERIOD = '2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z';

  it('has a header, a row per line the party takes part in (payable negative), then totals, with CRLF line ends; a negative line (a returned reward) is PAYABLE with −0.96', () => {
    const lines = [
      settled('REDEMPTION', B, A, 250, 200n),
      settled('REDEMPTION', A, D, 125, 150n),
      settled('REDEMPTION', B, D, 999, 999n), // not the grocer's
      settled('DEBT_RECOVERY', A, E, 3, 4n),
      settled('REDEMPTION', C, A, -80, -96n), // a returned reward: receivable, negative
    ];
    expect(csv(A, lines)).toBe([
      HEADER,
      `${PERIOD},REDEMPTION,RECEIVABLE,PARTNER,"Fuel, Inc.",250,2.00`,
      `${PERIOD},REDEMPTION,PAYABLE,PARTNER,"Cinema ""Odeon""",125,-1.50`,
      `${PERIOD},DEBT_RECOVERY,PAYABLE,PARTNER,"'+1 Airline",3,-0.04`,
      // The line C → A is negative: A gives 80 points' worth back, so A pays 0.96.
      `${PERIOD},REDEMPTION,PAYABLE,PARTNER,"'=HYPERLINK(""http://evil.example"")",80,-0.96`,
      ',,TOTAL,RECEIVABLE,,,,2.00',
      ',,TOTAL,PAYABLE,,,,-2.50',
      ',,TOTAL,NET,,,,-0.50',
      '',
    ].join('\r\n'));
  });

  it.each([
    ['a comma is quoted', 'Fuel, Inc.', '"Fuel, Inc."'],
    ['a quote is doubled inside quotes', 'Cinema "Odeon"', '"Cinema ""Odeon"""'],
    ['a leading = cannot start a formula', '=1+2', `"'=1+2"`],
    ['a leading + cannot start a formula', '+1 Airline', `"'+1 Airline"`],
    ['a leading - cannot start a formula', '-2+3', `"'-2+3"`],
    ['a leading @ cannot start a formula', '@SUM(A1)', `"'@SUM(A1)"`],
    ['a line break is quoted', 'Two\nLines', '"Two\nLines"'],
    ['a plain name is left alone', 'Green Grocer', 'Green Grocer'],
    ['an = inside a name is harmless', 'A=B', 'A=B'],
  ])('counterparty cell: %s', (_name, name, cell) => {
    const text = statementCsv(A, (p) => (partyKey(p) === partyKey(B) ? name : 'x'), [settled('REDEMPTION', B, A, 1, 1n)], run,
      (minor) => formatMinorUnits(minor, 2), 'EUR');
    expect(text.split('\r\n')[1]).toBe(`${PERIOD},REDEMPTION,RECEIVABLE,PARTNER,${cell},1,0.01`);
  });

  it('a party with no lines gets the header and zero totals', () => {
    expect(csv(E, [settled('REDEMPTION', A, B, 1, 1n)])).toBe(
      [HEADER, ',,TOTAL,RECEIVABLE,,,,0.00', ',,TOTAL,PAYABLE,,,,0.00', ',,TOTAL,NET,,,,0.00', ''].join('\r\n'));
  });

  it('a clawback (a COMMISSION line of −10.00, partner → affiliate) is RECEIVABLE +10.00 for the partner and PAYABLE −10.00 for the affiliate; signs and direction agree on every row', () => {
    const affiliate: PartyKey = { type: 'AFFILIATE', id: 'f' };
    names[partyKey(affiliate)] = 'Deals Blog';
    const lines = [settled('COMMISSION', A, affiliate, 0, -1000n), settled('COMMISSION', B, affiliate, 0, 700n), settled('COMMISSION', A, C, 0, 0n)];
    expect(csv(A, lines)).toBe([
      HEADER,
      `${PERIOD},COMMISSION,RECEIVABLE,AFFILIATE,Deals Blog,0,10.00`,
      `${PERIOD},COMMISSION,PAYABLE,PARTNER,"'=HYPERLINK(""http://evil.example"")",0,0.00`,
      ',,TOTAL,RECEIVABLE,,,,10.00',
      ',,TOTAL,PAYABLE,,,,0.00',
      ',,TOTAL,NET,,,,10.00',
      '',
    ].join('\r\n'));
    expect(csv(affiliate, lines).split('\r\n').slice(1, -1)).toEqual([
      `${PERIOD},COMMISSION,PAYABLE,PARTNER,Green Grocer,0,-10.00`,
      `${PERIOD},COMMISSION,RECEIVABLE,PARTNER,"Fuel, Inc.",0,7.00`,
      ',,TOTAL,RECEIVABLE,,,,7.00',
      ',,TOTAL,PAYABLE,,,,-10.00',
      ',,TOTAL,NET,,,,-3.00',
    ]);
    // Property: on random lines, every row's sign agrees with its direction and the totals with the net position.
    const random = mulberry32(0x21c5);
    const parties = [A, B, C, affiliate];
    for (let round = 0; round < 200; round++) {
      const some = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
        const payer = parties[Math.floor(random() * parties.length)]!;
        const payee = parties.filter((p) => p !== payer)[Math.floor(random() * (parties.length - 1))]!;
        return settled('COMMISSION', payer, payee, Math.floor(random() * 21) - 10, BigInt(Math.floor(random() * 2001) - 1000));
      });
      for (const party of parties) {
        const rows = csv(party, some).split('\r\n').slice(1, -1).map((r) => r.split(','));
        const body = rows.filter((r) => r[2] !== 'TOTAL');
        for (const r of body) {
          const amount = new Dec(r.at(-1)!);
          expect(r[3] === 'RECEIVABLE' ? amount.gte(0) : amount.lte(0)).toBe(true);
        }
        const total = (direction: string) => new Dec(rows.find((r) => r[2] === 'TOTAL' && r[3] === direction)!.at(-1)!);
        const net = netPositions(some).find((p) => partyKey(p.party) === partyKey(party))?.amountMinor ?? 0n;
        expect(total('NET').toFixed(2)).toBe(formatMinorUnits(net, 2));
        expect(total('RECEIVABLE').plus(total('PAYABLE')).toFixed(2)).toBe(total('NET').toFixed(2));
        expect(total('RECEIVABLE').gte(0) && total('PAYABLE').lte(0)).toBe(true);
      }
    }
  });

  it('the totals agree with the party’s net position', () => {
    const lines = [settled('REDEMPTION', B, OPERATOR, 10, 10n), settled('DEBT_RECOVERY', OPERATOR, A, 7, 9n), settled('REDEMPTION', A, OPERATOR, 40, 33n)];
    const net = netPositions(lines).find((p) => partyKey(p.party) === partyKey(OPERATOR))!.amountMinor;
    expect(csv(OPERATOR, lines).split('\r\n').at(-2)).toBe(`,,TOTAL,NET,,,,${formatMinorUnits(net, 2)}`);
    expect(net).toBe(34n);
  });
});
