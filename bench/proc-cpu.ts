import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks a second of /proc's CPU times (`getconf CLK_TCK` on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) a process has used, from /proc; with `withChildren`, also those of the
 * children it has reaped. 0 when the process is gone. The benches' CPU figures all come from here.
 */
export function cpuSeconds(pid: number, withChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return ((utime! + stime!) + (withChildren ? cutime! + cstime! : 0)) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0; // the process is gone
  }
}

/** PostgreSQL's CPU seconds: the postmaster with the children it reaped, plus every live child (backends, walwriter, …). */
export function postgresCpuSeconds(postmasterPid: number): number {
  let total = cpuSeconds(postmasterPid, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmasterPid) total += cpuSeconds(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return total;
}
