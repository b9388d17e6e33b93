import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toYaml } from '../../../src/cli/yaml-out.js';

// kubectl reads manifests as YAML 1.1 (sigs.k8s.io/yaml on go-yaml v2), where more plain words
// are not strings than in YAML 1.2. The `yaml` library reads either version, so it plays both
// readers here (its 1.1 floats are looser than go-yaml's); kubectl itself reads generated
// strings in test/e2e/manifest.test.ts.
const readers = { 'YAML 1.1': '1.1', 'YAML 1.2': '1.2' } as const;

describe('toYaml', () => {
  const ambiguous = ['on', 'off', 'yes', 'no', 'y', 'n', 'Y', 'True', 'NULL', '~', '', '12:30', '1:20:30', '0755', '0x1F', '0b101', '1e3', '1e309', '-1e400', '.', 'E7', '.inf', '-.NaN',
    '2026-12-02', '2026-12-02T15:45:04.945Z', '1_000', '+1', 'a: b', '- x', '#c', '"q"', "'q'", '{a}', '[a]', '*ref', '&a', '!tag', '%x', '@x', '`x', ' lead', 'trail ', 'multi\nline', 'tab\tin'];

  for (const [reader, version] of Object.entries(readers)) {
    it.each(ambiguous)(`${reader} reads %j back as that string, in a value, a key and a list`, (s) => {
      const doc = { env: [{ name: 'X', value: s }], annotations: { [s]: s }, args: [s] };
      expect(parse(toYaml(doc), { version })).toEqual(doc);
    });


    it(`${reader}: any strings round-trip (property)`, () => {
      const word = fc.oneof(fc.string(), fc.stringMatching(/^[-+]?[0-9._eE+-]{0,8}$/), fc.string({ unit: 'grapheme' }));
      fc.assert(
        fc.property(fc.dictionary(word, fc.oneof(word, fc.array(word))), (doc) => {
          expect(parse(toYaml(doc), { version })).toEqual(doc);
        }),
        { numRuns: 500 },
      );
    });
  }

  it('writes a manifest block style, unfolded, with no anchors for shared objects', () => {
    const shared = { runAsUser: 65534 };
    const long = 'x '.repeat(100).trim();
    const out = toYaml({ a: shared, b: shared, cmd: ['bash', '-c', long] });
    expect(out).toBe(`a:\n  runAsUser: 65534\nb:\n  runAsUser: 65534\ncmd:\n  - bash\n  - -c\n  - ${long}\n`);
  });
});
