import yoctoSpinner, { type Spinner } from 'yocto-spinner';
import type { Ui } from './output.js';

/**
 * One updating status line on stderr with the elapsed time ("building image postgresql on
 * nixery.dev… 12s"). On a non-terminal stderr a stage is printed once, as a plain line, and
 * only when it lasts a second (logs of fast runs stay clean); with --quiet nothing is shown.
 */
export class StatusLine {
  private spinner: Spinner | undefined;
  private text = '';
  private started = 0;
  private lastPlain = '';
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private pendingText = '';

  constructor(private readonly ui: Ui) {}

  update(text: string, opts: { restartClock?: boolean } = {}): void {
    if (this.ui.quiet) return;
    if (opts.restartClock || this.started === 0) this.started = Date.now();
    this.text = text;
    if (!this.ui.interactive) {
      if (this.pending && text === this.pendingText) return;
      this.pendingText = text;
      if (this.pending) clearTimeout(this.pending);
      this.pending = setTimeout(() => {
        this.pending = undefined;
        if (this.text !== this.lastPlain) this.ui.io.stderr.write(`${this.text}…\n`);
        this.lastPlain = this.text;
      }, 1000);
      return;
    }
    if (!this.spinner) {
      this.spinner = yoctoSpinner({ text: this.render(), stream: this.ui.io.stderr, handleSignals: false, color: 'cyan' }).start();
      this.timer = setInterval(() => {
        if (this.spinner) this.spinner.text = this.render();
      }, 1000);
    } else {
      this.spinner.text = this.render();
    }
  }

  /** Remove the line (before the container's output takes the terminal). */
  stop(finalMessage?: string): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.spinner) {
      this.spinner.stop();
      this.spinner = undefined;
    }
    this.started = 0;
    if (finalMessage) this.ui.note(finalMessage);
  }

  private render(): string {
    const s = Math.floor((Date.now() - this.started) / 1000);
    return `${this.text}… ${this.ui.color.dim(`${s}s`)}`;
  }
}
