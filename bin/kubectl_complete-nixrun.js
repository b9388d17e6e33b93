#!/usr/bin/env node
// kubectl (1.26+) runs `kubectl_complete-nixrun ARGS…` to complete `kubectl nixrun ARGS…`.
// It answers with cobra's protocol: candidates, one per line, then ":<directive>".
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) process.exit(0);
try {
  process.getBuiltinModule('node:module').enableCompileCache();
} catch {
  // Only a speed-up.
}
const { main } = await import('../dist/kubectl-nixrun.js');
process.exitCode = await main(['__complete', ...process.argv.slice(2)]);
