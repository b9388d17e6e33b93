import { describe, expect, it } from 'vitest';
import { buildPod } from '../../../src/pod/manifest.js';
import { annotationBytes, ANNOTATIONS_LIMIT_BYTES, SCRIPT_ANNOTATION, withScript } from '../../../src/script/pod.js';
import { readScriptFile, scriptFileName, MAX_SCRIPT_BYTES } from '../../../src/script/source.js';

const owner = { host: 'h', pid: 1, user: 'u', startedAt: '2026-01-01T00:00:00Z', session: 's' };
const pod = (annotations: Record<string, string> = {}) =>
  buildPod({ name: 'nixrun-x-abcde', image: 'i', command: ['bash', '/nixrun/script/x'], stdin: false, tty: false, env: [], profile: 'restricted', packages: [], exe: 'x', activeDeadlineSeconds: 60, owner, annotations });

describe('withScript', () => {
  it('a ConfigMap script is mounted from the ConfigMap (one key, read-only, r-x), nothing copied into the pod', () => {
    const p = withScript(pod(), { fileName: 'check.sh', source: { kind: 'configMap', name: 'cluster-check', key: 'check.sh' } });
    expect(p.spec!.volumes).toContainEqual({ name: 'nixrun-script', configMap: { name: 'cluster-check', defaultMode: 0o555, items: [{ key: 'check.sh', path: 'check.sh', mode: 0o555 }] } });
    expect(p.spec!.containers[0]!.volumeMounts).toContainEqual({ name: 'nixrun-script', mountPath: '/nixrun/script', readOnly: true });
    expect(p.metadata!.annotations![SCRIPT_ANNOTATION]).toBeUndefined();
  });

  it('counts annotation bytes as the API server does (UTF-8 bytes of keys and values)', () => {
    expect(annotationBytes({ ab: 'é' })).toBe(4);
  });

  it('refuses a script that pushes the annotations over 256 KiB, and takes one just under', () => {
    const others = annotationBytes(pod().metadata!.annotations!) + SCRIPT_ANNOTATION.length;
    const fits = 'x'.repeat(ANNOTATIONS_LIMIT_BYTES - others);
    expect(() => withScript(pod(), { fileName: 'x', source: { kind: 'annotation', text: fits } })).not.toThrow();
    expect(() => withScript(pod(), { fileName: 'x', source: { kind: 'annotation', text: `${fits}x` } })).toThrow(/over the API server's 256 KiB limit/);
  });
});

describe('script files', () => {
  it.each([
    ['./check.sh', 'check.sh'],
    ['/a/b/run-it_2.py', 'run-it_2.py'],
    ['./.hidden', 'script'],
    ['./with space.sh', 'script'],
    ['./ünï.sh', 'script'],
  ])('%s is mounted as %s', (path, name) => {
    expect(scriptFileName(path)).toBe(name);
  });

  it('the size limit leaves room under 256 KiB for the pod’s other annotations', () => {
    expect(MAX_SCRIPT_BYTES).toBeLessThan(ANNOTATIONS_LIMIT_BYTES - 4096);
  });

  it('/dev/zero is not a regular file (nothing is read from it)', () => {
    expect(() => readScriptFile('/dev/zero')).toThrow(/not a regular file/);
  });
});
