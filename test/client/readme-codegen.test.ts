import { Kind, OperationDefinitionNode, parse, print } from 'graphql';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';

/**
 * The README's GraphQL, checked by the toolchain partners use: every document in README.md (```graphql
 * blocks, and the `{"query":"…"}` bodies of its curl examples) goes through @graphql-codegen
 * (typescript + typescript-operations + typed-document-node) against schema/schema.graphql, which
 * validates each document against the schema and fails on any that does not fit.
 */
const root = resolve(__dirname, '../..');

/** The GraphQL documents in a Markdown text: fenced graphql blocks and JSON bodies with a "query". */
export function readmeDocuments(markdown: string): { location: string; source: string }[] {
  const found: { location: string; source: string }[] = [];
  const lineOf = (index: number) => markdown.slice(0, index).split('\n').length;
  for (const m of markdown.matchAll(/```graphql\n([\s\S]*?)```/g)) found.push({ location: `README.md:${lineOf(m.index!)}`, source: m[1]! });
  for (const m of markdown.matchAll(/'(\{"query":"(?:[^"\\]|\\.)*"[^']*\})'/g)) {
    found.push({ location: `README.md:${lineOf(m.index!)}`, source: (JSON.parse(m[1]!) as { query: string }).query });
  }
  return found;
}

/**
 * Codegen validates all documents as one, where anonymous operations clash; a partner's code names
 * them, so an anonymous README example is named after its line (`{ me … }` at line 191 → ReadmeLine191).
 */
export function named(doc: { location: string; source: string }): { location: string; source: string } {
  const parsed = parse(doc.source);
  const line = /:(\d+)$/.exec(doc.location)?.[1] ?? '0';
  let n = 0;
  const definitions = parsed.definitions.map((d) => (d.kind === Kind.OPERATION_DEFINITION && !d.name
    ? { ...d, name: { kind: Kind.NAME, value: `ReadmeLine${line}${n++ ? `_${n}` : ''}` } } as OperationDefinitionNode : d));
  return { location: doc.location, source: print({ ...parsed, definitions }) };
}

/** Runs codegen (codegen-runner.mjs, plain Node) on the documents; rejects when one does not parse or validate against the schema. */
export async function generateTypedOperations(schemaSdl: string, documents: { location: string; source: string }[]): Promise<string> {
  const run = spawnSync(process.execPath, [resolve(__dirname, 'codegen-runner.mjs')], {
    cwd: root, input: JSON.stringify({ schema: schemaSdl, documents }), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`codegen failed: ${run.stderr}`);
  return run.stdout;
}

const schemaSdl = readFileSync(resolve(root, 'schema/schema.graphql'), 'utf8');

it('every GraphQL example in README.md validates against schema/schema.graphql and gets a TypedDocumentNode', async () => {
  const documents = readmeDocuments(readFileSync(resolve(root, 'README.md'), 'utf8'));
  expect(documents.length).toBeGreaterThanOrEqual(6);
  const output = await generateTypedOperations(schemaSdl, documents.map(named));
  // One typed document per operation (a block may hold several).
  const operations = documents.reduce((n, d) => n + parse(d.source).definitions.filter((x) => x.kind === Kind.OPERATION_DEFINITION).length, 0);
  expect(output.match(/: DocumentNode<|as unknown as DocumentNode</g)?.length ?? 0).toBe(operations);
  // The member's `{ me { memberCode balance … } }` example, named after its line, is typed as the schema says.
  const me = documents.find((d) => /^\s*(query\s*)?\{\s*me\s*\{\s*memberCode\s+balance/.test(d.source));
  expect(me).toBeDefined();
  const name = `ReadmeLine${/:(\d+)$/.exec(me!.location)![1]}`;
  expect(output).toContain(`as unknown as DocumentNode<${name}Query, ${name}QueryVariables>`);
  expect(output).toMatch(new RegExp(`export type ${name}Query = \\{ me: \\{ memberCode: string, balance: number`));
  // The generated module is well-formed TypeScript.
  const diagnostics = ts.transpileModule(output, { reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.CommonJS } }).diagnostics ?? [];
  expect(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
}, 60_000);

it('a document that does not fit the schema fails codegen (recordPurchase without its input, a field that does not exist)', async () => {
  await expect(generateTypedOperations(schemaSdl, [{ location: 'bad-1', source: 'mutation { recordPurchase { transaction { id } } }' }])).rejects.toThrow(/input/);
  await expect(generateTypedOperations(schemaSdl, [{ location: 'bad-2', source: '{ coalition { nameX } }' }])).rejects.toThrow(/nameX/);
});

it('readmeDocuments finds fenced graphql blocks and curl JSON bodies', () => {
  const md = "```graphql\n{ a }\n```\n\n```sh\ngql $T '{\"query\":\"{ b(x: \\\"y\\\") }\"}'\n```\n";
  expect(readmeDocuments(md).map((d) => d.source.trim())).toEqual(['{ a }', '{ b(x: "y") }']);
});
