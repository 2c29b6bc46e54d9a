import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

/**
 * A throwaway Postgres cluster for the graphile-worker peer: initdb in a temp dir, listening only
 * on a unix socket inside that dir (no TCP port to collide with), stopped and deleted afterwards.
 * initdb refuses to run as root, so as root the cluster belongs to the `postgres` user (or
 * `nobody`) and every server command runs through `runuser`.
 *
 * Durability, set to match Hermes' SQLite (WAL, synchronous=NORMAL: a commit is written to the WAL
 * but not fsynced; fsync happens at checkpoints; a crash loses no committed data unless the machine
 * itself loses power, in which case the last commits may roll back but the database stays
 * consistent): `fsync=on`, `full_page_writes=on`, `synchronous_commit=off` (a commit returns before
 * its WAL is flushed; the WAL writer flushes within 3 × wal_writer_delay = 600 ms; a crash never
 * corrupts, it may lose the last commits). That is the same promise in spirit, slightly weaker:
 * Postgres can also lose those commits when only its own server process crashes.
 */
export const POSTGRES_DURABILITY =
  "fsync=on, full_page_writes=on, synchronous_commit=off: a commit returns before its WAL is flushed " +
  "(the WAL writer flushes within 600 ms); never corrupt after a crash, the last commits may be lost — " +
  "also when only the Postgres server crashes, slightly weaker than SQLite's NORMAL";

export interface Cluster {
  /** A `pg` connection string over the unix socket, as the trusted superuser `postgres`. */
  connectionString: string;
  /** Summed user+system CPU (ms) of the postmaster and every child process, read from /proc. */
  cpuMs(): number;
  stop(): void;
}

/** The directory holding initdb/pg_ctl, or undefined when Postgres is not installed. */
function findBin(): string | undefined {
  const which = spawnSync("sh", ["-c", "command -v pg_ctl"], { encoding: "utf8" });
  const onPath = which.status === 0 ? which.stdout.trim() : "";
  if (onPath && existsSync(join(onPath, "..", "initdb"))) return join(onPath, "..");
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : undefined;
}

/** The user to run the server as: ourselves, or (as root) `postgres` if it exists, else `nobody`. */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    const r = spawnSync("id", ["-u", name], { encoding: "utf8" });
    const g = spawnSync("id", ["-g", name], { encoding: "utf8" });
    if (r.status === 0 && g.status === 0) return { name, uid: Number(r.stdout), gid: Number(g.stdout) };
  }
  return undefined;
}

/** Starts a cluster, or returns the reason it cannot (Postgres missing, initdb failing). */
export function startCluster(): Cluster | string {
  const bin = findBin();
  if (!bin) return "Postgres is not installed (no pg_ctl/initdb on PATH or in /usr/lib/postgresql/*/bin)";
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), "hermes-bench-pg-"));
  const data = join(dir, "data");
  const as = (cmd: string, args: string[]) =>
    user
      ? execFileSync("runuser", ["-u", user.name, "--", join(bin, cmd), ...args], { stdio: "pipe" })
      : execFileSync(join(bin, cmd), args, { stdio: "pipe" });
  try {
    chmodSync(dir, 0o700);
    if (user) chownSync(dir, user.uid, user.gid);
    as("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions"]);
    const opts = [
      "-c listen_addresses=''",
      `-c unix_socket_directories=${dir}`,
      "-c fsync=on -c full_page_writes=on -c synchronous_commit=off",
      "-c max_connections=50 -c shared_buffers=64MB",
    ].join(" ");
    as("pg_ctl", ["-D", data, "-o", opts, "-l", join(dir, "log"), "-w", "start"]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split("\n").at(-1);
    return `Postgres did not start (${stderr || String(error)})`;
  }
  const postmaster = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", stop).off("SIGINT", onSignal).off("SIGTERM", onSignal);
    try {
      as("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
    } catch {
      // Already gone: nothing to stop.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // An interrupted bench must not leave a server running: stop it, then die of the same signal.
  const onSignal = (signal: NodeJS.Signals) => {
    stop();
    process.kill(process.pid, signal);
  };
  process.once("exit", stop).once("SIGINT", onSignal).once("SIGTERM", onSignal);
  return {
    connectionString: `postgres://postgres@/postgres?host=${encodeURIComponent(dir)}`,
    cpuMs: () => treeCpuMs(postmaster),
    stop,
  };
}

const TICK_MS = 1000 / Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout || 100);

/** utime+stime of `root` and its direct children (the postmaster forks every backend itself). */
function treeCpuMs(root: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited between readdir and read
    }
    // Fields after the parenthesised command name: state ppid ... utime(14) stime(15).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pid = Number(entry);
    if (pid !== root && Number(fields[1]) !== root) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * TICK_MS;
}
