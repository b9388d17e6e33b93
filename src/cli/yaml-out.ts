import { DEFAULT_SCALAR_STYLE_RULES, dump, SCALAR_STYLE, type ScalarLayout } from 'js-yaml';

// Strings some YAML reader takes for a number. js-yaml quotes most of them, but not one whose
// value its own reader would refuse as a float ("1e309" is too large, so it stays a string
// there; a YAML 1.2 reader makes it Infinity), and the `yaml` library's YAML 1.1 reader is
// looser still ("E7", "."). Quoting more than needed costs nothing.
const NUMBER_LIKE = /^[-+]?[0-9_.]*(?:[eE][-+]?[0-9]+)?$/;
const STR = 'tag:yaml.org,2002:str';

function quoteNumberLike(layout: ScalarLayout): void {
  if (layout.style === SCALAR_STYLE.PLAIN && layout.node.tag === STR && NUMBER_LIKE.test(layout.node.value)) layout.style = SCALAR_STYLE.DOUBLE_QUOTED;
}

/**
 * A manifest or a setting as YAML for kubectl. js-yaml rather than the `yaml` library the config
 * file is read with: it is half the size on the `--dry-run -o yaml` path, and it quotes what a
 * YAML 1.1 reader takes for another type (`on`, `y`, `12:30`, dates): kubectl reads manifests as
 * YAML 1.1, so `--env FOO=on` written bare would come back as a boolean and be refused.
 * Duplicate objects are written out in full, never as anchors.
 */
export function toYaml(value: unknown): string {
  return dump(value, { noRefs: true, lineWidth: -1, quoteStyle: 'double', scalarStyleRules: [quoteNumberLike, ...Object.values(DEFAULT_SCALAR_STYLE_RULES)] });
}
