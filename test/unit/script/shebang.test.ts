import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../../src/errors.js';
import { expressionAdvice } from '../../../src/script/nix-shell.js';
import { parseShebang, scriptCommand, type ScriptSpec } from '../../../src/script/shebang.js';
import { shellwords } from '../../../src/script/shellwords.js';

const lines = (...l: string[]) => `${l.join('\n')}\n`;

describe('shellwords: nix-shell’s tokenizer (nix-build.cc, Perl shellwords)', () => {
  it.each<[string, string[]]>([
    ['-i bash -p jq', ['-i', 'bash', '-p', 'jq']],
    ['-p   jq\tcurl', ['-p', 'jq', 'curl']],
    [`-p "python3.withPackages (ps: [ ps.requests ])"`, ['-p', 'python3.withPackages (ps: [ ps.requests ])']],
    [`-i 'python3 -u'`, ['-i', 'python3 -u']],
    [`a'b c'd`, ['ab cd']],
    [`"it's"`, ["it's"]],
    [`'say "hi"'`, ['say "hi"']],
    ['a\\ b', ['a b']],
    ['"a\\"b"', ['a"b']],
    // Inside single quotes a backslash is just a character; nothing else is ever expanded.
    [`'a\\b'`, ['a\\b']],
    ['$HOME `id` *', ['$HOME', '`id`', '*']],
    [`'' x`, ['', 'x']],
    ['x', ['x']],
  ])('%s', (input, words) => {
    expect(shellwords(input)).toEqual(words);
  });

  it.each([`-p "jq`, `-p 'jq`, `-p "a'b`])('unbalanced quotes in %s: exit 2', (input) => {
    expect(() => shellwords(input)).toThrow(/unterminated (double|single) quote in a #! nix-shell line/);
  });
});

describe('parseShebang', () => {
  const ok = (text: string): ScriptSpec => parseShebang(text, 'check.sh');
  const fails = (text: string): UsageError => {
    try {
      parseShebang(text, 'check.sh');
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(ExitCode.usage);
      return err as UsageError;
    }
    throw new Error('parsed');
  };

  it.each<[string, string, Partial<ScriptSpec>]>([
    ['the seed’s ConfigMap script', lines('#! /usr/bin/env nix-shell', '#! nix-shell -i bash -p kubectl', 'kubectl get pods'), { kind: 'nix-shell', interpreter: ['bash'], packages: ['kubectl'] }],
    ['several #! nix-shell lines add up', lines('#!/usr/bin/env nix-shell', '#!nix-shell -i python3', '#! nix-shell -p python3', '#!  nix-shell -p python3Packages.requests jq'), { interpreter: ['python3'], packages: ['python3', 'python3Packages.requests', 'jq'] }],
    ['--packages, and -p before the names or after them', lines('#!/usr/bin/env nix-shell', '#! nix-shell curl --packages jq -i sh'), { interpreter: ['sh'], packages: ['curl', 'jq'] }],
    ['the last -i wins', lines('#!/usr/bin/env nix-shell', '#! nix-shell -i bash -i sh -p jq'), { interpreter: ['sh'] }],
    ['-i with options (spliced unquoted by nix-shell)', lines('#!/usr/bin/env nix-shell', `#! nix-shell -i "python3 -u" -p python3`), { interpreter: ['python3', '-u'] }],
    ['an absolute -i is looked up by name', lines('#!/usr/bin/env nix-shell', '#! nix-shell -i /usr/bin/python3 -p python3'), { interpreter: ['python3'] }],
    ['#! nix-shell as the first line', lines('#! nix-shell', '#! nix-shell -i bash -p jq'), { kind: 'nix-shell', packages: ['jq'] }],
    ['an absolute nix-shell', lines('#!/run/current-system/sw/bin/nix-shell', '#! nix-shell -i bash -p jq'), { kind: 'nix-shell' }],
    ['pkgs.jq is jq (evaluated in `with pkgs;`)', lines('#!/usr/bin/env nix-shell', '#! nix-shell -i bash -p pkgs.jq'), { packages: ['jq'] }],
    ['CRLF line ends', '#!/usr/bin/env nix-shell\r\n#! nix-shell -i bash -p jq\r\necho\r\n', { interpreter: ['bash'], packages: ['jq'] }],
    ['nix-shell lines anywhere in the file count, as nix-shell scans them all', lines('#!/usr/bin/env nix-shell', 'echo', '#! nix-shell -i bash -p jq'), { packages: ['jq'] }],
    ['a #!nix-shell without anything after it is not a nix-shell line', lines('#!/usr/bin/env nix-shell', '#!nix-shell', '#! nix-shell -i bash -p jq'), { packages: ['jq'] }],
    ['--pure, -I and --keep are accepted, with notes', lines('#!/usr/bin/env nix-shell', '#! nix-shell --pure -i bash -p jq -I nixpkgs=https://x/y.tar.gz --keep TOKEN'), { packages: ['jq'] }],
    ['#!/usr/bin/env python3', lines('#!/usr/bin/env python3', 'print(1)'), { kind: 'interpreter', interpreter: ['python3'], packages: [] }],
    ['#!/bin/bash', lines('#!/bin/bash', 'echo'), { kind: 'interpreter', interpreter: ['bash'] }],
    ['#!/usr/bin/python3 -u: one argument, as the kernel passes it', lines('#!/usr/bin/python3 -u'), { interpreter: ['python3', '-u'] }],
    ['#!/usr/bin/env -S python3 -u', lines('#!/usr/bin/env -S python3 -u'), { interpreter: ['python3', '-u'] }],
    ['nix-shell lines under an ordinary #! line are ignored (the kernel runs bash)', lines('#!/bin/bash', '#! nix-shell -i python3 -p python3'), { kind: 'interpreter', interpreter: ['bash'], packages: [] }],
  ])('%s', (_name, text, expected) => {
    expect(ok(text)).toMatchObject(expected);
  });

  it('notes say what --pure, -I and --keep mean in a pod', () => {
    const spec = ok(lines('#!/usr/bin/env nix-shell', '#! nix-shell --pure -i bash -p jq -I nixpkgs=https://x/y.tar.gz --keep TOKEN'));
    expect(spec.notes).toHaveLength(3);
    expect(spec.notes.join('\n')).toMatch(/--pure:.*environment/);
    expect(spec.notes.join('\n')).toMatch(/-I nixpkgs=https:\/\/x\/y.tar.gz: ignored/);
    expect(spec.notes.join('\n')).toMatch(/--keep TOKEN:.*--env TOKEN=/);
  });

  it.each<[string, string, RegExp, RegExp?]>([
    ['no #! line', lines('echo hi'), /check.sh has no #! line/, /#!\/usr\/bin\/env bash.*--pkgs/],
    ['an empty #! line', lines('#!'), /names no interpreter/],
    ['-i without a value', lines('#!/usr/bin/env nix-shell', '#! nix-shell -p jq -i'), /-i in a #! nix-shell line needs an interpreter/, /-i bash/],
    ['no -i', lines('#!/usr/bin/env nix-shell', '#! nix-shell -p jq'), /name no interpreter \(-i\)/],
    ['no -p: shell.nix', lines('#!/usr/bin/env nix-shell', '#! nix-shell -i bash'), /shell\.nix or default\.nix/, /-p jq curl/],
    ['a Nix file', lines('#!/usr/bin/env nix-shell', '#! nix-shell -i bash ./shell.nix'), /the Nix file \.\/shell\.nix/],
    ['-E', lines('#!/usr/bin/env nix-shell', `#! nix-shell -i bash -E "with import <nixpkgs> {}; jq"`), /-E \(a Nix expression\) cannot become an image/],
    ['withPackages', lines('#!/usr/bin/env nix-shell', `#! nix-shell -i python3 -p "python3.withPackages (ps: [ ps.requests ps.pyyaml ])"`), /is a Nix expression/, /-p python3 python3Packages\.requests python3Packages\.pyyaml/],
    ['unbalanced quotes', lines('#!/usr/bin/env nix-shell', `#! nix-shell -i bash -p "jq`), /unterminated double quote/],
    ['--run', lines('#!/usr/bin/env nix-shell', `#! nix-shell -p jq --run "jq ."`), /--run is not supported/],
    ['an unknown option', lines('#!/usr/bin/env nix-shell', '#! nix-shell -i bash -p jq --frobnicate'), /unknown option "--frobnicate"/],
    ['-p with no names', lines('#!/usr/bin/env nix-shell', '#! nix-shell -i bash -p'), /names no packages/],
    ['a shell in -i', lines('#!/usr/bin/env nix-shell', `#! nix-shell -i "bash; rm -rf /" -p jq`), /needs a shell to mean anything/],
    ['options on the first line', lines('#!/usr/bin/env -S nix-shell -i bash -p jq'), /options on the first line are not read by nix-shell/, /second line/],
    ['env with two words and no -S', lines('#!/usr/bin/env python3 -u'), /as one program name/, /-S python3 -u/],
    ['an interpreter that is no program name', lines('#!/usr/bin/env $(reboot)'), /is not a program name/],
  ])('%s → exit 2', (_name, text, message, hint) => {
    const err = fails(text);
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/\n/);
    if (hint) expect(err.hint).toMatch(hint);
  });

  it('expressionAdvice for the other withPackages sets', () => {
    expect(expressionAdvice('perl.withPackages (p: [ p.JSON ])')).toMatch(/-p perl perlPackages\.JSON/);
    expect(expressionAdvice('haskellPackages.ghcWithPackages (p: [p.lens])')).toMatch(/-p haskellPackages\.lens"/);
    expect(expressionAdvice('import ./x.nix')).toMatch(/list nixpkgs attributes instead/);
  });
});

describe('scriptCommand: exec INTERPRETER SCRIPT ARGS, as nix-shell builds it, without a shell string', () => {
  const spec = (kind: ScriptSpec['kind'], interpreter: string[]): ScriptSpec => ({ kind, interpreter, packages: [], notes: [] });
  it.each<[ScriptSpec, string[]]>([
    [spec('nix-shell', ['bash']), ['bash', '/s/x', 'a b', '$(id)']],
    [spec('nix-shell', ['python3', '-u']), ['python3', '-u', '/s/x', 'a b', '$(id)']],
    [spec('nix-shell', ['ruby']), ['ruby', '-e', 'load(ARGV.shift)', '--', '/s/x', 'a b', '$(id)']],
    [spec('nix-shell', ['perl']), ['bash', '-c', 'exec -a PERL "$@"', 'nixrun-perl', 'perl', '/s/x', 'a b', '$(id)']],
    // An ordinary #!/usr/bin/env ruby line names ruby itself: nothing to work around.
    [spec('interpreter', ['ruby']), ['ruby', '/s/x', 'a b', '$(id)']],
  ])('%j', (s, argv) => {
    expect(scriptCommand(s, '/s/x', ['a b', '$(id)'])).toEqual(argv);
  });
});
