#!/usr/bin/env node
// A local stand-in for LLM APIs, for scripts/e2e/exports.sh: answers
// POST /v1/messages like Anthropic's Messages API and POST
// /v1/chat/completions like OpenAI's, anything else with a small JSON body.
// Appends "METHOD URL" to $UPSTREAM_LOG (when set) for every request, so the
// caller can count what newman and bru replayed, and each multipart form it
// receives, taken apart, as a JSON line to $UPSTREAM_FORMS (when set): the
// text fields, and each file's name and SHA-256.
// Usage: node exports-upstream.js [PORT]   (prints "listening HOST:PORT" once ready)
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const port = Number(process.argv[2] || 0);
const log = process.env.UPSTREAM_LOG;
const forms = process.env.UPSTREAM_FORMS;

// A multipart/form-data body as { name: value | "file NAME sha256:HEX" },
// or { malformed: true } when it does not parse.
function form(contentType, body) {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!m) return { malformed: true };
  const delimiter = Buffer.from(`--${m[1]}`);
  const out = {};
  let at = body.indexOf(delimiter);
  if (at < 0) return { malformed: true };
  at += delimiter.length;
  for (;;) {
    if (body.subarray(at, at + 2).toString() === '--') return out;
    if (body.subarray(at, at + 2).toString() !== '\r\n') return { malformed: true };
    const headEnd = body.indexOf('\r\n\r\n', at);
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headEnd);
    if (headEnd < 0 || next < 0) return { malformed: true };
    const head = body.subarray(at + 2, headEnd).toString();
    const data = body.subarray(headEnd + 4, next);
    const name = /name="([^"]*)"/.exec(head);
    const file = /filename="([^"]*)"/.exec(head);
    if (!name) return { malformed: true };
    out[name[1]] = file
      ? `file ${file[1]} sha256:${crypto.createHash('sha256').update(data).digest('hex')}`
      : data.toString();
    at = next + 2 + delimiter.length;
  }
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

function anthropic(req) {
  const turns = Array.isArray(req.messages) ? req.messages.length : 0;
  return {
    id: `msg_e2e_${turns}`,
    type: 'message',
    role: 'assistant',
    model: req.model || 'claude-sonnet-4-5',
    content: [{ type: 'text', text: `Answer to turn ${turns}.` }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 10 * turns, output_tokens: 5 },
  };
}

function openai(req) {
  return {
    id: 'chatcmpl-e2e',
    object: 'chat.completion',
    created: 1764000000,
    model: req.model || 'gpt-4o-mini',
    choices: [{
      index: 0,
      message: { role: 'assistant', content: 'Hello from the fake OpenAI.' },
      finish_reason: 'stop',
    }],
    usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 },
  };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (log) fs.appendFileSync(log, `${req.method} ${req.url}\n`);
    const type = req.headers['content-type'] || '';
    if (forms && /^multipart\/form-data/i.test(type)) {
      fs.appendFileSync(forms, `${JSON.stringify(form(type, Buffer.concat(chunks)))}\n`);
    }
    const body = parse(Buffer.concat(chunks).toString('utf8'));
    const path = req.url.split('?')[0];
    let answer;
    if (req.method === 'POST' && path === '/v1/messages') answer = anthropic(body);
    else if (req.method === 'POST' && path === '/v1/chat/completions') answer = openai(body);
    else answer = { ok: true, method: req.method, url: req.url };
    const text = JSON.stringify(answer);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});

server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  console.log(`listening ${addr.address}:${addr.port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
