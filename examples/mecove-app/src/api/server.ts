// HTTP API of the meCove sample app.
//
//   GET  /health        200 {status:"ok", db:"ok", redis:"ok", version} | 503
//   POST /reports       {title, lines[]} -> 202 {id}; row queued + BullMQ job
//   GET  /reports/:id   the report row (status queued|done|failed)
//
// Runs under PM2 (cluster or fork mode): opens its database and Redis connections,
// then listens and sends process.send("ready") (wait_ready); shuts down gracefully on
// SIGINT/SIGTERM.
import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { sleep, withTimeout } from "../shared/async";
import { type ApiConfig, loadApiConfig } from "../shared/config";
import { createDb, type Db, pingDb } from "../shared/db";
import { type CheckResult, healthResponse, shortError } from "../shared/health";
import { createLogger, errorFields, type Logger, repeatFilter } from "../shared/log";
import { createRedis, REPORT_JOB_NAME, type ReportJobData } from "../shared/queue";
import { reportView } from "../shared/report-view";
import { isUuid, validateReportInput } from "../shared/validate";

// How long a closing cluster worker stays connected to PM2's master (see shutdown below).
const HANDOFF_GRACE_MS = 1000;

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

interface Deps {
  config: ApiConfig;
  log: Logger;
  db: Db;
  queue: Queue<ReportJobData>;
  healthRedis: Redis;
  state: { shuttingDown: boolean; answeredWhileDraining: number };
}

function send(res: ServerResponse, statusCode: number, body: unknown, headers: Record<string, string> = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(statusCode, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(payload);
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") throw new HttpError(415, "content-type must be application/json");
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) throw new HttpError(413, `body larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `body larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "body is not valid JSON");
  }
}

async function check(what: string, ms: number, fn: () => Promise<unknown>): Promise<CheckResult> {
  try {
    await withTimeout(fn(), ms, what);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: shortError(err instanceof Error ? err.message : String(err)) };
  }
}

function whenReady(client: Redis): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve) => client.once("ready", () => resolve()));
}

/**
 * The first database query of a process opens the pool and loads Prisma's query compiler;
 * on a busy host that outlasts HEALTH_TIMEOUT_MS. PM2's cluster master hands connections to a
 * worker from its first listen, so that query must not be a client's: run it, and wait for the
 * health client's Redis connection, before listening (at most STARTUP_TIMEOUT_MS; a dependency
 * still down then is /health's to report).
 */
async function warmUp(deps: Pick<Deps, "db" | "healthRedis">, ms: number) {
  const started = Date.now();
  const [db, redis] = await Promise.all([
    check("database", ms, () => pingDb(deps.db)),
    check("redis", ms, () => whenReady(deps.healthRedis)),
  ]);
  return { db: db.ok ? "ok" : db.error, redis: redis.ok ? "ok" : redis.error, ms: Date.now() - started };
}

async function health(deps: Deps, res: ServerResponse) {
  const ms = deps.config.healthTimeoutMs;
  const [db, redis] = await Promise.all([
    check("database", ms, () => pingDb(deps.db)),
    check("redis", ms, async () => {
      if (deps.healthRedis.status !== "ready") throw new Error(`redis not connected (${deps.healthRedis.status})`);
      if ((await deps.healthRedis.ping()) !== "PONG") throw new Error("unexpected PING reply");
    }),
  ]);
  const { statusCode, body } = healthResponse(db, redis, deps.config.release, {
    details: deps.config.nodeEnv !== "production",
  });
  if (statusCode !== 200) {
    deps.log.warn("health check failed", {
      health: body,
      dbError: db.ok ? undefined : db.error,
      redisError: redis.ok ? undefined : redis.error,
    });
  }
  send(res, statusCode, body);
}

async function createReport(deps: Deps, req: IncomingMessage, res: ServerResponse) {
  const parsed = validateReportInput(await readJson(req, deps.config.maxBodyBytes));
  if (!parsed.ok) throw new HttpError(422, "invalid report", parsed.errors);

  const report = await deps.db.report.create({
    data: { title: parsed.value.title, lines: parsed.value.lines, status: "queued" },
  });
  try {
    await withTimeout(
      deps.queue.add(
        REPORT_JOB_NAME,
        { reportId: report.id },
        {
          jobId: report.id, // idempotent: one job per report
          attempts: deps.config.jobAttempts,
          backoff: { type: "exponential", delay: 1000 },
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: 5000 },
        },
      ),
      5000,
      "enqueue",
    );
  } catch (err) {
    deps.log.error("enqueue failed", { reportId: report.id, ...errorFields(err) });
    await deps.db.report
      .update({ where: { id: report.id }, data: { status: "failed", error: "could not enqueue job" } })
      .catch(() => undefined);
    throw new HttpError(503, "queue unavailable");
  }
  deps.log.info("report queued", { reportId: report.id, lines: parsed.value.lines.length });
  send(res, 202, { id: report.id }, { location: `/reports/${report.id}` });
}

async function getReport(deps: Deps, id: string, res: ServerResponse) {
  if (!isUuid(id)) throw new HttpError(404, "not found");
  const report = await deps.db.report.findUnique({ where: { id } });
  if (!report) throw new HttpError(404, "not found");
  send(res, 200, reportView(report));
}

