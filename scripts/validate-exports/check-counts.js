#!/usr/bin/env node
// Check that a newman or bru run sent every request of the collection, so
// a request the importer silently skipped (or could not parse) fails.
// Usage:
//   node check-counts.js postman COLLECTION.json NEWMAN-REPORT.json
//   node check-counts.js bruno COLLECTION-DIR BRU-REPORT.json
'use strict';

const fs = require('fs');
const path = require('path');

function postmanItems(items) {
  return items.reduce((n, item) => n + (item.item ? postmanItems(item.item) : 1), 0);
}

function bruRequests(dir) {
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) n += bruRequests(full);
    else if (entry.name.endsWith('.bru') && !['folder.bru', 'collection.bru'].includes(entry.name)) n += 1;
  }
  return n;
}

function sentByNewman(report) {
  const stats = report.run && report.run.stats && report.run.stats.requests;
  const failures = (report.run && report.run.failures) || [];
  return { sent: stats ? stats.total - (stats.failed || 0) : 0, failures: failures.length };
}

function sentByBru(report) {
  // bru writes one result object per iteration (an array) or a single one.
  const runs = Array.isArray(report) ? report : [report];
  let sent = 0;
  let errors = 0;
  for (const run of runs) {
    const summary = run.summary || {};
    sent += (summary.totalRequests || 0) - (summary.errorRequests || 0) - (summary.skippedRequests || 0);
    errors += summary.errorRequests || 0;
  }
  return { sent, failures: errors };
}

const [kind, target, reportFile] = process.argv.slice(2);
const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
let expected;
let got;
if (kind === 'postman') {
  expected = postmanItems(JSON.parse(fs.readFileSync(target, 'utf8')).item || []);
  got = sentByNewman(report);
} else if (kind === 'bruno') {
  expected = bruRequests(target);
  got = sentByBru(report);
} else {
  console.error(`check-counts: unknown kind ${kind}`);
  process.exit(2);
}
if (got.sent !== expected || got.failures > 0) {
  console.error(`${kind}: the collection holds ${expected} requests; ${got.sent} were sent and answered, ${got.failures} failed`);
  process.exit(1);
}
