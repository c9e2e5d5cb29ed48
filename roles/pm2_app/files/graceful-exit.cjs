// Loaded first into every process of mecove.platform.pm2_app (node --require), for apps that do
// not handle SIGINT: node's default is to exit at once, ending the requests in flight. PM2 sends
// SIGINT to the old instance of a reload, so without this an app that knows nothing of PM2 drops
// requests at every deploy. An app with a SIGINT handler of its own is left to it.
"use strict";
const cluster = require("node:cluster");
const net = require("node:net");

const servers = new Set();
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function recordListen(...args) {
  servers.add(this);
  this.once("close", () => servers.delete(this));
  return listen.apply(this, args);
};

// In cluster mode PM2's master hands each connection to an instance over IPC; one sent just
// before the server closed is refused by this instance and handed to another if this one is
// still connected: wait this long before exiting.
const HANDOFF_GRACE_MS = 1000;

function onSigint() {
  if (process.listenerCount("SIGINT") > 1) return;
  process.removeListener("SIGINT", onSigint);
  // Ends the process as node's default would have (signal SIGINT), now that nothing listens.
  const exit = () => process.kill(process.pid, "SIGINT");
  const open = [...servers].filter((server) => server.listening);
  if (open.length === 0) return exit();
  let pending = open.length;
  const sweep = setInterval(() => {
    for (const server of open) server.closeIdleConnections?.();
  }, 100);
  for (const server of open) {
    // Answers still to come close their connection (keep-alive clients move to another instance).
    server.prependListener("request", (_req, res) => {
      res.shouldKeepAlive = false;
    });
    server.close(() => {
      pending -= 1;
      if (pending > 0) return;
      clearInterval(sweep);
      setTimeout(exit, cluster.isWorker ? HANDOFF_GRACE_MS : 0);
    });
    server.closeIdleConnections?.();
  }
}
process.on("SIGINT", onSigint);
