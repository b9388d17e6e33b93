import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultFactory } from '../../../src/cli/factory.js';
import { ROOT } from '../../support/cli.js';
import { emptyHome, runMain } from '../../support/main.js';

// The bad-input corpus in process, with the real factory: the kubeconfig points at a port where
// nothing listens, so a case that got as far as a request would fail with 125, not its own code.
// (test/e2e/bad-input.test.ts runs the same corpus against the cluster's audit log.)
const cases = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/bad-input/cases.json'), 'utf8')) as Array<{ name: string; args: string[]; code: number }>;
const dir = mkdtempSync(join(tmpdir(), 'nixrun-corpus-'));
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(
  kubeconfig,
  'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n',
);

describe('bad-input corpus in process: one line, its exit code, before any request', () => {
  it.each(cases)('$name → exit $code', async ({ args, code }) => {
    const withConfig = args.includes('--kubeconfig') ? args : ['--kubeconfig', kubeconfig, ...args];
    const r = await runMain(withConfig, { env: { ...emptyHome(), NIXRUN_REGISTRY: '' }, factory: defaultFactory });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stdout).toBe('');
    // The once-a-day stale-table warning is not about the input (a fresh home sees it every time).
    const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('warning: the package table is'));
    expect(lines[0]).toMatch(/^error: \S/);
    expect(lines.length, r.stderr).toBeLessThanOrEqual(2);
  });
});
