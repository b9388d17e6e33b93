import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NixrunError, UsageError } from '../../../src/errors.js';
import { describeError, printable, redact, Ui } from '../../../src/ui/output.js';

function ui(opts: { quiet?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (d: Buffer) => (text += d.toString()));
  const u = new Ui({ stdin: new PassThrough(), stdout: new PassThrough(), stderr, env: opts.env ?? { NO_COLOR: '1' } }, { quiet: opts.quiet });
  return { u, text: () => text };
}

describe('Ui', () => {
  it('an error is one line and a hint line, even with --quiet; warnings are not', () => {
    const { u, text } = ui({ quiet: true });
    u.warn('hidden');
    u.error(new UsageError('bad flag', 'try this'));
    expect(text()).toBe('error: bad flag\nhint: try this\n');
  });

  it('what the user typed cannot break the line or drive the terminal', () => {
    const { u, text } = ui();
    u.error(new NixrunError('unknown arguments: \u001b[2J, a\nb, \u007f, \u009b31m'));
    expect(text()).toBe('error: unknown arguments: \\u001b[2J, a\\nb, \\u007f, \\u009b31m\n');
  });

  it('a stack never reaches the user: other errors show their first line', () => {
    expect(describeError(new Error('boom\n    at x (y.js:1:1)'))).toEqual({ message: 'boom' });
    expect(describeError('plain')).toEqual({ message: 'plain' });
  });

  it('printable keeps ordinary text and unicode as they are', () => {
    expect(printable('psql ψ 🚀 "quoted"')).toBe('psql ψ 🚀 "quoted"');
  });

  it('-v output never shows credentials', () => {
    expect(redact('GET https://user:s3cret@nixery.example/v2/ with Bearer abc.def')).toBe('GET https://***@nixery.example/v2/ with Bearer ***');
  });
});
