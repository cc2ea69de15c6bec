import { breakingChanges, namedBreakingPaths } from './schema-compat';

const before = `
type Query { partner(id: ID!): Partner, partners: [Partner!]! }
type Partner { id: ID!, name: String!, code: String! }
`;
// Removes Partner.code (breaking), makes partner's argument a String (breaking), adds Query.hello (safe).
const after = `
type Query { partner(id: String!): Partner, partners: [Partner!]!, hello: String }
type Partner { id: ID!, name: String! }
`;

describe('schema:check breaking changes', () => {
  it('removing Partner.code and retyping Query.partner(id) are breaking; adding Query.hello is not', async () => {
    const changes = await breakingChanges(before, after, '');
    expect(changes.map((c) => c.path).sort()).toEqual(['Partner.code', 'Query.partner.id']);
    expect(changes.every((c) => !c.named)).toBe(true);
  });

  it('a breaking change named on a "- Breaking" line of CHANGELOG.md passes; one not named, or only mentioned elsewhere, fails', async () => {
    const changelog = [
      '## Unreleased',
      '- Added `Partner.code` to the docs', // a mention that is not a "Breaking" line excuses nothing
      '- Breaking: `Partner.code` removed; use `Partner.name`.',
    ].join('\n');
    const changes = await breakingChanges(before, after, changelog);
    expect(changes.find((c) => c.path === 'Partner.code')!.named).toBe(true);
    expect(changes.find((c) => c.path === 'Query.partner.id')!.named).toBe(false);
    // Naming the field covers its arguments.
    const all = await breakingChanges(before, after, `${changelog}\n- Breaking: \`Query.partner\` takes a String id`);
    expect(all.every((c) => c.named)).toBe(true);
  });

  it('the same schema has no breaking change', async () => {
    expect(await breakingChanges(before, before, '')).toEqual([]);
  });

  it('namedBreakingPaths reads backticked paths from "- Breaking" lines only', () => {
    expect([...namedBreakingPaths('- breaking: `A.b` and `C`\n- Added `D.e`\n* Breaking `F.g`')]).toEqual(['A.b', 'C', 'F.g']);
  });
});
