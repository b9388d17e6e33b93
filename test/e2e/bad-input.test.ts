import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { auditEvents, testenv } from '../support/cluster.js';

interface Case {
  name: string;
  args: string[];
  code: number;
}
const cases = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/bad-input/cases.json'), 'utf8')) as Case[];

// Every program bad input could try to run, as a trap that leaves a mark if it is ever executed.
const trap = mkdtempSync(join(tmpdir(), 'nixrun-trap-'));
const marker = join(trap, 'EXECUTED');
for (const name of ['reboot', 'rm', 'id', 'sh', 'bash', 'psql', 'htop', 'kubectl', 'curl']) {
  writeFileSync(join(trap, name), `#!/bin/sh\necho "$0 $*" >> '${marker}'\n`);
  chmodSync(join(trap, name), 0o755);
}

describe('bad input: one line, exit 2 (127 for unknown executables), no API request, nothing run', () => {
  const tester = () => testenv() as unknown as { testerKubeconfig: string };
  const requestsByTester = () => auditEvents((e) => e.user?.username === 'tester').length;

  it('the audit log does see the tester’s requests (so the zero below means something)', async () => {
    const before = requestsByTester();
    const r = await runCli(['gc', '--kubeconfig', tester().testerKubeconfig, '-n', 'default']);
    expect(r.code, r.stderr).toBe(0);
    await new Promise((res) => setTimeout(res, 200));
    expect(requestsByTester()).toBeGreaterThan(before);
  });

  it.each(cases)('$name → exit $code', async ({ args, code }) => {
    const before = requestsByTester();
    // Commands that reach the kubeconfig use the tester's identity, whose requests the audit log counts.
    const kubeconfig = args.includes('--kubeconfig') ? [] : ['--kubeconfig', tester().testerKubeconfig];
    const r = await runCli([...kubeconfig, ...args], { env: { PATH: `${trap}:/usr/bin:/bin`, NIXRUN_REGISTRY: '' } });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^error: \S/);
    expect(lines.length, r.stderr).toBeLessThanOrEqual(2);
    if (lines[1] !== undefined) expect(lines[1]).toMatch(/^hint: /);
    await new Promise((res) => setTimeout(res, 50));
    expect(requestsByTester(), 'API requests made by a rejected command').toBe(before);
    expect(existsSync(marker), existsSync(marker) ? readFileSync(marker, 'utf8') : '').toBe(false);
  });
});
