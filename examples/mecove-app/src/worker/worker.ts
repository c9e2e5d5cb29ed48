// BullMQ worker of the meCove sample app: renders queued reports to PDF.
//
// Drain: on SIGTERM/SIGINT it stops taking new jobs, lets in-flight jobs
// finish (worker.close()) for up to WORKER_DRAIN_TIMEOUT_MS, then exits 0.
// A job still running after the timeout is abandoned; its lock expires and
// BullMQ hands it to the next worker as stalled (it is retried, not lost).
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import { TimeoutError, withTimeout } from "../shared/async";
import { loadWorkerConfig, type WorkerConfig } from "../shared/config";
import { createDb, type Db } from "../shared/db";
import { createLogger, errorFields, type Logger, repeatFilter } from "../shared/log";
import { createRedis, type ReportJobData } from "../shared/queue";
import { renderReportHtml } from "../shared/render";
import { htmlToPdf } from "./pdf";

/** Writes atomically: a reader never sees a half-written PDF. */
async function writeFileAtomic(file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, data, { mode: 0o640 });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function processor(config: WorkerConfig, db: Db, log: Logger, stats = { inFlight: 0 }) {
  return async (job: Job<ReportJobData>) => {
    stats.inFlight++;
    try {
      return await renderJob(config, db, log, job);
    } finally {
      stats.inFlight--;
    }
  };
}

async function renderJob(config: WorkerConfig, db: Db, log: Logger, job: Job<ReportJobData>) {
  const { reportId } = job.data;
  const jlog = log.child({ jobId: job.id, reportId, attempt: job.attemptsMade + 1 });
  const exists = await db.report.findUnique({ where: { id: reportId }, select: { id: true } });
  if (!exists) throw new UnrecoverableError(`report ${reportId} does not exist`);
  const report = await db.report.update({ where: { id: reportId }, data: { attempts: { increment: 1 } } });
  const started = performance.now();
  try {
    const html = renderReportHtml(report);
    const pdf = await htmlToPdf(html, {
      executablePath: config.chromiumPath,
      args: config.chromiumArgs,
      timeoutMs: config.renderTimeoutMs,
    });
    const file = path.join(config.reportsDir, `${reportId}.pdf`);
    await writeFileAtomic(file, pdf);
    const renderMs = Math.round(performance.now() - started);
    await db.report.update({
      where: { id: reportId },
      data: { status: "done", pdfPath: file, pdfBytes: pdf.byteLength, renderMs, error: null, completedAt: new Date() },
    });
    jlog.info("report rendered", { file, bytes: pdf.byteLength, renderMs });
    return { file, bytes: pdf.byteLength, renderMs };
  } catch (err) {
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    jlog.warn(final ? "report failed" : "render attempt failed, will retry", { final, ...errorFields(err) });
    if (final) {
      const message = err instanceof Error ? err.message : String(err);
      await db.report
        .update({ where: { id: reportId }, data: { status: "failed", error: message.slice(0, 2000), completedAt: new Date() } })
        .catch((e: unknown) => jlog.error("could not mark report failed", errorFields(e)));
    }
    throw err;
  }
}

async function main() {
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig();
  } catch (err) {
    createLogger({ svc: "worker" }).error("invalid configuration", errorFields(err));
    process.exit(78);
  }
  const log = createLogger({ svc: "worker", release: config.release, pid: process.pid }, config.logLevel);
  await mkdir(config.reportsDir, { recursive: true });

  const db = createDb(config.databaseUrl, { appName: "mecove-worker", poolMax: config.concurrency + 1 });
  const connection = createRedis(config.redisUrl, "worker");
  const redisOnce = repeatFilter();
  connection.on("error", (err: Error) => redisOnce(err.message) && log.warn("redis connection error", { err: err.message }));
  connection.on("ready", () => redisOnce.reset());

  const stats = { inFlight: 0 };
  const worker = new Worker<ReportJobData>(config.queueName, processor(config, db, log, stats), {
    connection,
    concurrency: config.concurrency,
    autorun: false,
    // BullMQ defaults: the job lock (30 s) is renewed every 15 s while a
    // render runs, so a long render keeps its lock; a job abandoned by a
    // killed worker is moved back to wait by the stalled check (every 30 s).
  });
  const workerOnce = repeatFilter();
  worker.on("error", (err: Error) => workerOnce(err.message) && log.warn("worker error", { err: err.message }));
  connection.on("ready", () => workerOnce.reset());
  worker.on("failed", (job, err) => {
    if (!job) log.warn("job failed", { err: err.message });
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("draining", { signal, timeoutMs: config.drainTimeoutMs, inFlight: stats.inFlight });
    const t0 = performance.now();
    try {
      await withTimeout(worker.close(), config.drainTimeoutMs, "worker drain");
      log.info("drained", { ms: Math.round(performance.now() - t0) });
    } catch (err) {
      if (err instanceof TimeoutError) {
        // Exit now: the job's lock expires and another worker picks it up as
        // stalled (attempts permitting). Rendering is idempotent per report.
        log.warn("drain timed out; abandoning in-flight jobs (retried as stalled by the next worker)", {
          timeoutMs: config.drainTimeoutMs,
          inFlight: stats.inFlight,
        });
        await withTimeout(worker.close(true), 1000, "worker force close").catch(() => undefined);
        connection.disconnect();
        log.info("stopped", { drained: false });
        process.exit(0); // Chromium children are killed by puppeteer's exit hook.
      }
      log.warn("error while closing worker", errorFields(err));
    }
    await withTimeout(db.$disconnect(), 2000, "db disconnect").catch(() => undefined);
    connection.disconnect();
    log.info("stopped", { drained: true });
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("message", (msg) => {
    if (msg === "shutdown") void stop("message");
  });

  log.info("worker started", {
    queue: config.queueName,
    concurrency: config.concurrency,
    reportsDir: config.reportsDir,
    chromium: config.chromiumPath,
    chromiumArgs: config.chromiumArgs,
    node: process.version,
  });
  if (typeof process.send === "function") process.send("ready");
  worker.run().catch((err: unknown) => {
    log.error("worker stopped unexpectedly", errorFields(err));
    process.exit(1);
  });
}

void main();
