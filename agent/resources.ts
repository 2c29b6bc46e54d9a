/**
 * How busy this machine is (CPU, memory, load, disk), and the guard that refuses new work above the
 * configured limits. Both are ports, so tests swap in fixed numbers.
 *
 * CPU percent is measured between two samples of os.cpus() (the first reading is the average since
 * boot). Memory on macOS: os.freemem() counts only *free* pages, and macOS keeps few of those on
 * purpose (inactive and purgeable pages are reclaimable), so there `vm_stat` is read instead;
 * on Linux os.freemem() already is MemAvailable.
 */
import { execFile } from "node:child_process";
import { statfs } from "node:fs/promises";
import { cpus, freemem, homedir, loadavg, platform, totalmem } from "node:os";

export interface ResourceSnapshot {
  cpu_percent: number;
  memory_percent: number;
  load_avg: number[];
  disk_free_bytes: number;
  disk_percent: number;
}

export interface ResourceProbe {
  snapshot(): Promise<ResourceSnapshot>;
}

export interface ResourceLimits {
  maxCpuPercent: number;
  maxMemoryPercent: number;
}

export type GuardVerdict = { ok: true } | { ok: false; reason: string; retryAfter: number };

export interface ResourceGuard {
  check(): Promise<GuardVerdict>;
}

/** Seconds to wait before trying again when the machine is above its limits. */
const OVERLOAD_RETRY_AFTER_S = 30;
/** Two CPU samples closer than this reuse the last reading (a burst of requests measures nothing). */
const MIN_CPU_SAMPLE_MS = 500;
const VM_STAT_TIMEOUT_MS = 1_000;

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const clampPercent = (n: number): number => round1(Math.min(100, Math.max(0, n)));

export class SystemResources implements ResourceProbe {
  readonly #diskPath: string;
  #last: CpuTimes & { at: number };
  #lastPercent: number;

  /** `diskPath`: where disk space matters (Ollama's models live under the home directory). */
  constructor(diskPath: string = homedir()) {
    this.#diskPath = diskPath;
    const first = cpuTimes();
    this.#last = { ...first, at: performance.now() };
    this.#lastPercent = first.total > 0 ? clampPercent(100 * (1 - first.idle / first.total)) : 0;
  }

  cpuPercent(): number {
    const now = performance.now();
    if (now - this.#last.at < MIN_CPU_SAMPLE_MS) return this.#lastPercent;
    const cur = cpuTimes();
    const total = cur.total - this.#last.total;
    const idle = cur.idle - this.#last.idle;
    if (total > 0) this.#lastPercent = clampPercent(100 * (1 - idle / total));
    this.#last = { ...cur, at: now };
    return this.#lastPercent;
  }

  async memoryPercent(): Promise<number> {
    const total = totalmem();
    if (total <= 0) return 0;
    const available = (platform() === "darwin" ? await darwinAvailableMemory() : undefined) ?? freemem();
    return clampPercent(100 * (1 - available / total));
  }

  async disk(): Promise<{ free: number; percent: number }> {
    try {
      const s = await statfs(this.#diskPath);
      const free = Number(s.bavail) * Number(s.bsize);
      const size = Number(s.blocks) * Number(s.bsize);
      return { free, percent: size > 0 ? clampPercent(100 * (1 - free / size)) : 0 };
    } catch {
      return { free: 0, percent: 0 };
    }
  }

  async snapshot(): Promise<ResourceSnapshot> {
    const [memory, disk] = await Promise.all([this.memoryPercent(), this.disk()]);
    return {
      cpu_percent: this.cpuPercent(),
      memory_percent: memory,
      load_avg: loadavg().map(round1),
      disk_free_bytes: disk.free,
      disk_percent: disk.percent,
    };
  }
}

/** macOS: memory not in use by apps, wired or compressed, from `vm_stat`; undefined if unreadable. */
function darwinAvailableMemory(): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile("vm_stat", { timeout: VM_STAT_TIMEOUT_MS }, (err, stdout) => {
      if (err) return resolve(undefined);
      resolve(parseVmStat(stdout, totalmem()));
    });
  });
}

/**
 * Available bytes from `vm_stat` output. Like Activity Monitor's "Memory Used" (app memory + wired +
 * compressed), so file cache and purgeable pages count as available; older output without
 * "Anonymous pages" falls back to free + inactive + speculative pages.
 */
export function parseVmStat(text: string, totalBytes: number): number | undefined {
  const pageSize = Number(/page size of (\d+) bytes/.exec(text)?.[1] ?? Number.NaN);
  if (!Number.isFinite(pageSize) || pageSize <= 0) return undefined;
  const pages = (label: string): number | undefined => {
    const m = new RegExp(`^${label}:\\s+(\\d+)`, "m").exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const anonymous = pages("Anonymous pages");
  if (anonymous !== undefined) {
    const used =
      anonymous -
      (pages("Pages purgeable") ?? 0) +
      (pages("Pages wired down") ?? 0) +
      (pages("Pages occupied by compressor") ?? 0);
    return Math.max(0, totalBytes - used * pageSize);
  }
  const free =
    (pages("Pages free") ?? 0) + (pages("Pages inactive") ?? 0) + (pages("Pages speculative") ?? 0);
  return free > 0 ? free * pageSize : undefined;
}

/** Refuses new work while CPU or memory is above its limit. */
export function createResourceGuard(probe: ResourceProbe, limits: ResourceLimits): ResourceGuard {
  return {
    async check() {
      const s = await probe.snapshot();
      if (s.memory_percent > limits.maxMemoryPercent) {
        return {
          ok: false,
          reason: `memory use ${s.memory_percent}% is above the limit of ${limits.maxMemoryPercent}%`,
          retryAfter: OVERLOAD_RETRY_AFTER_S,
        };
      }
      if (s.cpu_percent > limits.maxCpuPercent) {
        return {
          ok: false,
          reason: `CPU use ${s.cpu_percent}% is above the limit of ${limits.maxCpuPercent}%`,
          retryAfter: OVERLOAD_RETRY_AFTER_S,
        };
      }
      return { ok: true };
    },
  };
}
