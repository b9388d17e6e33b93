import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { toYaml } from '../../src/cli/yaml-out.js';
import { runCli } from '../support/cli.js';
import { e2eEnv, kubeconfigPath, testenv } from '../support/cluster.js';

// What `--dry-run -o yaml` prints is for kubectl, which reads YAML as 1.1 (sigs.k8s.io/yaml on
// go-yaml v2): there `on`, `y` or `12:30` are not strings. `kubectl create --dry-run=client -o
// json` decodes a manifest exactly as `kubectl apply` does and prints what it understood; it
// sends nothing (it asks the API only for discovery).
function kubectlReads(yaml: string): V1Pod {
  const r = spawnSync(join(testenv().bins, 'kubectl'), ['--kubeconfig', kubeconfigPath(), 'create', '--dry-run=client', '-o', 'json', '-f', '-'], { input: yaml, encoding: 'utf8' });
  expect(r.status, `${r.stderr}\n${yaml}`).toBe(0);
  return JSON.parse(r.stdout) as V1Pod;
}

const podWith = (strings: string[]): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'yaml-check', annotations: Object.fromEntries(strings.map((s, i) => [`nixrun.dev/a${i}`, s])) },
  spec: {
    restartPolicy: 'Never',
    containers: [{ name: 'c', image: 'nixery.invalid/bash', args: strings, env: strings.map((s, i) => ({ name: `V${i}`, value: s })) }],
  },
});

describe('manifests as kubectl reads them', () => {
  it('kubectl reads any strings toYaml writes back unchanged, in env values, args and annotations (property)', () => {
    const words = fc.constantFrom('on', 'off', 'yes', 'No', 'y', 'N', '~', 'null', '12:30', '1:20:30', '0755', '0x1F', '0b101', '1e3', '.5', '.inf', '2026-12-02', '2026-12-02T15:45:04Z', '1_000', '');
    const strings = fc.array(fc.oneof(words, fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary-ascii' })), { minLength: 1, maxLength: 120 });
    fc.assert(
      fc.property(strings, (s) => {
        const pod = podWith(s);
        const back = kubectlReads(toYaml(pod));
        expect(back.spec!.containers[0]!.env).toEqual(pod.spec!.containers[0]!.env);
        expect(back.spec!.containers[0]!.args).toEqual(s);
        expect(back.metadata!.annotations).toEqual(pod.metadata!.annotations);
      }),
      { numRuns: 25 },
    );
  });

  it('`--dry-run -o yaml -e MODE=on -e AT=12:30`: kubectl reads the values as the strings given', async () => {
    const r = await runCli(['--dry-run', '-o', 'yaml', '-e', 'MODE=on', '-e', 'AT=12:30', '-e', 'N=0755', 'psql'], { env: e2eEnv() });
    expect(r.code, r.stderr).toBe(0);
    const env = kubectlReads(r.stdout).spec!.containers[0]!.env!;
    expect(env.filter((e) => ['MODE', 'AT', 'N'].includes(e.name))).toEqual([
      { name: 'MODE', value: 'on' },
      { name: 'AT', value: '12:30' },
      { name: 'N', value: '0755' },
    ]);
  });
});
