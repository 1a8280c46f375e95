#!/usr/bin/env node
// Validate HAR files against the HAR 1.2 schema (har-validator).
// Usage: node validate-har.js FILE.har...
// Quiet when every file is valid; otherwise one line per schema error.
'use strict';

const fs = require('fs');
const harValidator = require('har-validator');

async function check(file) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return [`${file}: not JSON: ${err.message}`];
  }
  try {
    await harValidator.har(doc);
    return [];
  } catch (err) {
    const errors = err.errors || [{ dataPath: '', message: err.message }];
    return errors.map((e) => {
      const where = e.dataPath || e.instancePath || '(root)';
      const extra = e.params ? ` ${JSON.stringify(e.params)}` : '';
      return `${file}: ${where}: ${e.message}${extra}`;
    });
  }
}

(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('validate-har: no .har files given');
    process.exit(2);
  }
  let failed = false;
  for (const file of files) {
    const problems = await check(file);
    for (const p of problems) console.error(p);
    failed = failed || problems.length > 0;
  }
  process.exit(failed ? 1 : 0);
})();
