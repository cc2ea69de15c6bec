import { SettlementModel, SettlementTerms, settlementPolicy } from './settlement-model.rules';

const A = { partnerId: 'a' };
const B = { partnerId: 'b' };
const OP = { partnerId: null };
const terms = (model: SettlementModel): SettlementTerms => ({
  model, redemptionValue: (id) => ({ a: '0.01', b: '0.008' })[id]!, issuancePrice: (id) => ({ a: '0.012', b: '0.009' })[id]!,
});
const { BILATERAL, CLEARING } = SettlementModel;

describe('who owes whom, per settlement model (docs/rules.md, Settlement models)', () => {
  it.each([
    ['issued by a partner', BILATERAL, (m: SettlementModel) => settlementPolicy(m).issued(terms(m), A), undefined],
    ['issued by a partner', CLEARING, (m: SettlementModel) => settlementPolicy(m).issued(terms(m), A), { kind: 'ISSUANCE', payer: A, payee: OP, rate: '0.012' }],
    ['issued by the operator', CLEARING, (m: SettlementModel) => settlementPolicy(m).issued(terms(m), OP), undefined],
    ["A's points redeemed at B", BILATERAL, (m: SettlementModel) => settlementPolicy(m).consumed(terms(m), 'REDEMPTION', A, B), { kind: 'REDEMPTION', payer: A, payee: B, rate: '0.008' }],
    ["A's points redeemed at B", CLEARING, (m: SettlementModel) => settlementPolicy(m).consumed(terms(m), 'REDEMPTION', A, B), { kind: 'REDEMPTION', payer: OP, payee: B, rate: '0.008' }],
    ["A's points redeemed at A", BILATERAL, (m: SettlementModel) => settlementPolicy(m).consumed(terms(m), 'REDEMPTION', A, A), undefined],
    ["A's points redeemed at A", CLEARING, (m: SettlementModel) => settlementPolicy(m).consumed(terms(m), 'REDEMPTION', A, A), { kind: 'REDEMPTION', payer: OP, payee: A, rate: '0.01' }],
    ["A's points claimed as B's reward", CLEARING, (m: SettlementModel) => settlementPolicy(m).consumed(terms(m), 'REWARD', A, B, '0.02'), { kind: 'REWARD', payer: OP, payee: B, rate: '0.02' }],
    ["A's points claimed as an operator reward", CLEARING, (m: SettlementModel) => settlementPolicy(m).consumed(terms(m), 'REWARD', A, OP, '0.02'), undefined],
    ["B's lot taken back by A's refund", BILATERAL, (m: SettlementModel) => settlementPolicy(m).takenBack(terms(m), B, A), { kind: 'DEBT_RECOVERY', payer: B, payee: A, rate: '0.01' }],
    ["B's lot taken back by A's refund", CLEARING, (m: SettlementModel) => settlementPolicy(m).takenBack(terms(m), B, A), undefined],
    ["B's lot repays debt owed to A", BILATERAL, (m: SettlementModel) => settlementPolicy(m).debtRepaid(terms(m), B, A), { kind: 'DEBT_RECOVERY', payer: B, payee: A, rate: '0.01' }],
    ["B's lot repays debt owed to A", CLEARING, (m: SettlementModel) => settlementPolicy(m).debtRepaid(terms(m), B, A), { kind: 'REDEMPTION', payer: OP, payee: A, rate: '0.01' }],
    ["B's lot repays debt owed to the operator", BILATERAL, (m: SettlementModel) => settlementPolicy(m).debtRepaid(terms(m), B, OP), { kind: 'DEBT_RECOVERY', payer: B, payee: OP, rate: '0.008' }],
    ["B's lot repays debt owed to the operator", CLEARING, (m: SettlementModel) => settlementPolicy(m).debtRepaid(terms(m), B, OP), undefined],
    ["A's refund leaves debt owed to", BILATERAL, (m: SettlementModel) => settlementPolicy(m).debtCreditor(A), A],
    ["A's refund leaves debt owed to", CLEARING, (m: SettlementModel) => settlementPolicy(m).debtCreditor(A), OP],
    ["A's points donated: the cause is paid by", BILATERAL, (m: SettlementModel) => settlementPolicy(m).donationPayer(A), A],
    ["A's points donated: the cause is paid by", CLEARING, (m: SettlementModel) => settlementPolicy(m).donationPayer(A), OP],
  ])('%s, %s', (_what, model, ask, expected) => {
    expect(ask(model)).toEqual(expected);
  });
});
