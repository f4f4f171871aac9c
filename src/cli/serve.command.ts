import type { Command } from 'commander';
import type { CliIo } from './io.js';

/** `lanes serve`, `lanes rebuild` — filled in with the server (#2). */
export const registerServeCommands = (program: Command, io: CliIo): void => {
  void program;
  void io;
};
