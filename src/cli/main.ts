import { Command, CommanderError } from 'commander';
import { isAppError } from '../domain/errors.js';
import { registerAccessCommands } from './access.commands.js';
import { registerBackupCommands } from './backup.commands.js';
import { registerCharterCommands } from './charter.commands.js';
import { registerClassifyCommands } from './classify.commands.js';
import { registerConnectorCommands } from './connector.commands.js';
import { registerCoverageCommands } from './coverage.commands.js';
import { registerDemoCommand } from './demo.command.js';
import { registerEscalationCommands } from './escalation.commands.js';
import { registerNudgeCommands } from './nudge.commands.js';
import { EXIT, processIo, type CliIo } from './io.js';
import { registerReportCommands } from './report.commands.js';
import { registerServeCommands } from './serve.command.js';
import { registerSloCommands } from './slo.commands.js';

export const buildProgram = (io: CliIo): Command => {
  const program = new Command('lanes')
    .description('Lanes keeps the boundary between product and engineering clear.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerCharterCommands(program, io);
  registerDemoCommand(program, io);
  registerServeCommands(program, io);
  registerAccessCommands(program, io);
  registerConnectorCommands(program, io);
  registerNudgeCommands(program, io);
  registerReportCommands(program, io);
  registerEscalationCommands(program, io);
  registerSloCommands(program, io);
  registerCoverageCommands(program, io);
  registerBackupCommands(program, io);
  registerClassifyCommands(program, io);
  return program;
};

/** Runs the CLI and returns the exit code; never calls process.exit itself. */
export const runCli = async (argv: string[], io: CliIo = processIo()): Promise<number> => {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return io.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    }
    if (isAppError(error)) {
      io.err(`error ${error.code}: ${error.message}`);
      return error.code === 'LANES_CHARTER_INVALID' ||
        error.code === 'LANES_VALIDATION' ||
        error.code === 'LANES_SLO_INVALID' ||
        error.code === 'LANES_BACKUP_INVALID' ||
        error.code === 'LANES_ENGINE_UNSUPPORTED'
        ? EXIT.invalid
        : EXIT.failure;
    }
    io.err(`error LANES_INTERNAL: ${(error as Error).stack ?? String(error)}`);
    return EXIT.failure;
  }
};
