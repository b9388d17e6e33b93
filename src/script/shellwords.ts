import { UsageError } from '../errors.js';

/**
 * Split one `#! nix-shell` line into words exactly as nix-shell does (nix-build.cc `shellwords`,
 * itself a copy of Perl's shellwords): whitespace separates words outside quotes; single quotes
 * keep everything literally; double quotes keep whitespace and single quotes; a backslash outside
 * single quotes makes the next character literal (no `\n` or `$VAR` processing: nix-shell does
 * none). Quotes glue to their neighbours (`a'b c'` is one word). No library does exactly this:
 * shell-quote and friends expand variables, globs and operators, which nix-shell never does.
 */
export function shellwords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote === undefined && /\s/.test(c)) {
      // nix-shell pushes the word on every run of whitespace, even an empty quoted one ('' x).
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'" && quote !== '"') quote = quote === "'" ? undefined : "'";
    else if (c === '"' && quote !== "'") quote = quote === '"' ? undefined : '"';
    else if (c === '\\' && quote !== "'") {
      // A trailing backslash has nothing to escape: nix-shell reads past the end; we keep nothing.
      if (i + 1 < s.length) cur += s[++i];
    } else cur += c;
  }
  if (quote !== undefined) {
    throw new UsageError(`unterminated ${quote === "'" ? 'single' : 'double'} quote in a #! nix-shell line`, 'close the quote, or escape it with a backslash');
  }
  if (inWord) words.push(cur);
  return words;
}
