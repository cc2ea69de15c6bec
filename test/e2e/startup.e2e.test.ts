import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Role, signToken } from '../../src/api/auth';
import { post } from '../support/hub';
import { RunningHub, spawnHub, stopHub } from '../support/spawn-hub';

/**
 * `npm start` as a user runs it, without DATABASE_URL: the embedded PostgreSQL under DATA_DIR is
 * created, migrated and served; a clean stop stops PostgreSQL; data survives a restart; a start
 * after kill -9 of the app recovers the cluster the dead app left running.
 */
const root = resolve(__dirname, '../..');
let dataDir: string;

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  dataDir = mkdtempSync(join(tmpdir(), 'coalition-hub-start-'));
}, 120_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

type Running = RunningHub;

function start(): Promise<Running> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'error' };
  delete env.DATABASE_URL;
  delete env.JWT_SECRET;
  // A first start runs initdb and every migration: seconds alone, far longer next to other suites on two cores.
  return spawnHub(root, env, 90_000);
}

const stop = (running: Running, signal: NodeJS.Signals) => stopHub(running, signal);

function postmasterPid(): number | undefined {
  const file = join(dataDir, 'pg', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('starts, keeps data across a clean stop, and recovers after kill -9', async () => {
  const first = await start();
  expect(first.output()).toContain('npm run token -- --role ADMIN');
  const admin = signToken(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim(), { role: Role.ADMIN }, 600);
  const created = await post(first.url, { query: 'mutation { createPartner(input: { code: "kept", name: "Kept", redemptionValuePerPoint: "0.01", earnRule: { pointsPerUnit: "1" } }) { partner { id } } }' }, admin);
  expect(created.data.createPartner.partner.id).toBeDefined();
  const health = await fetch(first.url.replace('/graphql', '/healthz'));
  expect(health.status).toBe(200);

  const postgres = postmasterPid()!;
  expect(await stop(first, 'SIGTERM')).toBe(0);
  expect(alive(postgres)).toBe(false); // a clean stop stops PostgreSQL too

  const second = await start();
  const listed = await post(second.url, { query: '{ partners { edges { node { code } } } }' }, admin);
  expect(listed.data.partners.edges).toEqual([{ node: { code: 'kept' } }]);
  const orphan = postmasterPid()!;
  await stop(second, 'SIGKILL'); // the app dies; its PostgreSQL child lives on, holding the data directory
  expect(alive(orphan)).toBe(true);

  const third = await start();
  expect(alive(orphan)).toBe(false);
  const after = await post(third.url, { query: '{ partners { totalCount } }' }, admin);
  expect(after.data.partners.totalCount).toBe(1);
  expect(await stop(third, 'SIGINT')).toBe(0);
}, 300_000);
