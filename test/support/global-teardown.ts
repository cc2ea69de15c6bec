import assert from 'node:assert/strict';

/** Stops the embedded PostgreSQL that global-setup started (none when DATABASE_URL is set). */
export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __embeddedPostgres?: { stop(): Promise<void> } }).__embeddedPostgres;
  if (process.env.DATABASE_URL) return;
  assert.ok(server, 'global-setup started no embedded PostgreSQL to stop');
  await server.stop();
}
