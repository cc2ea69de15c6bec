// Runs @graphql-codegen in plain Node (its auto-bind dependency is ESM-only, which jest's module
// system cannot load). Input on stdin: { schema: SDL, documents: [{ location, source }] }.
// Output: the generated TypeScript on stdout; a document that does not validate: its error on stderr, exit 1.
import { codegen } from '@graphql-codegen/core';
import * as typedDocumentNode from '@graphql-codegen/typed-document-node';
import * as typescript from '@graphql-codegen/typescript';
import * as typescriptOperations from '@graphql-codegen/typescript-operations';
import { buildSchema, parse } from 'graphql';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { schema, documents } = JSON.parse(input);
try {
  const output = await codegen({
    schema: parse(schema),
    schemaAst: buildSchema(schema),
    documents: documents.map((d) => ({ location: d.location, document: parse(d.source) })),
    filename: 'readme-operations.generated.ts',
    config: {},
    plugins: [{ typescript: {} }, { typescriptOperations: {} }, { typedDocumentNode: {} }],
    pluginMap: { typescript, typescriptOperations, typedDocumentNode },
  });
  process.stdout.write(output);
} catch (error) {
  process.stderr.write(String(error?.message ?? error) + (error?.details ? `\n${error.details}` : '') + (error?.errors ? `\n${error.errors.map((e) => e.message ?? e).join('\n')}` : ''));
  process.exit(1);
}
