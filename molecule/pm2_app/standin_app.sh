#!/bin/sh
# MOLECULE (run by prepare.yml after the roles were applied with no app deployed):
# 1. checks the state before the first deploy: the pm2-mecove unit runs, the ecosystem file is in
#    place, and PM2 runs no process;
# 2. deploys a tiny STAND-IN app as a release: an HTTP server on 127.0.0.1:3000 and a worker loop
#    where the real build puts dist/, an env file, and `current` linking to the release.
set -eu
home=/home/mecove
release="$home/app/releases/standin-1"

fail() { echo "before the first deploy: $*" >&2; exit 1; }
[ "$(systemctl is-active pm2-mecove)" = active ] || fail "pm2-mecove is not active"
[ -f "$home/ecosystem.config.json" ] || fail "no ecosystem file"
listed="$(sudo -u mecove -H env PM2_HOME="$home/.pm2" /usr/local/bin/pm2 jlist | tail -n 1)"
[ "$listed" = "[]" ] || fail "PM2 must run no process; it runs: $listed"

as_mecove() { sudo -u mecove -H sh -c "umask 027; $1"; }
as_mecove "mkdir -p '$release/dist/api' '$release/dist/worker'"

as_mecove "cat > '$release/dist/api/server.js'" <<'JS'
'use strict';
// Stand-in API (molecule): answers every request with what the tests check.
const http = require('http');
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({
    greeting: process.env.STANDIN_GREETING || null,
    sourceMaps: process.sourceMapsEnabled === true,
    cwd: process.cwd(),
    pid: process.pid,
  }));
});
server.listen(3000, '127.0.0.1', () => console.log('api listening on 127.0.0.1:3000'));
process.on('SIGINT', () => server.close(() => process.exit(0)));
JS

as_mecove "cat > '$release/dist/worker/worker.js'" <<'JS'
'use strict';
// Stand-in worker (molecule): ticks until PM2 asks it to stop, then drains.
let ticks = 0;
const timer = setInterval(() => console.log(`worker tick ${++ticks}`), 2000);
console.log('worker started');
console.error('worker stderr check');
process.on('SIGINT', () => {
  console.log('worker draining');
  clearInterval(timer);
  setTimeout(() => process.exit(0), 100);
});
JS

# The app's env file, with a stand-in secret the tests look for (0600, like the deploy's).
as_mecove "umask 077; printf 'STANDIN_GREETING=hello-from-env-file\n' > '$release/.env'"
as_mecove "ln -sfn '$release' '$home/app/current'"
