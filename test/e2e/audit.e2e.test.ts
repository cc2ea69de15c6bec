import { Client } from 'pg';
import { Role } from '../../src/api/auth';
import type { RequestContext } from '../../src/api/context';
import { ErrorCode, fail, userError } from '../../src/api/errors';
import { inTransaction } from '../../src/db/transaction';
import { audit } from '../../src/modules/audit/audit.service';
import { GraphQLResponse, TestHub, startTestHub } from '../support/hub';
import { TestPartner, createPartner, enroll, ledgerCheck, unique } from '../support/scenario';

/**
 * The audit log (docs/rules.md, Operating the hub; docs/api.md, auditLog): every change of configuration or
 * access is recorded in its own transaction with who, what, when and the redacted input; the
 * operator reads all, a partner its own, newest first.
 */
let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());
afterEach(async () => {
  expect(await ledgerCheck(hub)).toEqual({ ok: true, violations: [] });
});

interface Entry {
  id: string;
  at: string;
  actor: { role: string; id: string | null };
  action: string;
  subjectType: string;
  subjectId: string | null;
  input: string;
}

const ENTRY_FIELDS = 'id at actor { role id } action subjectType subjectId input';
const AUDIT_LOG = `query($first: Int, $after: String, $action: String, $subjectId: ID) {
  auditLog(first: $first, after: $after, action: $action, subjectId: $subjectId) { edges { cursor node { ${ENTRY_FIELDS} } } pageInfo { hasNextPage endCursor } totalCount } }`;
const CONFIGURE = 'mutation($input: ConfigureCoalitionInput!) { configureCoalition(input: $input) { coalition { name } userErrors { code message field } } }';
const CREATE_PARTNER = 'mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code message field } } }';
const UPDATE_EARN_RULE = 'mutation($input: UpdateEarnRuleInput!) { updateEarnRule(input: $input) { partner { id } userErrors { code message field } } }';
const ISSUE = 'mutation($input: IssueTokenInput!) { issueToken(input: $input) { token userErrors { code message field } } }';

async function auditLog(token: string, args: { first?: number; after?: string; action?: string; subjectId?: string } = {}) {
  const res = await hub.gql(AUDIT_LOG, args, token);
  expect(res.errors).toBeUndefined();
  return res.data.auditLog as { edges: { cursor: string; node: Entry }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number };
}

/** Every entry the caller may read, newest first, page by page. */
async function allEntries(token: string, args: { action?: string; subjectId?: string } = {}, first = 100): Promise<Entry[]> {
  const out: Entry[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await auditLog(token, { ...args, first, after });
    out.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return out;
    after = page.pageInfo.endCursor!;
  }
}

async function auditRows(): Promise<number> {
  return (await hub.db.query('SELECT count(*)::int AS n FROM audit_log'))[0].n;
}

function ok(res: GraphQLResponse, field: string) {
  expect(res.errors).toBeUndefined();
  expect(res.data[field].userErrors).toEqual([]);
  return res.data[field];
}

const earnRule = { pointsPerUnit: '2', minSpend: '5.00' };

