#!/usr/bin/env node
// End-to-end check against a RUNNING api + worker (real PostgreSQL, Redis,
// Chromium): GET /health, POST /reports, poll GET /reports/:id until done,
// then check the PDF on disk (and its text with pdftotext when installed).
//
//   BASE_URL=http://127.0.0.1:3000 pnpm run smoke
//   options: --timeout-ms 60000   --no-file (API and worker on another host)
//            --expect-version <release id>  (fails unless /health reports it)
// Exit 0 and a JSON summary on success; exit 1 with the reason otherwise.
import { execFileSync } from "node:child_process";
import { openSync, readSync, closeSync, statSync } from "node:fs";

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const base = (process.env.BASE_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const timeoutMs = Number(opt("--timeout-ms", "60000"));
const expectVersion = opt("--expect-version", undefined);
const checkFile = !args.includes("--no-file");

function fail(msg, extra = {}) {
  console.error(JSON.stringify({ ok: false, error: msg, ...extra }));
  process.exit(1);
}

async function call(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json };
}

const t0 = performance.now();
const health = await call("GET", "/health").catch((e) => fail(`GET /health: ${e.message}`));
if (health.status !== 200 || health.json.status !== "ok") fail("health is not ok", { health });
if (expectVersion && health.json.version !== expectVersion) {
  fail(`version is ${health.json.version}, expected ${expectVersion}`, { health: health.json });
}

const title = `Smoke ${new Date().toISOString()} – जाँच`;
const created = await call("POST", "/reports", {
  title,
  lines: ["Latin line", "देवनागरी पंक्ति", "<b>not bold</b> & escaped"],
});
if (created.status !== 202 || !created.json.id) fail("POST /reports was not accepted", { created });
const id = created.json.id;

const tPost = performance.now();
let report;
for (;;) {
  const r = await call("GET", `/reports/${id}`);
  if (r.status !== 200) fail(`GET /reports/${id} -> ${r.status}`, { body: r.json });
  report = r.json;
  if (report.status === "done") break;
  if (report.status === "failed") fail("report failed", { report });
  if (performance.now() - tPost > timeoutMs) fail(`report not done after ${timeoutMs} ms`, { report });
  await new Promise((r) => setTimeout(r, 250));
}
const doneMs = Math.round(performance.now() - tPost);

const summary = { ok: true, base, version: health.json.version, id, pdf: report.pdf, queueToDoneMs: doneMs };
if (checkFile) {
  const { path: file, size } = report.pdf;
  const st = statSync(file);
  if (st.size !== size) fail(`PDF size on disk ${st.size} != ${size}`);
  const fd = openSync(file, "r");
  const head = Buffer.alloc(5);
  readSync(fd, head, 0, 5, 0);
  closeSync(fd);
  if (head.toString("latin1") !== "%PDF-") fail("file is not a PDF", { file });
  try {
    const text = execFileSync("pdftotext", ["-enc", "UTF-8", file, "-"], { encoding: "utf8" });
    if (!text.includes(title)) fail("title not found in the PDF text", { file, text: text.slice(0, 500) });
    summary.pdftotext = "title found";
  } catch (e) {
    if (e.code === "ENOENT") summary.pdftotext = "skipped (pdftotext not installed)";
    else throw e;
  }
}
summary.totalMs = Math.round(performance.now() - t0);
console.log(JSON.stringify(summary));
