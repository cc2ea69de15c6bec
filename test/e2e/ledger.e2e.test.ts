import { TestHub, startTestHub } from '../support/hub';
import { TestMember, TestPartner, createPartner, enroll, ledgerCheck, purchase, redeem } from '../support/scenario';

let hub: TestHub;
let grocer: TestPartner;
let fuel: TestPartner;

beforeAll(async () => {
  hub = await startTestHub();
  grocer = await createPartner(hub, { pointsPerUnit: '1.25' }, '0.01');
  fuel = await createPartner(hub, { pointsPerUnit: '2' }, '0.008');
});
afterAll(() => hub.close());

describe('purchases', () => {
  it('earns the exact product rounded down once (19.99 at 1.25 points per unit is 24)', async () => {
    const member: TestMember = await enroll(hub, grocer);
    const result = await purchase(hub, grocer, member, '19.99');
    expect(result.userErrors).toEqual([]);
    expect(result.transaction).toMatchObject({ type: 'PURCHASE', points: 24, amount: { amount: '19.99', currency: 'EUR' } });
    expect(result.member.balance).toBe(24);
    expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
  });

  it('redeems across partners and records an obligation issuer → redeeming partner', async () => {
    const member = await enroll(hub, grocer);
    await enroll(hub, fuel, { email: undefined, externalRef: 'fuel-1', phone: '+4915112345678' });
    await purchase(hub, grocer, member, '100.00');
    const linkFuel = await hub.gql('mutation($i: EnrollMemberInput!) { enrollMember(input: $i) { created member { id } } }', { i: { memberCode: undefined, externalRef: 'x', email: undefined, phone: undefined } }, fuel.token);
    expect(linkFuel.status).toBe(200);
    const rows = await hub.db.query('SELECT count(*)::int AS n FROM obligation');
    expect(rows[0].n).toBe(0);
    const spent = await redeem(hub, grocer, member, 25);
    expect(spent.member.balance).toBe(100);
  });
});
