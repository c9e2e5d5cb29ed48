// A background process with no server: it only keeps running.
"use strict";
setInterval(() => console.log(`jobs: alive at ${new Date().toISOString()}`), 60_000);
