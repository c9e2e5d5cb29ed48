// An HTTP server as many apps have one: no JSON health answer, no release id, no ready message
// to PM2, no SIGINT handler. PORT as most hosting conventions give it.
"use strict";
const http = require("node:http");

const GREETING = "hello from the plain app, version 1";

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.end("ok\n");
  } else if (req.url === "/slow") {
    // A request still in flight when PM2 replaces the instance.
    setTimeout(() => res.end("slow\n"), 400);
  } else if (req.url === "/") {
    res.end(GREETING + "\n");
  } else {
    res.statusCode = 404;
    res.end("not found\n");
  }
});
server.listen(Number(process.env.PORT || 3000), process.env.HOST || "127.0.0.1");
