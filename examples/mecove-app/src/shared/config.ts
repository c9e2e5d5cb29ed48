// Configuration from process.env only. The deploy playbook renders .env
// (mode 0600) and PM2 / `node --env-file` loads it; the app never reads files
// for configuration.
import { readFileSync } from "node:fs";
import path from "node:path";
import { type Level, parseLevel } from "./log";

export const DEFAULT_PUPPETEER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, key: string, fallback?: string): string {
  const raw = env[key];
  const v = raw === undefined ? undefined : raw.trim();
  if (v === undefined || v === "") {
    if (fallback === undefined) throw new ConfigError(`${key} is required`);
    return fallback;
  }
  return v;
}

function int(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${key} must be an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${key} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function url(env: Env, key: string, protocols: string[], fallback?: string): string {
  const v = str(env, key, fallback);
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new ConfigError(`${key} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${key} must use ${protocols.join(" or ")} (got ${parsed.protocol})`);
  }
  return v;
}

/** Splits a space-separated argument list ("--a --b=c") into an array. */
export function splitArgs(value: string | undefined): string[] {
  return (value ?? "").split(/\s+/).filter((a) => a.length > 0);
}

/** Keeps the first occurrence of every argument, in order. */
export function uniqueArgs(args: string[]): string[] {
  return [...new Set(args)];
}

let cachedDefaultRelease: string | undefined;
/**
 * The release id when APP_RELEASE is not set: the RELEASE file the deploy writes at the root of
 * each release (`<time>-<commit>`), else the version of package.json, else 0.0.0.
 */
export function defaultRelease(): string {
  if (cachedDefaultRelease === undefined) {
    // dist/shared/config.js -> ../../ is the release (or checkout) root.
    const root = path.join(__dirname, "..", "..");
    cachedDefaultRelease = readRelease(root) ?? readPackageVersion(root) ?? "0.0.0";
  }
  return cachedDefaultRelease;
}

function readRelease(root: string): string | undefined {
  try {
    const id = readFileSync(path.join(root, "RELEASE"), "utf8").trim();
    return /^[A-Za-z0-9._-]{1,100}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

function readPackageVersion(root: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export interface CommonConfig {
  databaseUrl: string;
  redisUrl: string;
  queueName: string;
  release: string;
  logLevel: Level;
  nodeEnv: string;
}

export interface ApiConfig extends CommonConfig {
  host: string;
  port: number;
  healthTimeoutMs: number;
  startupTimeoutMs: number;
  shutdownTimeoutMs: number;
  maxBodyBytes: number;
  jobAttempts: number;
}

export interface WorkerConfig extends CommonConfig {
  reportsDir: string;
  chromiumPath: string;
  chromiumArgs: string[];
  concurrency: number;
  drainTimeoutMs: number;
  renderTimeoutMs: number;
}

function common(env: Env): CommonConfig {
  return {
    databaseUrl: url(env, "DATABASE_URL", ["postgres:", "postgresql:"]),
    redisUrl: url(env, "REDIS_URL", ["redis:", "rediss:"], "redis://127.0.0.1:6379"),
    queueName: str(env, "REPORT_QUEUE", "reports"),
    release: str(env, "APP_RELEASE", defaultRelease()),
    logLevel: parseLevel(env.LOG_LEVEL),
    nodeEnv: str(env, "NODE_ENV", "development"),
  };
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  return {
    ...common(env),
    host: str(env, "HOST", "127.0.0.1"),
    port: int(env, "PORT", 3000, 0, 65535),
    healthTimeoutMs: int(env, "HEALTH_TIMEOUT_MS", 2000, 50, 60_000),
    startupTimeoutMs: int(env, "STARTUP_TIMEOUT_MS", 15_000, 0, 600_000),
    shutdownTimeoutMs: int(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
    maxBodyBytes: int(env, "MAX_BODY_BYTES", 1024 * 1024, 1024, 50 * 1024 * 1024),
    jobAttempts: int(env, "REPORT_JOB_ATTEMPTS", 3, 1, 20),
  };
}

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const baseArgs = env.PUPPETEER_ARGS !== undefined ? splitArgs(env.PUPPETEER_ARGS) : DEFAULT_PUPPETEER_ARGS;
  return {
    ...common(env),
    reportsDir: path.resolve(str(env, "REPORTS_DIR", "/home/mecove/app/shared/reports")),
    chromiumPath: str(env, "PUPPETEER_EXECUTABLE_PATH", "/usr/bin/chromium"),
    chromiumArgs: uniqueArgs([...baseArgs, ...splitArgs(env.PUPPETEER_EXTRA_ARGS)]),
    concurrency: int(env, "WORKER_CONCURRENCY", 1, 1, 16),
    drainTimeoutMs: int(env, "WORKER_DRAIN_TIMEOUT_MS", 30_000, 0, 600_000),
    renderTimeoutMs: int(env, "RENDER_TIMEOUT_MS", 60_000, 1000, 600_000),
  };
}
