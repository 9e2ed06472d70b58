/**
 * Where `troupe top`'s lines go. On a terminal each frame replaces the last
 * (cursor home, clear screen, cursor hidden; shown again on exit, however it
 * ends). Anywhere else (a pipe, a file, a CI log) each frame is a plain
 * block of lines with a blank line after it, and no escape codes at all.
 */

const HOME_AND_CLEAR = '\x1b[H\x1b[2J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

export interface Screen {
  draw(lines: readonly string[]): void;
  /** Leaves the terminal as it was found; safe to call twice. */
  restore(): void;
}

/** `plain`: lines even on a terminal (--once, whose output is for scripts). */
export function screenFor(out: NodeJS.WriteStream, plain = false): Screen {
  return out.isTTY === true && !plain ? new TerminalScreen(out) : new PlainScreen(out);
}

class TerminalScreen implements Screen {
  private hidden = false;
  constructor(private readonly out: NodeJS.WriteStream) {}

  draw(lines: readonly string[]): void {
    // Cut to the terminal's width: a wrapped line would push the frame past the screen and scroll it.
    const width = this.out.columns ?? 0;
    const fitted = width > 0 ? lines.map((l) => (l.length > width ? l.slice(0, width) : l)) : lines;
    this.out.write(`${this.hidden ? '' : HIDE_CURSOR}${HOME_AND_CLEAR}${fitted.join('\n')}\n`);
    this.hidden = true;
  }

  restore(): void {
    if (!this.hidden) return;
    this.hidden = false;
    this.out.write(SHOW_CURSOR);
  }
}

class PlainScreen implements Screen {
  constructor(private readonly out: NodeJS.WriteStream) {}

  draw(lines: readonly string[]): void {
    this.out.write(`${lines.join('\n')}\n\n`);
  }

  restore(): void {}
}
