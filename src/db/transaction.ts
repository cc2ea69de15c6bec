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
 */
export async function preparedRows<T>(q: QueryRunner | DataSource, sql: string, params: unknown[]): Promise<T[]> {
  const client: Pool | PoolClient | undefined = q instanceof DataSource
    ? (q.driver as unknown as { master?: Pool }).master
    : (q as unknown as { databaseConnection?: PoolClient }).databaseConnection;
  if (!client) return rows<T>(q, sql, params);
  const result = await client.query({ name: statementName(sql), text: sql, values: params });
  return result.rows as T[];
}
