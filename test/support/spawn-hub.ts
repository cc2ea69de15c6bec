import { ChildProcess, spawn } from 'node:child_process';

/** A hub started as `npm start` runs it (`node dist/src/main.js`), with its output so far. */
export interface RunningHub {
  app: ChildProcess;
  url: string;
  output: () => string;
}

/**
 * Starts `dist/src/main.js` in `cwd` with `env` and resolves once it prints the GraphQL URL.
 * Rejects if it exits first (the error carries `code` and `output`) or takes over `timeoutMs`.
 */
export function spawnHub(cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunningHub> {
  const app = spawn(process.execPath, ['dist/src/main.js'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within ${timeoutMs / 1000} s:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serving GraphQL on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveStart({ app, url: match[1]!, output: () => output });
      }
    };
    app.stdout!.on('data', onData);
    app.stderr!.on('data', onData);
    app.once('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`exited with ${code}:\n${output}`), { code, output }));
    });
  });
}

/** Sends `signal` and resolves with the exit code. */
export function stopHub(running: RunningHub, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  return new Promise((resolveStop) => {
    running.app.removeAllListeners('exit');
    running.app.once('exit', (code) => resolveStop(code));
    running.app.kill(signal);
  });
}
