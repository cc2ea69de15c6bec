import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';

/**
 * One real PostgreSQL for the whole run: DATABASE_URL's server when set, otherwise an embedded one
 * in a temporary directory. Each test file then creates its own database on it (test/support/hub.ts).
 */
export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  if (process.env.DATABASE_URL) {
    process.env.TEST_DATABASE_SERVER_URL = process.env.DATABASE_URL;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'coalition-hub-test-'));
  const server = await startEmbeddedPostgres({
    dir,
    log: (line) => console.error(`postgres: ${line}`),
    // Real PostgreSQL, tuned for throwaway test data: no waiting on the disk at commit.
    settings: { max_connections: 400, fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
  });
  assert.match(server.url, /^postgres:\/\//);
  process.env.TEST_DATABASE_SERVER_URL = server.url;
  (globalThis as { __embeddedPostgres?: { stop(): Promise<void> } }).__embeddedPostgres = server;
}
