/** What a CLI command may touch of the outside world; tests pass their own. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The exit code the process ends with; commands set it, the last one wins. */
  exitCode: number;
  /** Set when stderr is a terminal: progress bars redraw one line there. */
  tty?: { write(text: string): void; columns: number } | undefined;
}

export const processIo = (): CliIo => ({
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  env: process.env,
  cwd: process.cwd(),
  exitCode: 0,
  tty:
    process.stderr.isTTY && process.env['CI'] !== 'true'
      ? { write: (text) => process.stderr.write(text), columns: process.stderr.columns || 80 }
      : undefined,
});

/** Exit codes: 0 ok, 1 failure, 2 invalid input (e.g. an invalid charter). */
export const EXIT = { ok: 0, failure: 1, invalid: 2 } as const;