describe('auditLog', () => {
  let taken: TestPartner;
  beforeAll(async () => {
    taken = await createPartner(hub);
  });

  it('operator configures the coalition, creates a partner, updates its earn rule and issues a token: 4 entries newest first, actor ADMIN, token absent', async () => {
    const code = unique('p');
    ok(await hub.gql(CONFIGURE, { input: { name: 'Audited coalition', currency: 'EUR', donationValuePerPoint: '0.01' } }, hub.admin), 'configureCoalition');
    const partnerId = ok(await hub.gql(CREATE_PARTNER, { input: { code, name: 'Audited', redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' } } }, hub.admin), 'createPartner').partner.id;
    ok(await hub.gql(UPDATE_EARN_RULE, { input: { partnerId, earnRule } }, hub.admin), 'updateEarnRule');
    const { token } = ok(await hub.gql(ISSUE, { input: { role: 'PARTNER', subjectId: partnerId, ttlSeconds: 600 } }, hub.admin), 'issueToken');

    const log = await auditLog(hub.admin, { first: 4 });
    const entries = log.edges.map((e) => e.node);
    expect(entries.map((e) => [e.action, e.subjectType, e.subjectId])).toEqual([
      ['token.issued', 'PARTNER', partnerId],
      ['partner.earnRuleUpdated', 'PARTNER', partnerId],
      ['partner.created', 'PARTNER', partnerId],
      ['coalition.configured', 'COALITION', null],
    ]);
    for (const e of entries) expect(e.actor).toEqual({ role: 'ADMIN', id: null });
    const times = entries.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(Date.now() - times[0]!).toBeLessThan(60_000);
    expect(JSON.parse(entries[0]!.input)).toEqual({ role: 'PARTNER', subjectId: partnerId, ttlSeconds: 600 });
    expect(JSON.parse(entries[1]!.input)).toEqual({ partnerId, earnRule });
    expect(JSON.parse(entries[2]!.input)).toMatchObject({ code, name: 'Audited', redemptionValuePerPoint: '0.01', earnRule: { pointsPerUnit: '1' } });
    expect(JSON.parse(entries[3]!.input)).toEqual({ name: 'Audited coalition', currency: 'EUR', donationValuePerPoint: '0.01' });
    // The token signed is nowhere in the log, not even in the table.
    expect(JSON.stringify(await hub.db.query('SELECT * FROM audit_log'))).not.toContain(token);
    expect(JSON.stringify(await hub.db.query('SELECT * FROM audit_log'))).not.toContain(token.split('.')[2]);
  });

  it('an affiliate created is logged with its e-mail masked (ann.lee@example.org → a***@e***.org), never in clear', async () => {
    const res = await hub.gql('mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { affiliate { id } userErrors { code } } }',
      { input: { name: 'Ann', email: 'ann.lee@example.org' } }, hub.admin);
    const id = ok(res, 'createAffiliate').affiliate.id;
    const [entry] = await allEntries(hub.admin, { subjectId: id });
    expect(entry).toMatchObject({ action: 'affiliate.created', subjectType: 'AFFILIATE', subjectId: id });
    expect(JSON.parse(entry!.input)).toEqual({ name: 'Ann', email: 'a***@e***.org' });
    const stored = JSON.stringify(await hub.db.query('SELECT input FROM audit_log'));
    expect(stored).not.toContain('ann.lee');
    expect(stored).not.toContain('example.org');
  });

  it('partner A sees only its own entries (about itself, its terms, its tokens, what it did); never B\'s nor the coalition\'s', async () => {
    const a = await createPartner(hub);
    const b = await createPartner(hub);
    for (const p of [a, b]) ok(await hub.gql(UPDATE_EARN_RULE, { input: { partnerId: p.id, earnRule } }, hub.admin), 'updateEarnRule');
    ok(await hub.gql(ISSUE, { input: { role: 'PARTNER', subjectId: a.id } }, hub.admin), 'issueToken');
    ok(await hub.gql(ISSUE, { input: { role: 'PARTNER', subjectId: b.id } }, hub.admin), 'issueToken');
    // A re-enrolls a member with its own reference for it: the one identifier enrolling an existing
    // member may add (an e-mail or phone is never attached to an existing member).
    const email = `${unique('m')}@example.com`;
    const member = await enroll(hub, a, { email });
    await enroll(hub, a, { email, phone: '+49 170 5550123', externalRef: 'loyalty-card-4411' });

    const seen = await allEntries(a.token, {}, 2);
    expect(seen.map((e) => [e.action, e.subjectId])).toEqual([
      ['member.identifiersAdded', member.id],
      ['token.issued', a.id],
      ['partner.earnRuleUpdated', a.id],
      ['partner.created', a.id],
    ]);
    expect(seen[0]!.actor).toEqual({ role: 'PARTNER', id: a.id });
    const identifiers = JSON.parse(seen[0]!.input).identifiers;
    expect(identifiers).toEqual([{ kind: 'EXTERNAL_REF', value: '[redacted]' }]);
    expect((await auditLog(a.token)).totalCount).toBe(4);
    const forB = await allEntries(b.token);
    expect(forB.map((e) => e.action)).toEqual(['token.issued', 'partner.earnRuleUpdated', 'partner.created']);
    expect(forB.every((e) => e.subjectId === b.id)).toBe(true);
    // Filters do not widen a partner's view.
    expect(await allEntries(a.token, { subjectId: b.id })).toEqual([]);
    expect(await allEntries(a.token, { action: 'coalition.configured' })).toEqual([]);
    // The operator sees both partners' entries.
    const operator = await allEntries(hub.admin);
    expect(operator.filter((e) => e.subjectId === a.id || e.subjectId === b.id || e.subjectId === member.id)).toHaveLength(7);
  });

  const mutate = async (mutation: string, input: Record<string, unknown>, token = hub.admin) => {
    const res = await hub.gql(`mutation($input: ${mutation[0]!.toUpperCase()}${mutation.slice(1)}Input!) { ${mutation}(input: $input) { userErrors { code message } } }`, { input }, token);
    expect(res.errors).toBeUndefined();
    expect(res.data[mutation].userErrors).toEqual([]);
  };
  const newCause = async () => (await hub.gql('mutation { createCause(input: { name: "Audited cause" }) { cause { id } } }', {}, hub.admin)).data.createCause.cause.id as string;
  const latest = async (action: string) => (await auditLog(hub.admin, { action, first: 1 })).edges[0]?.node;

  it.each<[string, () => Promise<{ subjectId: string | null; actor?: { role: string; id: string | null }; input?: Record<string, unknown> }>]>([
    ['promotion.created', async () => {
      const p = await createPartner(hub);
      await mutate('createPromotion', { partnerId: p.id, name: 'Double', startsAt: '2026-01-01T00:00:00Z', endsAt: '2026-02-01T00:00:00Z', multiplier: '2' });
      const id = (await hub.db.query('SELECT id FROM promotion WHERE partner_id = $1', [p.id]))[0].id;
      return { subjectId: id, input: { partnerId: p.id, name: 'Double', startsAt: '2026-01-01T00:00:00.000Z', endsAt: '2026-02-01T00:00:00.000Z', multiplier: '2' } };
    }],
    ['bonusLimits.set', async () => {
      const p = await createPartner(hub);
      await mutate('setBonusLimits', { partnerId: p.id, limits: [{ action: 'REVIEW', maxCount: 1, periodDays: 1 }] });
      return { subjectId: p.id, input: { partnerId: p.id, limits: [{ action: 'REVIEW', maxCount: 1, periodDays: 1 }] } };
    }],
    ['partner.commissionPlanUpdated', async () => {
      const p = await createPartner(hub);
      await mutate('updateCommissionPlan', { partnerId: p.id, commissionPlan: { type: 'PERCENT_OF_SALE', rate: '0.05', holdDays: 0 } });
      return { subjectId: p.id };
    }],
    ['cause.created', async () => {
      const id = await newCause();
      return { subjectId: id, input: { name: 'Audited cause' } };
    }],
    ['cause.activeSet', async () => {
      const id = await newCause();
      await mutate('setCauseActive', { causeId: id, active: false });
      return { subjectId: id, input: { causeId: id, active: false } };
    }],
    ['campaign.created', async () => {
      const [p, cause] = [await createPartner(hub), await newCause()];
      await mutate('createMatchingCampaign', { partnerId: p.id, causeId: cause, ratio: '1', capPoints: 100, startsAt: '2026-01-01T00:00:00Z', endsAt: '2027-01-01T00:00:00Z' });
      return { subjectId: (await hub.db.query('SELECT id FROM matching_campaign WHERE partner_id = $1', [p.id]))[0].id };
    }],
    ['member.preferencesUpdated (by the member itself)', async () => {
      const m = await enroll(hub, await createPartner(hub));
      await mutate('updatePreferences', { preferences: [{ channel: 'EMAIL', level: 'NONE' }] }, m.token);
      return { subjectId: m.id, actor: { role: 'MEMBER', id: m.id }, input: { preferences: [{ channel: 'EMAIL', level: 'NONE' }] } };
    }],
    ['member.erased', async () => {
      const m = await enroll(hub, await createPartner(hub));
      await mutate('eraseMember', { memberId: m.id });
      return { subjectId: m.id, input: { memberId: m.id } };
    }],
    ['settlement.closed', async () => {
      const res = await hub.gql('mutation($input: CloseSettlementPeriodInput!) { closeSettlementPeriod(input: $input) { run { id } userErrors { code } } }',
        { input: { periodStart: '2020-01-01T00:00:00Z', periodEnd: '2020-01-02T00:00:00Z' } }, hub.admin);
      return { subjectId: ok(res, 'closeSettlementPeriod').run.id, input: { periodStart: '2020-01-01T00:00:00.000Z', periodEnd: '2020-01-02T00:00:00.000Z' } };
    }],
  ])('%s is recorded with its subject, actor and input', async (action, run) => {
    const expected = await run();
    const entry = await latest(action.split(' ')[0]!);
    expect(entry).toMatchObject({ action: action.split(' ')[0], subjectId: expected.subjectId, actor: expected.actor ?? { role: 'ADMIN', id: null } });
    if (expected.input) expect(JSON.parse(entry!.input)).toEqual(expected.input);
  });

  it.each<[string, Role]>([['an affiliate', Role.AFFILIATE], ['a member', Role.MEMBER]])('%s gets FORBIDDEN', async (_name, role) => {
    const partner = await createPartner(hub);
    const member = await enroll(hub, partner);
    const token = role === Role.MEMBER ? member.token : hub.token({ role: Role.AFFILIATE, affiliateId: member.id });
    const res = await hub.gql(AUDIT_LOG, {}, token);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(res.data).toBeNull();
  });

  it('without a token: UNAUTHENTICATED', async () => {
    const res = await hub.gql(AUDIT_LOG, {});
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it.each<[string, string, () => Record<string, unknown>, string]>([
    ['updateEarnRule of an unknown partner (NOT_FOUND)', UPDATE_EARN_RULE, () => ({ input: { partnerId: '01890000-0000-7000-8000-000000000000', earnRule } }), 'updateEarnRule'],
    ['createPartner with a code taken (INVALID_INPUT)', CREATE_PARTNER, () => ({ input: { code: taken.code, name: 'Again', redemptionValuePerPoint: '0.01', earnRule } }), 'createPartner'],
    ['issueToken for an unknown member (NOT_FOUND)', ISSUE, () => ({ input: { role: 'MEMBER', subjectId: '01890000-0000-7000-8000-000000000000' } }), 'issueToken'],
    ['setCauseActive of an unknown cause (NOT_FOUND)', 'mutation($input: SetCauseActiveInput!) { setCauseActive(input: $input) { userErrors { code } } }',
      () => ({ input: { causeId: '01890000-0000-7000-8000-000000000000', active: false } }), 'setCauseActive'],
  ])('a mutation that fails with a userError writes no entry: %s', async (_name, mutation, variables, field) => {
    const before = await auditRows();
    const res = await hub.gql(mutation, variables(), hub.admin);
    expect(res.errors).toBeUndefined();
    expect(res.data[field].userErrors).toHaveLength(1);
    expect(await auditRows()).toBe(before);
  });

  it('an entry written in a transaction that then fails (a userError or a throw) is rolled back with it', async () => {
    const ctx = { caller: { role: Role.ADMIN }, db: hub.db } as RequestContext;
    const before = await auditRows();
    const failed = await inTransaction(hub.db, async (q) => {
      await audit(ctx, q, { action: 'cause.created', subjectType: 'CAUSE', subjectId: 'x', input: {} });
      return fail(userError(ErrorCode.INVALID_INPUT, 'changed my mind'));
    });
    expect(failed.ok).toBe(false);
    await expect(inTransaction(hub.db, async (q) => {
      await audit(ctx, q, { action: 'cause.created', subjectType: 'CAUSE', subjectId: 'y', input: {} });
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await auditRows()).toBe(before);
  });

  it('the log is append-only: the database refuses UPDATE and DELETE', async () => {
    expect(await auditRows()).toBeGreaterThan(0);
    // A plain client: TypeORM would log the refusals it is expected to get.
    const client = new Client({ connectionString: hub.databaseUrl });
    await client.connect();
    try {
      await expect(client.query(`UPDATE audit_log SET action = 'x'`)).rejects.toThrow(/append-only/);
      await expect(client.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
  });

  it('pages of 2 walk the whole log newest first without gaps or repeats; action and subjectId filter; totalCount counts the filtered set', async () => {
    const p = await createPartner(hub);
    for (let i = 0; i < 3; i++) ok(await hub.gql(UPDATE_EARN_RULE, { input: { partnerId: p.id, earnRule: { pointsPerUnit: String(i + 1) } } }, hub.admin), 'updateEarnRule');
    const whole = await allEntries(hub.admin, {}, 100);
    const paged = await allEntries(hub.admin, {}, 2);
    expect(paged).toEqual(whole);
    expect(new Set(paged.map((e) => e.id)).size).toBe(paged.length);
    expect([...paged.map((e) => e.id)].sort().reverse()).toEqual(paged.map((e) => e.id));
    expect((await auditLog(hub.admin, { first: 1 })).totalCount).toBe(whole.length);

    const aboutP = await allEntries(hub.admin, { subjectId: p.id }, 2);
    expect(aboutP.map((e) => e.action)).toEqual(['partner.earnRuleUpdated', 'partner.earnRuleUpdated', 'partner.earnRuleUpdated', 'partner.created']);
    expect(aboutP.map((e) => JSON.parse(e.input).earnRule?.pointsPerUnit)).toEqual(['3', '2', '1', '1']);
    const first = await auditLog(hub.admin, { subjectId: p.id, action: 'partner.earnRuleUpdated', first: 2 });
    expect(first.edges).toHaveLength(2);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.totalCount).toBe(3);
    const rest = await auditLog(hub.admin, { subjectId: p.id, action: 'partner.earnRuleUpdated', first: 2, after: first.pageInfo.endCursor! });
    expect(rest.edges.map((e) => JSON.parse(e.node.input).earnRule.pointsPerUnit)).toEqual(['1']);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect((await allEntries(hub.admin, { action: 'partner.created' })).every((e) => e.action === 'partner.created')).toBe(true);
  });

  it('a cursor the hub did not make is BAD_USER_INPUT; first above 100 is refused', async () => {
    const bad = await hub.gql(AUDIT_LOG, { after: 'nonsense' }, hub.admin);
    expect(bad.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    const big = await hub.gql(AUDIT_LOG, { first: 101 }, hub.admin);
    expect(big.errors).toHaveLength(1);
  });
});
