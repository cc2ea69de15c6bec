import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';
import { Outcome } from '../api/errors';

/** Serialization failures and deadlocks are retried inside the service; clients never see them. */
const RETRYABLE = new Set(['40001', '40P01']);
export const MAX_TRANSACTION_ATTEMPTS = 6;

function sqlState(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { driverError?: { constraint?: string }; constraint?: string };
  return sqlState(error) === '23505' && (!constraint || (e?.driverError?.constraint ?? e?.constraint) === constraint);
}

/**
 * Runs `work` in one READ COMMITTED transaction. A failed outcome rolls back, so an expected
 * failure writes nothing; a thrown error rolls back and propagates, except serialization failures
 * and deadlocks (and the errors `retryOn` names), which are retried a bounded number of times.
 */
export async function inTransaction<T>(db: DataSource, work: (q: QueryRunner) => Promise<Outcome<T>>,
  retryOn: (error: unknown) => boolean = () => false): Promise<Outcome<T>> {
  for (let attempt = 1; ; attempt++) {
    const q = db.createQueryRunner();
    try {
      await q.connect();
      // PostgreSQL's default level, READ COMMITTED: naming it would cost TypeORM a second round trip.
      await q.startTransaction();
      const outcome = await work(q);
      if (outcome.ok) await q.commitTransaction();
      else await q.rollbackTransaction();
      return outcome;
    } catch (error) {
      if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
      const retryable = RETRYABLE.has(sqlState(error) ?? '') || retryOn(error);
      if (!retryable || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    } finally {
      await q.release();
    }
  }
}

/**
 * Rows of a query. On a query runner any statement (asked for as a structured result, since TypeORM
 * otherwise answers an UPDATE … RETURNING with [rows, count]); on the data source, reads only —
 * writes belong in a transaction (inTransaction) anyway.
 */
export async function rows<T>(q: QueryRunner | DataSource, sql: string, params: unknown[] = []): Promise<T[]> {
  if (q instanceof DataSource) return (await q.query(sql, params)) as T[];
  const riders = riding.get(q);
  if (riders?.begin) {
    riders.begin = false;
    riders.begun = true;
    await q.query('BEGIN');
  }
  const result = await q.query(sql, params, true);
  return result.records as T[];
}

const statementNames = new Map<string, string>();

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `s${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * Rows of a named prepared statement: PostgreSQL parses and plans it once a connection instead of
 * on every call, which is most of its work for the ledger's larger statements. For the hot paths.
 * In a posting transaction (inPostingTransaction) it also carries the transaction's BEGIN before
 * it, and COMMIT after it when asked (commitWithNextStatement): one write to the socket and one
 * round trip for the three, once this connection has prepared all three.
 */
export async function preparedRows<T>(q: QueryRunner | DataSource, sql: string, params: unknown[]): Promise<T[]> {
  const client: Pool | PoolClient | undefined = q instanceof DataSource
    ? (q.driver as unknown as { master?: Pool }).master
    : (q as unknown as { databaseConnection?: PoolClient }).databaseConnection;
  if (!client) return rows<T>(q, sql, params);
  const riders = q instanceof DataSource ? undefined : riding.get(q);
  if (!riders || (!riders.begin && !riders.commit)) {
    const result = await client.query({ name: statementName(sql), text: sql, values: params });
    return result.rows as T[];
  }
  const before = riders.begin ? [BEGIN] : [];
  const after = riders.commit ? [COMMIT] : [];
  riders.begin = false;
  riders.begun = true;
  const pooled = client as PoolClient;
  const name = statementName(sql);
  const parsed = (pooled as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements;
  let found: T[];
  if ([...before, ...after].every((s) => parsed[s.name] === s.text) && parsed[name] === sql) {
    const results = await new Promise<{ rows: T[] }[]>((resolve, reject) => {
      pooled.query(new PipelinedQuery(before.map((s) => s.name), name, params, after.map((s) => s.name),
        (error, answer) => (error ? reject(error) : resolve(answer as { rows: T[] }[]))) as never);
    });
    found = results[before.length]!.rows;
  } else {
    // The first time on this connection: one statement after the other, each prepared for the next time.
    for (const s of before) await pooled.query({ name: s.name, text: s.text });
    found = (await pooled.query({ name, text: sql, values: params })).rows as T[];
    for (const s of after) await pooled.query({ name: s.name, text: s.text });
  }
  if (after.length) {
    riders.commit = false;
    riders.committed = true;
  }
  return found;
}

const BEGIN = { name: 'tx_begin', text: 'BEGIN' };
const COMMIT = { name: 'tx_commit', text: 'COMMIT' };

/** What a posting transaction has still to send with its next statement, and what it has sent. */
interface Riders {
  begin: boolean;
  commit: boolean;
  begun: boolean;
  committed: boolean;
}
const riding = new WeakMap<QueryRunner, Riders>();

// node-postgres sends a prepared statement as Bind, Describe, Execute and Sync in one write; this
// query sends other prepared statements (BEGIN, COMMIT: no parameters, no rows) before and after it
// under the same Sync, so the server answers all of them at once. They run in order and stop at the
// first error (the rest are skipped up to the Sync). Only statements already prepared on the
// connection go this way (no Parse, whose ParseComplete node-postgres would count as the query's).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Query } = require('pg') as { Query: new (config: object) => object };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (value: unknown) => unknown };

interface ProtocolConnection {
  bind(config: object): void;
  describe(config: object): void;
  execute(config: object): void;
  sync(): void;
  stream: { cork?: () => void; uncork?: () => void };
}

class PipelinedQuery extends (Query as unknown as new (config: object) => { callback?: unknown }) {
  constructor(private readonly before: string[], private readonly statement: string, private readonly params: unknown[],
    private readonly after: string[], callback: (error: Error | null, results?: unknown) => void) {
    super({ text: '', callback });
  }

  submit(connection: ProtocolConnection): null {
    connection.stream.cork?.();
    try {
      for (const name of this.before) {
        connection.bind({ portal: '', statement: name, values: [] });
        connection.execute({ portal: '', rows: 0 });
      }
      connection.bind({ portal: '', statement: this.statement, values: this.params, valueMapper: prepareValue });
      connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '', rows: 0 });
      for (const name of this.after) {
        connection.bind({ portal: '', statement: name, values: [] });
        connection.execute({ portal: '', rows: 0 });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }
}

/**
 * Marks that the next prepared statement on this query runner commits its posting transaction
 * (inPostingTransaction) with it: for a posting's last statement, whose outcome is committed
 * whatever it holds. If no prepared statement follows, inPostingTransaction commits as usual.
 */
export function commitWithNextStatement(q: QueryRunner): void {
  const riders = riding.get(q);
  if (riders) riders.commit = true;
}

/**
 * inTransaction for postings, in fewer round trips: BEGIN goes with the first statement, and COMMIT
 * with the last when `work` asks for it (commitWithNextStatement; its outcome must then be ok).
 * Same isolation (READ COMMITTED), rollbacks and retries as inTransaction. `work` must not use
 * TypeORM's own transactions (repositories' save): TypeORM does not know this transaction is open.
 */
export async function inPostingTransaction<T>(db: DataSource, work: (q: QueryRunner) => Promise<Outcome<T>>,
  retryOn: (error: unknown) => boolean = () => false): Promise<Outcome<T>> {
  for (let attempt = 1; ; attempt++) {
    const q = db.createQueryRunner();
    const riders: Riders = { begin: true, commit: false, begun: false, committed: false };
    riding.set(q, riders);
    try {
      await q.connect();
      const outcome = await work(q);
      if (riders.committed && !outcome.ok) throw new Error('a posting transaction committed with its last statement must end ok');
      if (riders.begun && !riders.committed) await q.query(outcome.ok ? 'COMMIT' : 'ROLLBACK');
      return outcome;
    } catch (error) {
      if (riders.begun && !riders.committed) await q.query('ROLLBACK').catch(() => undefined);
      const retryable = RETRYABLE.has(sqlState(error) ?? '') || retryOn(error);
      if (!retryable || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    } finally {
      riding.delete(q);
      await q.release();
    }
  }
}
