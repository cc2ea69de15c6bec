import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildAppSchema, printAppSchema } from '../api/schema';

/** npm run schema:emit writes schema/schema.graphql; npm run schema:check fails when it has drifted from the code. */
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
