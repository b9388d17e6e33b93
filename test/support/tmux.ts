import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Drive a program in a real terminal, as a person would: tmux runs it, send-keys types,
 * capture-pane reads the screen. The exit code is written to a file when the program ends.
 */
export class Tmux {
  readonly session = `nixrun-${randomBytes(4).toString('hex')}`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'nixrun-tmux-'));
  readonly exitFile = join(this.dir, 'exit');

  constructor(argv: string[], opts: { env?: NodeJS.ProcessEnv; width?: number; height?: number; stdoutFile?: string } = {}) {
    const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ') + (opts.stdoutFile ? ` > '${opts.stdoutFile}'` : '');
    const envs = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}='${String(v).replace(/'/g, `'\\''`)}'`);
    // The test's own command line, built from the test's constants: not user input.
    const script = `${envs.join(' ')} ${quoted}; echo $? > '${this.exitFile}'; sleep 600`;
    execFileSync('tmux', ['new-session', '-d', '-s', this.session, '-x', String(opts.width ?? 120), '-y', String(opts.height ?? 30), 'sh', '-c', script]);
  }

  send(...keys: string[]): void {
    execFileSync('tmux', ['send-keys', '-t', this.session, ...keys]);
  }

  type(text: string): void {
    execFileSync('tmux', ['send-keys', '-t', this.session, '-l', text]);
  }

  /** Type a line and press Enter, as at a shell prompt. */
  line(text: string): void {
    this.type(text);
    this.send('Enter');
  }

  /** Resize the terminal, as a person dragging the window's corner. */
  resize(width: number, height: number): void {
    execFileSync('tmux', ['resize-window', '-t', this.session, '-x', String(width), '-y', String(height)]);
  }

  screen(): string {
    // With the scrollback: long output (a manifest) scrolls the screen.
    return execFileSync('tmux', ['capture-pane', '-p', '-S', '-', '-t', this.session], { encoding: 'utf8' });
  }

  async waitForScreen(re: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let s = '';
    while (Date.now() < deadline) {
      s = this.screen();
      if (re.test(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`screen never matched ${re} within ${timeoutMs} ms; it shows:\n${s}`);
  }

  async exitCode(timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (existsSync(this.exitFile)) {
        const t = readFileSync(this.exitFile, 'utf8').trim();
        if (t !== '') return Number(t);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the program did not exit within ${timeoutMs} ms; screen:\n${this.screen()}`);
  }

  /** The pid of the program running in the pane (the child of the pane's sh). */
  programPid(): number | undefined {
    const pane = execFileSync('tmux', ['display-message', '-p', '-t', this.session, '#{pane_pid}'], { encoding: 'utf8' }).trim();
    const r = spawnSync('pgrep', ['-P', pane], { encoding: 'utf8' });
    const pid = Number(r.stdout.trim().split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /** Close the terminal: the program gets SIGHUP, as when a terminal window is closed. */
  kill(): void {
    spawnSync('tmux', ['kill-session', '-t', this.session]);
  }
}
