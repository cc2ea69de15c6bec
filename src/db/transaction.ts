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
 */
export async function preparedRows<T>(q: QueryRunner | DataSource, sql: string, params: unknown[]): Promise<T[]> {
  return (await preparedStatements<[T]>(q, [{ sql, params }]))[0];
}

/**
 * The rows of each of these named prepared statements, run one after the other on the query
 * runner's connection, in one write to the socket and one round trip, those the connection has not
 * prepared yet prepared on the way (a later one runs after the earlier has finished, with its own
 * snapshot; an error skips the rest). In a posting transaction (inPostingTransaction) the
 * transaction's BEGIN goes before them, and its COMMIT after them when asked (commitWithNextStatement).
 */
export async function preparedStatements<R extends unknown[]>(q: QueryRunner | DataSource, statements: { sql: string; params: unknown[] }[])
  : Promise<{ [K in keyof R]: R[K][] }> {
  type Out = { [K in keyof R]: R[K][] };
  const client: Pool | PoolClient | undefined = q instanceof DataSource
    ? (q.driver as unknown as { master?: Pool }).master
    : (q as unknown as { databaseConnection?: PoolClient }).databaseConnection;
  if (!client) return Promise.all(statements.map((s) => rows(q, s.sql, s.params))) as unknown as Out;
  const riders = q instanceof DataSource ? undefined : riding.get(q);
  const before = riders?.begin ? [BEGIN] : [];
  const after = riders?.commit ? [COMMIT] : [];
  const named = statements.map((s) => ({ name: statementName(s.sql), text: s.sql, values: s.params }));
  if (riders) riders.begun ||= riders.begin;
  if (riders) riders.begin = false;
  const connection = 'connection' in client ? (client as unknown as { connection: ProtocolConnection }).connection : undefined;
  let found: unknown[][];
  const all = [...before.map((s) => ({ ...s, values: [], rows: false })), ...named.map((s) => ({ ...s, rows: true })),
    ...after.map((s) => ({ ...s, values: [], rows: false }))];
  if (!connection) {
    found = [];
    for (const s of named) found.push((await client.query(s)).rows); // a pool: reads only
  } else if (all.length === 1 && !unsureOf(connection).has(all[0]!.name)) {
    found = [(await client.query(named[0]!)).rows];
  } else {
    const results = await new Promise<{ rows: unknown[] }[] | { rows: unknown[] }>((resolve, reject) => {
      (client as PoolClient).query(new PipelinedQuery(all, (error, answer) => (error ? reject(error) : resolve(answer as { rows: unknown[] }[]))) as never);
    });
    const list = Array.isArray(results) ? results : [results];
    found = named.map((_, i) => list[before.length + i]!.rows);
  }
  if (riders && after.length) {
    riders.commit = false;
    riders.committed = true;
  }
  return found as Out;
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
// query sends several prepared statements (and BEGIN, COMMIT: no rows, so no Describe) under one
// Sync, so the server answers all of them at once. They run in order and stop at the first error
// (the rest are skipped up to the Sync).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Query } = require('pg') as { Query: new (config: object) => object };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (value: unknown) => unknown };

interface ProtocolConnection {
  parse(config: object): void;
  close(config: object): void;
  bind(config: object): void;
  describe(config: object): void;
  execute(config: object): void;
  sync(): void;
  stream: { cork?: () => void; uncork?: () => void };
  /** node-postgres's own record of the statements prepared on this connection, by name. */
  parsedStatements: Record<string, string>;
}

/** Statements a failed pipeline sent Parse for: they may or may not exist on the server, so the next use closes them first. */
const unsure = new WeakMap<ProtocolConnection, Set<string>>();
function unsureOf(connection: ProtocolConnection): Set<string> {
  let set = unsure.get(connection);
  if (!set) unsure.set(connection, (set = new Set()));
  return set;
}

/**
 * Several named prepared statements in one write and one round trip: Parse for those this
 * connection has not prepared yet (node-postgres's record, which this query keeps up to date itself,
 * having no `name` of its own), Bind, Describe (for rows) and Execute for each, one Sync.
 */
class PipelinedQuery extends (Query as unknown as new (config: object) => { callback?: unknown; handleReadyForQuery(c: unknown): void; handleError(e: Error, c: unknown): void }) {
  private parsing: { name: string; text: string }[] = [];

  constructor(private readonly statements: { name: string; text: string; values: unknown[]; rows: boolean }[], callback: (error: Error | null, results?: unknown) => void) {
    super({ text: '', callback });
  }

  submit(connection: ProtocolConnection): Error | null {
    // Every value is encoded before anything is written: a value that cannot be (prepareValue throws)
    // fails the query here, nothing sent, instead of leaving Parse/Bind on the wire with no Sync and
    // the connection waiting forever for an answer (with the members' locks held). node-postgres
    // handles a returned error like any query error.
    let encoded: unknown[][];
    try {
      encoded = this.statements.map((s) => s.values.map((v) => prepareValue(v)));
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    const maybe = unsureOf(connection);
    connection.stream.cork?.();
    try {
      for (const [i, s] of this.statements.entries()) {
        if (connection.parsedStatements[s.name] !== s.text) {
          if (maybe.has(s.name)) connection.close({ type: 'S', name: s.name }); // closing what does not exist is no error
          connection.parse({ text: s.text, name: s.name });
          this.parsing.push(s);
        }
        connection.bind({ portal: '', statement: s.name, values: encoded[i] });
        if (s.rows) connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  handleReadyForQuery(connection: ProtocolConnection): void {
    for (const s of this.parsing) {
      connection.parsedStatements[s.name] = s.text;
      unsureOf(connection).delete(s.name);
    }
    super.handleReadyForQuery(connection);
  }

  handleError(error: Error, connection: ProtocolConnection): void {
    for (const s of this.parsing) unsureOf(connection).add(s.name);
    super.handleError(error, connection);
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
