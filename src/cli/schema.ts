import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildAppSchema, printAppSchema } from '../api/schema';

/**
 * npm run schema:emit writes schema/schema.graphql; npm run schema:check fails on a breaking change
 * (graphql-inspector, against the committed schema, or the one at git ref SCHEMA_BASE_REF when set)
 * that CHANGELOG.md does not name, and when the committed schema has drifted from the code.
 */
async function main(): Promise<void> {
  const file = resolve(__dirname, '../../../schema/schema.graphql');
  const sdl = printAppSchema(await buildAppSchema());
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      // missing counts as drift
    }
    const base = process.env.SCHEMA_BASE_REF
      ? execFileSync('git', ['show', `${process.env.SCHEMA_BASE_REF}:schema/schema.graphql`], { cwd: resolve(__dirname, '../../..'), encoding: 'utf8' })
      : committed;
    if (base) {
      const { breakingChanges } = await import('./schema-compat.js');
      let changelog = '';
      try {
        changelog = readFileSync(resolve(__dirname, '../../../CHANGELOG.md'), 'utf8');
      } catch {
        // no changelog names nothing
      }
      const unnamed = (await breakingChanges(base, sdl, changelog)).filter((c) => !c.named);
      if (unnamed.length) {
        console.error(`breaking schema changes CHANGELOG.md does not name (add a line "- Breaking: \`<path>\` …" for each):\n${unnamed.map((c) => `  ${c.path}: ${c.message}`).join('\n')}`);
        process.exit(1);
      }
    }
    if (committed !== sdl) {
      console.error('schema/schema.graphql differs from the schema the code builds: run `npm run schema:emit` and commit it');
      process.exit(1);
    }
    console.log('schema/schema.graphql matches the code');
    return;
  }
  writeFileSync(file, sdl);
  console.log(`wrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
