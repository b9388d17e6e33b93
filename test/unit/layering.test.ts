import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Every module of src/ with what it imports: static, re-exported and dynamic, type-only marked. */
function modules(): Array<{ file: string; imports: Array<{ target: string; typeOnly: boolean }> }> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  return files.map((file) => {
    const text = readFileSync(join(SRC, file), 'utf8');
    const imports = [
      ...[...text.matchAll(/^(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gms)].map((m) => ({ spec: m[3]!, typeOnly: Boolean(m[2]) })),
      ...[...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => ({ spec: m[1]!, typeOnly: false })),
    ];
    return {
      file,
      imports: imports.map(({ spec, typeOnly }) => ({
        target: spec.startsWith('.') ? relative(SRC, resolve(SRC, dirname(file), spec)).replace(/\.js$/, '.ts') : spec,
        typeOnly,
      })),
    };
  });
}

const folder = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '.');

describe('layering (design.md: cli/ turns argv into a plan and nothing imports cli/)', () => {
  const all = modules();

  it('reads the imports it checks', () => {
    expect(all.length).toBeGreaterThan(40);
    const session = all.find((m) => m.file === 'session/index.ts')!;
    expect(session.imports.map((i) => i.target)).toContain('plan/types.ts');
  });

  it('nothing outside cli/ imports cli/ (session, kube, pod, image, resolve, plan, gc included)', () => {
    const offenders = all.filter((m) => folder(m.file) !== 'cli' && folder(m.file) !== 'standalone').flatMap((m) => m.imports.filter((i) => folder(i.target) === 'cli').map((i) => `${m.file} → ${i.target}`));
    expect(offenders).toEqual([]);
  });

  it('the pure modules (plan, pod, image, resolve, script) import neither kube/ nor session/', () => {
    const pure = new Set(['plan', 'pod', 'image', 'resolve', 'script']);
    const offenders = all.filter((m) => pure.has(folder(m.file))).flatMap((m) => m.imports.filter((i) => !i.typeOnly && ['kube', 'session'].includes(folder(i.target))).map((i) => `${m.file} → ${i.target}`));
    expect(offenders).toEqual([]);
  });

  it('only kube/ talks to the Kubernetes API (runtime imports of @kubernetes/client-node)', () => {
    const offenders = all.filter((m) => folder(m.file) !== 'kube').flatMap((m) => m.imports.filter((i) => !i.typeOnly && i.target.startsWith('@kubernetes/client-node')).map(() => m.file));
    expect(offenders).toEqual([]);
  });
});
