import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { buildImageRef, normalizePackage, validateRegistry, withDigest } from '../../../src/image/index.js';

const ref = (packages: string[], o: { shell?: boolean; arch?: 'amd64' | 'arm64'; registry?: string; tag?: string } = {}) =>
  buildImageRef({ registry: o.registry ?? 'nixery.dev', packages, shell: o.shell ?? false, arch: o.arch ?? 'amd64', ...(o.tag ? { tag: o.tag } : {}) }).ref;

describe('Nixery reference builder (nixery.md §8)', () => {
  it.each([
    // seeds
    [['postgresql'], {}, 'nixery.dev/postgresql'],
    [['curl', 'netcat'], { shell: true }, 'nixery.dev/shell/curl/netcat'],
    // metas first, in one canonical order; never amd64
    [['htop'], { arch: 'arm64' as const }, 'nixery.dev/arm64/htop'],
    [['htop'], { shell: true, arch: 'arm64' as const }, 'nixery.dev/shell/arm64/htop'],
    [['htop', 'shell'], {}, 'nixery.dev/shell/htop'],
    [['htop', 'arm64'], {}, 'nixery.dev/arm64/htop'],
    [['htop', 'amd64'], {}, 'nixery.dev/htop'],
    [[], { shell: true }, 'nixery.dev/shell'],
    // lower case, sorted, de-duplicated
    [['jq', 'Curl', 'curl', 'bashInteractive'], {}, 'nixery.dev/bashinteractive/curl/jq'],
    // a leading _ before a digit is dropped (Nixery puts it back)
    [['_1password-cli'], {}, 'nixery.dev/1password-cli'],
    [['_9base', 'htop'], {}, 'nixery.dev/9base/htop'],
    // nested attributes keep their dots; only the first segment is lower-cased
    [['python3Packages.requests'], {}, 'nixery.dev/python3packages.requests'],
    [['unixtools.ping', 'xorg.xev'], {}, 'nixery.dev/unixtools.ping/xorg.xev'],
    // registries with ports, tags
    [['htop'], { registry: 'nixery.internal:5000' }, 'nixery.internal:5000/htop'],
    [['htop'], { tag: 'release-24.05' }, 'nixery.dev/htop:release-24.05'],
  ])('%j %j → %s', (pkgs, o, expected) => {
    expect(ref(pkgs, o)).toBe(expected);
  });

  it.each([
    [['haskellPackages.QuickCheck'], /cannot be served by Nixery.*QuickCheck/],
    [['../x'], /empty attribute segment|invalid package name/],
    [['a b'], /invalid package name "a b"/],
    [['$(reboot)'], /invalid package name/],
    [[';rm -rf /'], /invalid package name/],
    [['gtk+'], /invalid package name/],
    [['trailing-'], /invalid package name/],
    [['python3Packages.'], /empty attribute segment/],
    [['ñetcat'], /invalid package name/],
    [[''], /empty package name/],
    [['x'.repeat(300)], /too long/],
    [[], /no packages/],
  ])('rejects %j with a clear message', (pkgs, msg) => {
    expect(() => ref(pkgs)).toThrow(UsageError);
    expect(() => ref(pkgs)).toThrow(msg);
  });

  it('an arm64 package is the meta-package, wherever it was listed', () => {
    expect(buildImageRef({ registry: 'nixery.dev', packages: ['htop', 'arm64'], shell: true, arch: 'amd64' }).path).toBe('shell/arm64/htop');
  });

  it('keeps host + path within 255 characters', () => {
    const many = Array.from({ length: 30 }, (_, i) => `package-number-${i}`);
    expect(() => ref(many)).toThrow(/too long \(\d+ characters, at most 255\)/);
    expect(ref(many.slice(0, 10)).length).toBeLessThanOrEqual(255);
  });

  it('validates tags: up to 128, no leading . or -, no slash', () => {
    expect(() => ref(['htop'], { tag: 'refs/heads/main' })).toThrow(/invalid --tag/);
    expect(() => ref(['htop'], { tag: '-x' })).toThrow(/invalid --tag/);
    expect(() => ref(['htop'], { tag: 'a'.repeat(129) })).toThrow(/invalid --tag/);
    expect(ref(['htop'], { tag: 'a'.repeat(128) })).toMatch(/:a{128}$/);
  });

  it('validates registries', () => {
    expect(validateRegistry('nixery.dev')).toBe('nixery.dev');
    expect(validateRegistry('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    for (const bad of ['https://nixery.dev', 'nixery.dev/x', 'Nixery.dev', '', 'host:99999', 'a b']) expect(() => validateRegistry(bad), bad).toThrow(UsageError);
  });

  it('pins by digest, dropping the tag', () => {
    const r = buildImageRef({ registry: 'nixery.dev', packages: ['htop'], shell: true, arch: 'amd64', tag: 'x' });
    const d = `sha256:${'ab'.repeat(32)}`;
    expect(withDigest(r, d)).toBe(`nixery.dev/shell/htop@${d}`);
    expect(() => withDigest(r, 'sha256:zz')).toThrow();
  });

  it('normalizePackage is the per-component rule', () => {
    expect(normalizePackage('PostgreSQL')).toBe('postgresql');
    expect(normalizePackage('_7zz')).toBe('7zz');
  });
});
