import type { Command } from 'commander';
import type { CliIo } from './io.js';

/** `lanes init | check | schema | who-decides` — placeholder until the charter work lands (#2). */
export const registerCharterCommands = (program: Command, io: CliIo): void => {
  void program;
  void io;
};
