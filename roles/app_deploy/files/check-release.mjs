// The deploy's health gate (mecove.platform.app_deploy). Starts the API of a release that
// does not serve yet on a loopback port of its own, waits until its health endpoint answers
// 200 (and, when asked, JSON holding the expected fields and the release id), then stops it.
//
//   node check-release.mjs --dir <release> --script dist/api/server.js --env-file <.env>
//        --port 3100 [--path /health] [--expect-json '{"status":"ok"}']
//        [--version-key version --expect-version <id>] [--timeout 120]
//        [--node-args '["--enable-source-maps"]']
//
// Prints one JSON line; exit 0 when the release is healthy, 1 otherwise (with the reason and
// the last lines the API printed). The env file is read by node itself (--env-file), never by
// this script; PORT and HOST given here win over it (node lets the environment win).
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";

const argv = process.argv.slice(2);
const opts = { path: "/health", timeout: "120", nodeArgs: "[]", expectJson: "{}" };
for (let i = 0; i < argv.length; i += 2) {
  const [key, value] = [argv[i], argv[i + 1]];
  if (value === undefined) usage(`${key} needs a value`);
  const name = key.replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  opts[name] = value;
}
for (const required of ["dir", "script", "envFile", "port"]) {
  if (!opts[required]) usage(`--${required.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())} is required`);
}
const port = Number(opts.port);
let nodeArgs;
let expected;
try {
  nodeArgs = JSON.parse(opts.nodeArgs);
  expected = JSON.parse(opts.expectJson);
} catch {
  usage("--node-args must be a JSON list of strings and --expect-json a JSON object");
}
if (expected === null || typeof expected !== "object" || Array.isArray(expected)) usage("--expect-json must be a JSON object");
if (opts.versionKey && !opts.expectVersion) usage("--version-key needs --expect-version");
const deadline = Date.now() + Number(opts.timeout) * 1000;

function usage(message) {
  console.error(JSON.stringify({ ok: false, error: `check-release: ${message}` }));
  process.exit(2);
}

function portInUse() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

if (await portInUse()) {
  usage(`127.0.0.1:${port} is already in use; app_deploy_check_port must be a free port`);
}

const output = [];
const keep = (chunk) => {
  output.push(...chunk.toString().split("\n").filter((line) => line.trim() !== ""));
  output.splice(0, Math.max(0, output.length - 20));
};
const child = spawn(
  process.execPath,
  [...nodeArgs, `--env-file=${opts.envFile}`, path.join(opts.dir, opts.script)],
  {
    cwd: opts.dir,
    env: { ...process.env, HOST: "127.0.0.1", PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  },
);
let exited = null;
child.stdout.on("data", keep);
child.stderr.on("data", keep);
child.on("exit", (code, signal) => {
  exited = { code, signal };
});

async function probe() {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${opts.path}`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text.slice(0, 200);
    }
    return { status: res.status, body };
  } catch (err) {
    return { status: 0, error: err.cause?.code ?? err.message };
  }
}

async function stop() {
  if (exited) return;
  child.kill("SIGINT");
  const gone = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 15000);
    child.on("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!gone) child.kill("SIGKILL");
}

const started = Date.now();
let last = { status: 0, error: "not probed yet" };
let versionError = null;
// Only what was asked: an app that answers plain text passes with a 200 alone.
const holds = (body) =>
  Object.entries(expected).every(([key, value]) => body !== null && typeof body === "object" && body[key] === value);
while (Date.now() < deadline && !exited) {
  last = await probe();
  const healthy = last.status === 200 && holds(last.body);
  const version = opts.versionKey ? last.body?.[opts.versionKey] : undefined;
  if (healthy && (!opts.versionKey || version === opts.expectVersion)) {
    await stop();
    console.log(JSON.stringify({ ok: true, seconds: (Date.now() - started) / 1000, health: last.body }));
    process.exit(0);
  }
  if (healthy) {
    versionError = `${opts.path} reports ${opts.versionKey} ${JSON.stringify(version)}, expected ${opts.expectVersion}`;
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
// The reason is read before this script stops the API itself.
const died = exited;
await stop();
let reason;
if (versionError) reason = versionError;
else if (died) reason = `the API exited (code ${died.code}, signal ${died.signal}) before it was healthy`;
else if (last.status === 200) reason = `${opts.path} answered 200 without ${opts.expectJson} within ${opts.timeout} s`;
else if (last.status !== 0) reason = `${opts.path} still answered ${last.status} after ${opts.timeout} s`;
else reason = `${opts.path} did not answer within ${opts.timeout} s (${last.error})`;
console.log(
  JSON.stringify({
    ok: false,
    error: reason,
    seconds: (Date.now() - started) / 1000,
    last: { status: last.status, body: last.body ?? null },
    output,
  }),
);
process.exit(1);
