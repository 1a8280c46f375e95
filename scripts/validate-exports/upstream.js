#!/usr/bin/env node
// A local stand-in for the real APIs, for newman and bru to send exported
// requests to. Answers every request with 200 and a small JSON body and
// appends "METHOD URL" to $UPSTREAM_LOG (when set), so a caller can check
// the requests arrived.
// Usage: node upstream.js [PORT]   (prints "listening HOST:PORT" once ready)
'use strict';

const fs = require('fs');
const http = require('http');

const port = Number(process.argv[2] || 0);
const log = process.env.UPSTREAM_LOG;

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (log) fs.appendFileSync(log, `${req.method} ${req.url}\n`);
    const body = JSON.stringify({ ok: true, method: req.method, url: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});

server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  console.log(`listening ${addr.address}:${addr.port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
