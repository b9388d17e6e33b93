import { describe, expect, it } from 'vitest';
import { runMain } from '../../support/main.js';

// Every command's --help has real examples, and help goes to stdout with exit 0, as kubectl's does.
const COMMANDS: Array<[string[], RegExp]> = [
  [[], /kubectl nixrun psql -- psql -h my-db -U app[\s\S]*kubectl nixrun ping -- ping -c 3 my-svc[\s\S]*--pkgs curl,gnugrep,netcat shell/],
  [['pick'], /kubectl nixrun pick -n debug --profile netadmin/],
  [['which'], /kubectl nixrun which psql grep nc/],
  [['gc'], /kubectl nixrun gc -A --dry-run/],
  [['config', 'view'], /kubectl nixrun config view/],
  [['completion'], /source <\(kubectl-nixrun completion bash\)/],
  [['table', 'update'], /kubectl nixrun table update --from/],
];

describe('--help', () => {
  it.each(COMMANDS)('%j has examples', async (cmd, example) => {
    const r = await runMain([...cmd, '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Examples:$/m);
    expect(r.stdout).toMatch(example);
  });

  it("the picker's help does not repeat the default command's examples", async () => {
    const r = await runMain(['pick', '--help']);
    expect(r.stdout).not.toMatch(/psql against the service my-db/);
  });
});
