// Validates an AsyncAPI document with the official parser; exits non-zero on any error or warning.
import { Parser } from '@asyncapi/parser';
import fs from 'fs';

const parser = new Parser();
const { document, diagnostics } = await parser.parse(fs.readFileSync(process.argv[2], 'utf8'));
let failed = !document;
for (const d of diagnostics) {
  console.log(`severity=${d.severity} ${d.code}: ${d.message} at ${JSON.stringify(d.path)}`);
  if (d.severity <= 1) failed = true; // 0 error, 1 warning
}
console.log(failed ? 'asyncapi: INVALID' : 'asyncapi: valid');
process.exit(failed ? 1 : 0);
