import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createLogger } from '../common/logger';
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';

/**
 * npm run migration:run — migrates DATABASE_URL, or the embedded PostgreSQL under DATA_DIR.
 * npm run migration:generate -- Name — writes migrations/<timestamp>-Name.ts with the SQL that
 * brings the migrated database to the entities (then list it in migrations/index.ts).
 */
async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const config = loadConfig();
  const database = await openDatabase(config, createLogger('info'));
  try {
    if (command === 'run') {
      console.log(`migrated ${database.description}`);
      return;
    }
    if (command !== 'generate' || !name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) throw new Error('usage: migrate run | migrate generate PascalCaseName');
    const sql = await database.dataSource.driver.createSchemaBuilder().log();
    if (!sql.upQueries.length) {
      console.log('the entities match the migrations: nothing to generate');
      return;
    }
    const stamp = Date.now();
    const quote = (q: string) => `    await q.query(${JSON.stringify(q)});`;
    const source = `import { MigrationInterface, QueryRunner } from 'typeorm';

export class ${name}${stamp} implements MigrationInterface {
  name = '${name}${stamp}';

  public async up(q: QueryRunner): Promise<void> {
${sql.upQueries.map((u) => quote(u.query)).join('\n')}
  }

  public async down(q: QueryRunner): Promise<void> {
${sql.downQueries.reverse().map((d) => quote(d.query)).join('\n')}
  }
}
`;
    const dir = resolve(__dirname, '../../../migrations');
    mkdirSync(dir, { recursive: true });
    const file = resolve(dir, `${stamp}-${name}.ts`);
    writeFileSync(file, source);
    console.log(`wrote ${file}: review it, then add it to migrations/index.ts`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
