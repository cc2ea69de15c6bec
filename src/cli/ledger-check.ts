import 'reflect-metadata';
import { createLogger } from '../common/logger';
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { checkLedger } from '../modules/ledger/ledger-query.service';

/** npm run ledger:check — the ledger check from the command line; exits 1 on any violation. */
async function main(): Promise<void> {
  const database = await openDatabase(loadConfig(), createLogger('error'));
  try {
    const violations = await checkLedger({ db: database.dataSource });
    for (const v of violations) console.log(`violation: ${v}`);
    console.log(violations.length ? `ledger check: ${violations.length} violation(s)` : 'ledger check: clean');
    process.exitCode = violations.length ? 1 : 0;
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
