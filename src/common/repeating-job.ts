import type { Logger } from './logger';

/**
 * Runs `job` in this process every `intervalSeconds` (0: never), one run at a time (a run still going
 * when the timer fires again is not doubled), telling `count` each run's outcome (the metrics), and
 * logging failures; the next tick tries again. Every server instance runs its own timer: the jobs
 * given here are safe to run on several instances at once. Returns a function that stops the timer
 * and waits for the run in flight.
 */
export function startRepeatingJob(name: string, intervalSeconds: number, job: () => Promise<number>, log: Logger,
  count: (job: string, outcome: 'ok' | 'failed') => void): () => Promise<void> {
  if (intervalSeconds <= 0) return async () => undefined;
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = job()
      .then((n) => {
        count(name, 'ok');
        if (n) log.info(`${name} job`, { n });
      }, (error: unknown) => {
        count(name, 'failed');
        log.error(`${name} job failed; retrying next tick`, error);
      })
      .finally(() => { running = null; });
  }, intervalSeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    if (running) await running;
  };
}
