import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { errnoCode, UsageError } from '../errors.js';

/**
 * A script file travels in a pod annotation, and the API server allows 256 KiB for all of a pod's
 * annotations together: the rest of this limit leaves room for ours and --annotations.
 */
export const MAX_SCRIPT_BYTES = 250 * 1024;

export interface ScriptText {
  /** How the script is named in messages (the path as given, or configmap/NAME/KEY). */
  label: string;
  /** A file name for the script in the pod, safe as a volume path. */
  fileName: string;
  text: string;
}

/**
 * Read a local script, refusing what cannot be one: a missing or unreadable file, a directory, an
 * empty file, one over the size limit, binary content (a NUL byte, or not UTF-8: an annotation
 * holds text only). Reads at most one byte past the limit, so a huge file costs nothing.
 */
export function readScriptFile(path: string): ScriptText {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') throw new UsageError(`script ${path} does not exist`, 'check the path (a name with a slash is taken for a script file)');
    if (code === 'EACCES') throw new UsageError(`script ${path} is not readable (permission denied)`, `check its permissions: ls -l ${path}`);
    throw new UsageError(`cannot open script ${path} (${code ?? String(err)})`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UsageError(`script ${path} is a directory`, 'name the script file inside it');
    if (!st.isFile()) throw new UsageError(`script ${path} is not a regular file`);
    const buf = Buffer.alloc(MAX_SCRIPT_BYTES + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    return { label: path, fileName: scriptFileName(path), text: decodeScript(buf.subarray(0, n), path, { limit: MAX_SCRIPT_BYTES, tooBigHint: 'put it in a ConfigMap (kubectl create configmap NAME --from-file=FILE) and run it with --configmap NAME' }) };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read script ${path} (${errnoCode(err) ?? String(err)})`);
  } finally {
    closeSync(fd);
  }
}

/** Text, or a clear refusal: empty, too big, or binary. */
export function decodeScript(bytes: Uint8Array, label: string, opts: { limit?: number; tooBigHint?: string } = {}): string {
  if (opts.limit !== undefined && bytes.length > opts.limit) {
    throw new UsageError(`script ${label} is larger than ${Math.round(opts.limit / 1024)} KiB`, opts.tooBigHint);
  }
  if (bytes.length === 0 || /^\s*$/.test(Buffer.from(bytes).toString('latin1'))) throw new UsageError(`script ${label} is empty`, 'a script needs a #! line and something to run');
  if (bytes.includes(0)) throw new UsageError(`${label} is a binary file, not a script`, 'run programs by name instead: kubectl nixrun EXECUTABLE');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${label} is not UTF-8 text`, 'save the script as UTF-8');
  }
}

/** The script's own name when it is a plain file name (its $0 then reads naturally), else "script". */
export function scriptFileName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/.test(base) ? base : 'script';
}
