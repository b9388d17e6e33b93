import type { V1Pod } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { emptyHome, runMain } from '../../support/main.js';
import { prebuild, startNixery, type Nixery } from '../../support/nixery.js';

const offline = emptyHome();
const dir = mkdtempSync(join(tmpdir(), 'nixrun-scripts-'));
const file = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const JQ_SCRIPT = '#!/usr/bin/env nix-shell\n#! nix-shell -i bash -p jq\njq -r .name\nexit 3\n';

describe('scripts, offline (--dry-run, and bad input before any connection)', () => {
  it('./check.sh: bash runs the script from a downward-API volume; the manifest is one self-contained pod', async () => {
    const path = file('check.sh', JQ_SCRIPT);
    const r = await runMain(['--dry-run', path, '--', 'a b', '$(id)'], { env: offline });
    expect(r.code, r.stderr).toBe(0);
    const pod = parse(r.stdout) as V1Pod;
    const c = pod.spec!.containers[0]!;
    expect(c.image).toBe('nixery.dev/shell/fakenss/jq/tini');
    // No gate: nobody attaches to an applied manifest, so stdin is off.
    expect(c.command).toEqual(['tini', '-g', '--', 'bash', '/nixrun/script/check.sh', 'a b', '$(id)']);
    expect(c.stdin).toBe(false);
    expect(pod.metadata!.annotations!['nixrun.dev/script']).toBe(JQ_SCRIPT);
    expect(pod.spec!.volumes).toContainEqual({
      name: 'nixrun-script',
      downwardAPI: { defaultMode: 0o555, items: [{ path: 'check.sh', fieldRef: { fieldPath: "metadata.annotations['nixrun.dev/script']" }, mode: 0o555 }] },
    });
    expect(c.volumeMounts).toContainEqual({ name: 'nixrun-script', mountPath: '/nixrun/script', readOnly: true });
    // Fixed name, no session owner, not ours to garbage-collect.
    expect(pod.metadata!.name).toBe('nixrun-check');
    expect(pod.metadata!.labels!['app.kubernetes.io/managed-by']).toBeUndefined();
    expect(Object.keys(pod.metadata!.annotations!).sort()).toEqual(['nixrun.dev/executable', 'nixrun.dev/packages', 'nixrun.dev/script']);
    expect(r.kubeCalls).toEqual([]);
  });

  it('-f and an ordinary #! line: the interpreter is resolved like an executable; -i keeps stdin on', async () => {
    const path = file('report', '#!/usr/bin/env psql\nselect 1;\n');
    const r = await runMain(['--dry-run', '-o', 'json', '-i', '-f', path], { env: offline });
    expect(r.code, r.stderr).toBe(0);
    const pod = JSON.parse(r.stdout) as V1Pod;
    const c = pod.spec!.containers[0]!;
    expect(c.image).toMatch(/^nixery\.dev\/.*postgresql/);
    expect(c.command!.slice(-2)).toEqual(['psql', '/nixrun/script/report']);
    expect(c.stdin).toBe(true);
  });

  it('an unknown interpreter: 127 with did-you-mean, nothing connected', async () => {
    const path = file('typo.py', '#!/usr/bin/env pyhton3\nprint(1)\n');
    const r = await runMain(['--dry-run', path], { env: offline });
    expect(r.code, r.stderr).toBe(127);
    expect(r.stderr).toMatch(/pyhton3/);
    expect(r.stderr).toMatch(/python3/);
  });

  it('a script whose #! lines use --pure prints the note on stderr, stdout stays the manifest', async () => {
    const path = file('pure.sh', '#!/usr/bin/env nix-shell\n#! nix-shell --pure -i bash -p jq\n');
    const r = await runMain(['--dry-run', '-o', 'json', path], { env: offline });
    expect(r.code, r.stderr).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(r.stderr).toMatch(/--pure: the pod never sees this machine’s environment/);
  });

  const unreadable = file('unreadable.sh', JQ_SCRIPT);
  chmodSync(unreadable, 0o000);
  const sub = join(dir, 'subdir');
  mkdirSync(sub, { recursive: true });
  const big = file('big.sh', `#!/bin/bash\n${'# padding\n'.repeat(30_000)}`);
  const cases: Array<[string, string[], RegExp, number?]> = [
    ['a missing file', [join(dir, 'nope.sh')], /script .*nope\.sh does not exist/],
    ['a missing file with -f', ['-f', 'nope.sh'], /script nope\.sh does not exist/],
    ['a directory', [sub + '/'], /is a directory/],
    ['a binary file', [file('bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]))], /is a binary file, not a script/],
    ['not UTF-8', [file('latin1.sh', Buffer.from('#!/bin/bash\necho \xe9\n', 'latin1'))], /not UTF-8/],
    ['an empty file', [file('empty.sh', '')], /is empty/],
    ['only whitespace', [file('blank.sh', '\n\n  \n')], /is empty/],
    ['over the size limit', [big], /larger than 250 KiB/],
    ['no #! line', [file('plain.sh', 'echo hi\n')], /has no #! line/],
    ['unbalanced quotes', [file('quote.sh', '#!/usr/bin/env nix-shell\n#! nix-shell -i bash -p "jq\n')], /unterminated double quote/],
    ['-i without a value', [file('noi.sh', '#!/usr/bin/env nix-shell\n#! nix-shell -p jq -i\n')], /needs an interpreter/],
    ['withPackages', [file('wp.py', '#!/usr/bin/env nix-shell\n#! nix-shell -i python3 -p "python3.withPackages (ps: [ ps.requests ])"\n')], /is a Nix expression/],
    ['a script and a stray argument (its arguments go after --)', [file('ok.sh', JQ_SCRIPT), 'extra'], /unknown argument: extra/],
    ['-f and --configmap', ['-f', 'x.sh', '--configmap', 'cm'], /give one/],
    ['-f and an executable', ['-f', 'x.sh', 'psql'], /unexpected argument "psql" with -f/],
    ['a bad --configmap', ['--configmap', 'Bad_Name/key'], /invalid --configmap/],
    ['a bad --configmap key', ['--configmap', 'cm/a b'], /invalid key/],
    ['--pin without --dry-run', ['--pin', 'htop'], /--pin needs --dry-run/],
    ['--pin with --no-preflight', ['--pin', '--dry-run', '--no-preflight', 'htop'], /conflicts with --no-preflight/],
  ];
  // Root reads any file: the unreadable case only means something for other users.
  if (process.getuid?.() !== 0) cases.push(['an unreadable file', [unreadable], /not readable/]);

  it.each(cases)('%s → exit 2, one line, nothing connected', async (_name, args, message, code = 2) => {
    const r = await runMain([...args], { env: offline });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stdout).toBe('');
    const out = r.stderr.trimEnd().split('\n');
    expect(out[0]).toMatch(/^error: /);
    expect(out[0]).toMatch(message);
    expect(out.length, r.stderr).toBeLessThanOrEqual(2);
    expect(r.kubeCalls).toEqual([]);
  });

  it('an annotation over 256 KiB with the other annotations: exit 2, with the ConfigMap way as the hint', async () => {
    const path = file('near-limit.sh', `#!/bin/bash\n${'#'.repeat(240 * 1024)}\n`);
    const r = await runMain(['--dry-run', '--annotations', `note=${'x'.repeat(20 * 1024)}`, path], { env: offline });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/over the API server's 256 KiB limit for annotations/);
    expect(r.stderr).toMatch(/--configmap/);
  });

  it('--configmap validates every other flag before it connects', async () => {
    const r = await runMain(['--configmap', 'cm', '--deadline', 'soon'], { env: offline });
    expect(r.code).toBe(2);
    expect(r.kubeCalls).toEqual([]);
  });
});

describe('kubectl nixrun image', () => {
  let nixery: Nixery;
  beforeAll(async () => {
    await prebuild(['shell/curl/jq']);
    nixery = await startNixery();
  }, 300_000);
  afterAll(() => nixery?.close());

  it('--no-preflight: the tag reference, offline; the seed’s six packages sort as Nixery wants', async () => {
    const r = await runMain(['image', '--no-preflight', '--shell', '-p', 'google-cloud-sdk,redis,kubectl,curl,jq,bashInteractive'], { env: offline });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('nixery.dev/shell/curl/google-cloud-sdk/jq/kubectl/redis\n');
    expect(r.stderr).toMatch(/bashInteractive: already in Nixery's shell meta-package/);
  });

  it('executables are resolved (psql → postgresql); --arch arm64 adds the meta-package', async () => {
    const r = await runMain(['image', '--no-preflight', '--arch', 'arm64', '-o', 'json', 'psql'], { env: offline });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ architecture: 'arm64', reference: 'nixery.dev/arm64/postgresql', digest: null, pinned: null });
  });

  it('pinned by the digest the registry serves for that reference', async () => {
    const r = await runMain(['image', '--registry', nixery.host, '--shell', '-p', 'curl,jq', '-o', 'json'], { env: offline });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { digest: string; pinned: string; reference: string; packages: string[] };
    expect(out.reference).toBe(`${nixery.host}/shell/curl/jq`);
    expect(out.packages).toEqual(['curl', 'jq']);
    expect(out.pinned).toBe(`${nixery.host}/shell/curl/jq@${out.digest}`);
    const body = Buffer.from(await (await fetch(`${nixery.url}/v2/shell/curl/jq/manifests/latest`)).arrayBuffer());
    expect(out.digest).toBe(`sha256:${createHash('sha256').update(body).digest('hex')}`);
    expect((await fetch(`${nixery.url}/v2/shell/curl/jq/manifests/${out.digest}`)).status).toBe(200);
    const text = await runMain(['image', '--registry', nixery.host, '--shell', 'curl', 'jq'], { env: offline });
    expect(text.stdout).toBe(`${out.pinned}\n`);
  });

  it('unknown packages: the registry’s 404, the missing names with did-you-mean, exit 126', async () => {
    const r = await runMain(['image', '--registry', nixery.host, '-p', 'crul,jq'], { env: offline });
    expect(r.code, r.stderr).toBe(126);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/does not know the package crul/);
    expect(r.stderr).toMatch(/did you mean/);
  });

  it('a package nixpkgs has but the registry does not serve is named as such, not as a typo', async () => {
    const r = await runMain(['image', '--registry', nixery.host, '-p', 'redis'], { env: offline });
    expect(r.code, r.stderr).toBe(126);
    expect(r.stderr).toMatch(/redis is in nixpkgs but not served by this registry/);
  });

  it('an unreachable registry: no pin, exit 125 with the --no-preflight way out', async () => {
    const r = await runMain(['image', '--registry', '127.0.0.1:1', '-p', 'jq'], { env: offline });
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/cannot pin/);
    expect(r.stderr).toMatch(/--no-preflight/);
  });

  it('a typo in a script’s -p: the pre-flight’s 404 names it with did-you-mean, exit 126', async () => {
    const path = file('typo.sh', '#!/usr/bin/env nix-shell\n#! nix-shell -i bash -p jqq\n');
    const r = await runMain(['--dry-run', '--pin', '--registry', nixery.host, path], { env: offline });
    expect(r.code, r.stderr).toBe(126);
    expect(r.stderr).toMatch(/does not know the package jqq/);
    expect(r.stderr).toMatch(/did you mean .*\bjq\b/);
  });

  it('--dry-run --pin pins a script’s manifest with the registry’s digest', async () => {
    const path = file('pin.sh', JQ_SCRIPT);
    const r = await runMain(['--dry-run', '--pin', '--registry', nixery.host, path], { env: offline });
    expect(r.code, r.stderr).toBe(0);
    const pod = parse(r.stdout) as V1Pod;
    expect(pod.spec!.containers[0]!.image).toMatch(new RegExp(`^${nixery.host.replace(/\./g, '\\.')}/shell/fakenss/jq/tini@sha256:[0-9a-f]{64}$`));
  });
});
