// After one `npm test` pass in CI: fail unless it ran on the backend it was
// meant to (the suite's global setup records which) and ran every test —
// none failed, none skipped, and not zero of them.
// Usage: node .ci/check-pass.mjs <pglite|postgres> <version regex>
import { appendFileSync, readFileSync } from "node:fs";

const [kind, versionPattern] = process.argv.slice(2);
const backend = JSON.parse(readFileSync("artifacts/test-backend.json", "utf8"));
const results = JSON.parse(readFileSync("artifacts/test-results.json", "utf8"));
const problems = [];
if (backend.kind !== kind) problems.push(`ran on ${backend.kind}, expected ${kind}`);
if (!new RegExp(versionPattern).test(backend.version))
  problems.push(`database version "${backend.version}" does not match /${versionPattern}/`);
if (results.numTotalTests === 0) problems.push("ran no test");
if (results.numFailedTests > 0 || !results.success) problems.push(`${results.numFailedTests} failed`);
if (results.numPendingTests > 0 || results.numPendingTestSuites > 0 || results.numTodoTests > 0) {
  problems.push(`${results.numPendingTests} tests and ${results.numPendingTestSuites} files skipped`);
}
const summary = `${results.numPassedTests} passed, ${results.numFailedTests} failed`;
if (problems.length > 0) {
  console.error(`check: this pass is not valid: ${problems.join("; ")} (${summary})`);
  process.exit(1);
}
appendFileSync("artifacts/ci-passes.txt", `${kind} ${results.numPassedTests} ${results.numFailedTests}\n`);
console.log(`check: ${kind} pass on ${backend.version.split(" on ")[0]}: ${summary}, none skipped`);
