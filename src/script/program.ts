import { UsageError } from '../errors.js';

// A program name that can be looked up and run without a shell: what the table and Nixery know.
const PROGRAM_RE = /^[A-Za-z0-9_+@][A-Za-z0-9._+@:-]*$/;

export function checkProgram(name: string, file: string): void {
  if (!PROGRAM_RE.test(name)) {
    throw new UsageError(`${file}: interpreter ${JSON.stringify(name)} is not a program name`, 'name an executable such as bash, python3 or jq');
  }
}
