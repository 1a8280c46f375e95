#!/usr/bin/env node
// Parse every .bru file of an unzipped Bruno collection with Bruno's own
// parser (@usebruno/lang), so a file `bru run` would skip is reported by
// name with the parser's message.
// Usage: node check-bruno.js COLLECTION-DIR
'use strict';

const fs = require('fs');
const path = require('path');
const { bruToJsonV2, collectionBruToJson } = require('@usebruno/lang');

function bruFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return bruFiles(full);
    return entry.name.endsWith('.bru') ? [full] : [];
  });
}

const root = process.argv[2];
if (!root || !fs.existsSync(path.join(root, 'bruno.json'))) {
  console.error(`check-bruno: ${root} holds no bruno.json`);
  process.exit(1);
}
let failed = false;
for (const file of bruFiles(root)) {
  const text = fs.readFileSync(file, 'utf8');
  const folder = ['folder.bru', 'collection.bru'].includes(path.basename(file));
  try {
    const parsed = folder ? collectionBruToJson(text) : bruToJsonV2(text);
    if (!folder && !(parsed.http && parsed.http.url)) {
      throw new Error('no request method block with a url');
    }
  } catch (err) {
    console.error(`${path.relative(root, file)}: ${String(err.message || err).split('\n').slice(0, 6).join('\n  ')}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