export function createHandler(deps: Deps) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const requestId = (req.headers["x-request-id"] as string | undefined)?.slice(0, 100) || randomUUID();
    res.setHeader("x-request-id", requestId);
    // While draining, ask keep-alive clients (Caddy) to reconnect elsewhere.
    if (deps.state.shuttingDown) res.setHeader("connection", "close");
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    try {
      if (path === "/health") {
        if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "method not allowed");
        await health(deps, res);
      } else if (path === "/reports") {
        if (req.method !== "POST") throw new HttpError(405, "method not allowed");
        await createReport(deps, req, res);
      } else if (path.startsWith("/reports/") && path.split("/").length === 3) {
        if (req.method !== "GET") throw new HttpError(405, "method not allowed");
        await getReport(deps, path.slice("/reports/".length), res); // ids are plain UUIDs: no decoding
      } else {
        throw new HttpError(404, "not found");
      }
    } catch (err) {
      if (err instanceof HttpError) {
        if (!res.headersSent) {
          send(res, err.statusCode, err.details ? { error: err.message, details: err.details } : { error: err.message });
        }
      } else {
        deps.log.error("request failed", { requestId, path, ...errorFields(err) });
        if (!res.headersSent) send(res, 500, { error: "internal error", requestId });
        else res.destroy();
      }
    } finally {
      if (deps.state.shuttingDown) deps.state.answeredWhileDraining += 1;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? "warn" : path === "/health" && res.statusCode === 200 ? "debug" : "info";
      deps.log[level]("request", { requestId, method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 });
    }
  };
}

async function main() {
  let config: ApiConfig;
  try {
    config = loadApiConfig();
  } catch (err) {
    createLogger({ svc: "api" }).error("invalid configuration", errorFields(err));
    process.exit(78); // EX_CONFIG: PM2 keeps restarting; the log says why.
  }
  const log = createLogger({ svc: "api", release: config.release, pid: process.pid }, config.logLevel);

  const db = createDb(config.databaseUrl, { appName: "mecove-api" });
  const producerRedis = createRedis(config.redisUrl, "producer");
  const healthRedis = createRedis(config.redisUrl, "health");
  // ioredis reconnects forever and reports every failed attempt: log each
  // distinct error once until the connection is ready again.
  for (const [name, client] of [["producer", producerRedis], ["health", healthRedis]] as const) {
    const once = repeatFilter();
    client.on("error", (err: Error) => once(err.message) && log.warn("redis connection error", { client: name, err: err.message }));
    client.on("ready", () => once.reset());
  }
  const queue = new Queue<ReportJobData>(config.queueName, { connection: producerRedis });
  const queueOnce = repeatFilter();
  queue.on("error", (err: Error) => queueOnce(err.message) && log.warn("queue error", { err: err.message }));
  producerRedis.on("ready", () => queueOnce.reset());

  const state = { shuttingDown: false, answeredWhileDraining: 0 };
  const server = http.createServer(createHandler({ config, log, db, queue, healthRedis, state }));
  server.keepAliveTimeout = 65_000; // longer than Caddy's idle timeout
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;

  const shutdown = async (signal: string) => {
    if (state.shuttingDown) return;
    state.shuttingDown = true;
    log.info("shutting down", { signal });
    const force = setTimeout(() => {
      log.error("shutdown timed out, exiting", { timeoutMs: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    // Stop accepting; in-flight requests finish; idle keep-alive sockets close.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    // In PM2's cluster mode the master hands each new connection to a worker over IPC. One
    // handed to this worker just before its server closed is still on the way: stay connected a
    // moment, so that this worker can refuse it and the master gives it to another one. Exiting
    // at once loses it, and its client waits until it times out.
    if (cluster.isWorker) await sleep(HANDOFF_GRACE_MS);
    const results = await Promise.allSettled([queue.close(), db.$disconnect()]);
    producerRedis.disconnect();
    healthRedis.disconnect();
    for (const r of results) if (r.status === "rejected") log.warn("error while closing", errorFields(r.reason));
    // How many requests were still on their way and answered after the signal.
    log.info("stopped", { answeredWhileDraining: state.answeredWhileDraining });
    clearTimeout(force);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  // PM2 on Windows / with shutdown_with_message sends a message instead of a signal.
  process.on("message", (msg) => {
    if (msg === "shutdown") void shutdown("message");
  });

  server.on("error", (err) => {
    log.error("server error", errorFields(err));
    process.exit(1);
  });
  const warm = config.startupTimeoutMs > 0 ? await warmUp({ db, healthRedis }, config.startupTimeoutMs) : undefined;
  if (warm && (warm.db !== "ok" || warm.redis !== "ok")) log.warn("dependencies not ready, listening anyway", { warmUp: warm });
  if (state.shuttingDown) return;
  server.listen(config.port, config.host, () => {
    const addr = server.address();
    log.info("listening", {
      host: config.host,
      port: typeof addr === "object" && addr ? addr.port : config.port,
      node: process.version,
      warmUp: warm,
    });
    // PM2 wait_ready: tell PM2 this instance can take traffic.
    if (typeof process.send === "function") process.send("ready");
  });
}

// No `require.main === module` guard: PM2 loads this file through its own
// container script, so require.main is not this module there.
void main();
