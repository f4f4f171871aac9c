import type { Command } from 'commander';
import type { CliIo } from './io.js';

/** `lanes demo` — placeholder until the demo generator lands (#2). */
export const registerDemoCommand = (program: Command, io: CliIo): void => {
  void program;
  void io;
};
