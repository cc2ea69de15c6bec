import { Dec } from '../../common/decimal';

/** A party in settlement: a partner, cause, affiliate, or the operator (id null). */
export interface PartyKey {
  type: string;
  id: string | null;
}

export function partyKey(p: PartyKey): string {
  return `${p.type}:${p.id ?? ''}`;
}

export interface LineTotal {
  kind: string;
  payer: PartyKey;
  payee: PartyKey;
  points: bigint;
  /** Σ points × rate in force at each event, exact, in currency units. */
  exact: Dec;
}

export interface SettledLine extends LineTotal {
  amountMinor: bigint;
}

/** One half-up rounding a line (docs/rules.md, Units and rounding): exact currency units → minor units. */
export function roundToMinor(exact: Dec, exponent: number): bigint {
  return BigInt(exact.times(new Dec(10).pow(exponent)).toDecimalPlaces(0, Dec.ROUND_HALF_UP).toFixed(0));
}

export function settleLines(lines: LineTotal[], exponent: number): SettledLine[] {
  return lines.map((l) => ({ ...l, amountMinor: roundToMinor(l.exact, exponent) }));
}

export interface Position {
  party: PartyKey;
  /** Positive: receives. */
  amountMinor: bigint;
}

/** Each party's net: what it receives minus what it pays, from the rounded lines. They sum to zero. */
export function netPositions(lines: SettledLine[]): Position[] {
  const net = new Map<string, Position>();
  const add = (party: PartyKey, amount: bigint) => {
    const key = partyKey(party);
    const position = net.get(key) ?? { party, amountMinor: 0n };
    position.amountMinor += amount;
    net.set(key, position);
  };
  for (const line of lines) {
    add(line.payee, line.amountMinor);
    add(line.payer, -line.amountMinor);
  }
  return [...net.values()].sort((a, b) => (partyKey(a.party) < partyKey(b.party) ? -1 : 1));
}

export interface Transfer {
  from: PartyKey;
  to: PartyKey;
  amountMinor: bigint;
}

/**
 * Payments that settle the positions: the largest payer pays the largest receiver as much as it
 * can, until all are even. Every payment evens at least one party, so there are at most
 * (parties with a non-zero position − 1); payers only pay and receivers only receive. Ties are
 * broken by party, so the same positions always give the same transfers.
 */
export function settleTransfers(positions: Position[]): Transfer[] {
  const byAmount = (a: { party: PartyKey; left: bigint }, b: { party: PartyKey; left: bigint }) =>
    a.left === b.left ? (partyKey(a.party) < partyKey(b.party) ? -1 : 1) : a.left > b.left ? -1 : 1;
  const payers = positions.filter((p) => p.amountMinor < 0n).map((p) => ({ party: p.party, left: -p.amountMinor }));
  const receivers = positions.filter((p) => p.amountMinor > 0n).map((p) => ({ party: p.party, left: p.amountMinor }));
  const transfers: Transfer[] = [];
  for (;;) {
    payers.sort(byAmount);
    receivers.sort(byAmount);
    const payer = payers[0];
    const receiver = receivers[0];
    if (!payer || !receiver || payer.left === 0n || receiver.left === 0n) break;
    const amount = payer.left < receiver.left ? payer.left : receiver.left;
    transfers.push({ from: payer.party, to: receiver.party, amountMinor: amount });
    payer.left -= amount;
    receiver.left -= amount;
  }
  return transfers;
}

/**
 * One party's statement as CSV: a header, one row per line it takes part in, then totals. A row's
 * amount is signed for the party — positive RECEIVABLE, negative PAYABLE — and its direction
 * follows that sign: a negative line (a clawback, a returned reward) is RECEIVABLE for its payer and
 * PAYABLE for its payee, its points then shown the way the money goes. A zero-amount row takes its
 * direction from the party's role in the line. RECEIVABLE + PAYABLE totals = NET = the party's position.
 */
export function statementCsv(party: PartyKey, partyName: (p: PartyKey) => string, lines: SettledLine[], run: { periodStart: Date; periodEnd: Date },
  formatMoney: (minor: bigint) => string, currency: string): string {
  const cell = (value: string) => (/[",\n\r]/.test(value) || /^[=+\-@\t]/.test(value) ? `"${value.replace(/"/g, '""').replace(/^([=+\-@\t])/, "'$1")}"` : value);
  const key = partyKey(party);
  const rows = [['period_start', 'period_end', 'kind', 'direction', 'counterparty_type', 'counterparty', 'points', `amount_${currency}`].join(',')];
  let receivable = 0n;
  let payable = 0n;
  for (const line of lines) {
    const receives = partyKey(line.payee) === key;
    const pays = partyKey(line.payer) === key;
    if (!receives && !pays) continue;
    const counterparty = receives ? line.payer : line.payee;
    const signed = receives ? line.amountMinor : -line.amountMinor;
    const receivableRow = signed > 0n || (signed === 0n && receives);
    // A row whose money goes against the line (a negative line) shows its points that way too.
    const points = signed !== 0n && receivableRow !== receives ? -line.points : line.points;
    if (receivableRow) receivable += signed;
    else payable += signed;
    rows.push([run.periodStart.toISOString(), run.periodEnd.toISOString(), line.kind, receivableRow ? 'RECEIVABLE' : 'PAYABLE', counterparty.type,
      cell(partyName(counterparty)), points.toString(), formatMoney(signed)].join(','));
  }
  rows.push(['', '', 'TOTAL', 'RECEIVABLE', '', '', '', formatMoney(receivable)].join(','));
  rows.push(['', '', 'TOTAL', 'PAYABLE', '', '', '', formatMoney(payable)].join(','));
  rows.push(['', '', 'TOTAL', 'NET', '', '', '', formatMoney(receivable + payable)].join(','));
  return rows.join('\r\n') + '\r\n';
}
