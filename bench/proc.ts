import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc's CPU times (sysconf(_SC_CLK_TCK); 100 on Linux almost everywhere). */
const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/**
 * CPU time (user + system, every thread) a process has used so far, in ms, from /proc/<pid>/stat;
 * null where /proc is not readable (not Linux, or the process is gone). Resolution: one clock tick
 * (10 ms), so a figure per request needs hundreds of requests.
 */
export function cpuMs(pid: number | null | undefined): number | null {
  if (!pid) return null
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return ((utime + stime) * 1000) / ticksPerSecond
  } catch {
    return null
  }
}

/** CPU used by each named process while `run` runs, in ms (null where unreadable). */
export async function cpuDuring<K extends string, T>(pids: Record<K, number | null | undefined>, run: () => Promise<T>): Promise<{ result: T; cpu: Record<K, number | null> }> {
  const names = Object.keys(pids) as K[]
  const before = names.map((name) => cpuMs(pids[name]))
  const result = await run()
  const cpu = {} as Record<K, number | null>
  names.forEach((name, i) => {
    const after = cpuMs(pids[name])
    cpu[name] = after === null || before[i] === null ? null : after - before[i]!
  })
  return { result, cpu }
}
