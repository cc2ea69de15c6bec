import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDataSource } from '../ormconfig';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { uuidv7 } from '../src/common/ids';
import { inTransaction } from '../src/db/transaction';
import { ok } from '../src/api/errors';
import { NewEvent, recordEvents } from '../src/modules/webhook/webhook.store';
import { postgresCpuSeconds } from './proc-cpu';
import { ReceiverCounts, forkReceivers } from './webhook-receivers';
import { closeWebhookConnections, deliverDue, fanOut, runWebhookTick } from '../src/modules/webhook/webhook.worker';

/**
 * `node dist/bench/webhook-cost.js` — what one webhook delivery costs, apart from any posting: N
 * `transaction.posted`-like events (written as postings write them, 100 to a transaction) fanned out
 * to three endpoints on loopback receivers (a child process) and delivered by the worker's own tick.
 * Prints, per delivery: the worker's CPU (this process, `process.cpuUsage`), PostgreSQL's CPU (from
 * /proc), WAL bytes, and the receivers' CPU (their process's own count). CPU time, so it holds on a
 * loaded machine where throughput does not. Not part of the tests; the bench's phase (f) measures
 * the same work under load.
 */
const N = Number(process.env.WEBHOOK_COST_N ?? 3000);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'coalition-hub-webhook-cost-'));
  const pg = await startEmbeddedPostgres({ dir });
  const receivers = await forkReceivers();
  const { ports, ask } = receivers;
  const db = createDataSource(pg.url, 8);
  const client = new Client({ connectionString: pg.url });
  client.on('error', () => undefined); // the server stops at the end
  try {
    await db.initialize();
    await db.runMigrations();
    await client.connect();
    const dataDir = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
    const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const partnerId = uuidv7();
    for (const port of ports) {
      await client.query(`INSERT INTO webhook_endpoint (id, owner_type, owner_id, url, event_types, secret, created_at)
        VALUES ($1, 'OPERATOR', NULL, $2, ARRAY['transaction.posted'], $3, now())`, [uuidv7(), `http://127.0.0.1:${port}/hooks`, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']);
    }
    /** Writes `count` events, then delivers them all and measures that (not the writes). */
    const round = async (count: number) => {
      for (let done = 0; done < count; done += 100) {
        const now = new Date();
        const events: NewEvent[] = Array.from({ length: Math.min(100, count - done) }, () => ({
          memberId: uuidv7(), type: 'transaction.posted', occurredAt: now, partnerIds: [partnerId], affiliateIds: [],
          data: { transaction: { id: uuidv7(), type: 'PURCHASE', points: 12, amount: '12.34', currency: 'EUR', partnerId, occurredAt: now.toISOString(), postedAt: now.toISOString() } },
          views: { [`partner:${partnerId}`]: { transaction: { id: uuidv7(), type: 'PURCHASE', points: 12 } } },
        }));
        await inTransaction(db, async (q) => ok(await recordEvents(q, events)));
      }
      const before = await ask<{ count: number; cpuMicros: number }>('count');
      const expected = before.count + count * ports.length;
      const lsn = (await client.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l;
      const cpu = process.cpuUsage();
      const pgBefore = postgresCpuSeconds(postmaster);
      const started = performance.now();
      let split = '';
      if (process.env.WEBHOOK_COST_SPLIT) {
        while ((await fanOut(db, { allowPrivate: true, log: console as never })).taken > 0);
        const c1 = process.cpuUsage(cpu);
        const p1 = postgresCpuSeconds(postmaster) - pgBefore;
        split = `fan-out: worker ${((c1.user + c1.system) / (count * 3)).toFixed(0)} µs, PostgreSQL ${(p1 * 1e6 / (count * 3)).toFixed(0)} µs a delivery; `;
        while (await deliverDue(db, { allowPrivate: true, log: console as never }) > 0);
      }
      for (let got = 0; (got = (await ask<ReceiverCounts>('count')).count) < expected;) {
        if (performance.now() - started > 120_000) throw new Error(`webhook-cost: ${got - before.count} of ${count * ports.length} deliveries received in 120 s`);
        await runWebhookTick(db, { allowPrivate: true, log: console as never });
      }
      if (split) console.log(split);
      const receiversMicros = (await ask<{ cpuMicros: number }>('count')).cpuMicros - before.cpuMicros;
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      const pgUsed = postgresCpuSeconds(postmaster) - pgBefore;
      const wal = Number((await client.query<{ d: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::bigint AS d', [lsn])).rows[0]!.d);
      const deliveries = count * ports.length;
      return { deliveries, seconds, worker: ((used.user + used.system) / deliveries), postgres: (pgUsed * 1e6) / deliveries, wal: wal / deliveries, receivers: receiversMicros / deliveries };
    };
    /**
     * `count` events in rounds of WEBHOOK_COST_BATCH (default: all at once), each written and then
     * delivered; the measures of the deliveries summed. Rounds of ~100 are what the bench's (f) fans
     * out at a time; all at once is a backlog (a worker's first tick after an outage).
     */
    const rounds = async (count: number) => {
      const batch = Math.max(1, Math.floor(Number(process.env.WEBHOOK_COST_BATCH ?? count)) || count);
      const sum = { deliveries: 0, seconds: 0, worker: 0, postgres: 0, wal: 0, receivers: 0 };
      for (let done = 0; done < count; done += batch) {
        const r = await round(Math.min(batch, count - done));
        sum.deliveries += r.deliveries;
        sum.seconds += r.seconds;
        for (const k of ['worker', 'postgres', 'wal', 'receivers'] as const) sum[k] += r[k] * r.deliveries;
      }
      for (const k of ['worker', 'postgres', 'wal', 'receivers'] as const) sum[k] /= sum.deliveries;
      return sum;
    };
    await rounds(300); // warm-up: connections, plans, agents
    const r = await rounds(N);
    console.log(`webhook delivery cost: ${r.deliveries} deliveries (${N} events × 3 endpoints${process.env.WEBHOOK_COST_BATCH ? `, in rounds of ${process.env.WEBHOOK_COST_BATCH}` : ''}) in ${r.seconds.toFixed(1)} s = ${(r.deliveries / r.seconds).toFixed(0)}/s; `
      + `per delivery: worker CPU ${r.worker.toFixed(0)} µs, PostgreSQL CPU ${r.postgres.toFixed(0)} µs, WAL ${r.wal.toFixed(0)} B; the receivers' CPU ${r.receivers.toFixed(0)} µs`);
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  } finally {
    await client.end().catch(() => undefined);
    await closeWebhookConnections();
    if (db.isInitialized) await db.destroy();
    receivers.stop();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
