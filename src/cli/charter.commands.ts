import { isAbsolute, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { charterJsonSchema } from '../domain/charter.schema.js';
import { mergeDomains } from '../domain/charter.validate.js';
import { isAppError } from '../domain/errors.js';
import { answerWhoDecides, renderWhoDecides } from '../domain/who-decides.js';
import { formatIssues, initCharter, loadCharterFile, type CharterFileResult } from '../services/charter.service.js';
import { EXIT, type CliIo } from './io.js';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The charter path to use and how to show it: relative to the working directory when inside it. */
const charterPath = (io: CliIo, file: string | undefined): { path: string; display: string } => {
  const path = resolve(io.cwd, file ?? io.env['LANES_CHARTER'] ?? 'lanes.yaml');
  const rel = relative(io.cwd, path);
  return { path, display: rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path };
};

/**
 * Loads the charter for a command, printing a missing file as an invalid-input
 * error (exit 2) rather than letting it become a generic failure.
 */
const loadForCommand = async (
  io: CliIo,
  file: string | undefined,
  now: Date,
): Promise<(CharterFileResult & { display: string }) | undefined> => {
  const { path, display } = charterPath(io, file);
  try {
    return { ...(await loadCharterFile(path, now, display)), display };
  } catch (error) {
    if (isAppError(error) && error.code === 'LANES_CHARTER_NOT_FOUND') {
      io.err(`error ${error.code}: ${error.message}`);
      io.exitCode = EXIT.invalid;
      return undefined;
    }
    throw error;
  }
};

/** `lanes init | check | schema | who-decides`. The clock is read here and passed down. */
export const registerCharterCommands = (program: Command, io: CliIo): void => {
  program
    .command('init')
    .description('Write a commented starter lanes.yaml')
    .argument('[file]', 'where to write it', 'lanes.yaml')
    .action(async (file: string) => {
      const { path, display } = charterPath(io, file);
      await initCharter(path);
      io.out(
        [
          `✓ Wrote ${display}: a starter charter with 1 team, 5 people, one per-team override and one delegation.`,
          'Next steps:',
          `  1. Edit ${display}: your people, teams and the decisions that differ from the catalog.`,
          `  2. lanes check ${display}`,
          '  3. lanes schema > lanes.schema.json   (completion and checks in your editor)',
          '  4. lanes who-decides "who sets the priority of a bug?"',
        ].join('\n'),
      );
      io.exitCode = EXIT.ok;
    });

  program
    .command('check')
    .description('Validate lanes.yaml; errors are printed as file:line:col')
    .argument('[file]', 'the charter (default: $LANES_CHARTER or ./lanes.yaml)')
    .action(async (file: string | undefined) => {
      const result = await loadForCommand(io, file, new Date());
      if (!result) return;
      const { issues, loaded, display } = result;
      if (issues.length > 0) {
        io.err(formatIssues(issues));
        io.err(`✗ ${display}: ${plural(issues.length, 'issue')}.`);
        io.exitCode = EXIT.invalid;
        return;
      }
      if (!loaded) {
        // Unreachable: a charter with no issues is always usable. Kept so a future change cannot print ✓ by mistake.
        io.exitCode = EXIT.invalid;
        return;
      }
      const { charter } = loaded;
      io.out(
        `✓ ${display} is valid: ${plural(charter.teams.length, 'team')}, ${plural(charter.people.length, 'person', 'people')}, ${plural(mergeDomains(charter).length, 'domain')}`,
      );
      io.exitCode = EXIT.ok;
    });

  program
    .command('schema')
    .description('Print the JSON Schema of lanes.yaml (for editor completion)')
    .action(() => {
      io.out(JSON.stringify(charterJsonSchema(), null, 2));
      io.exitCode = EXIT.ok;
    });

  program
    .command('who-decides')
    .description('Answer "who decides …?" from the charter, per team')
    .argument('<question...>', 'the question, in your own words')
    .option('--file <path>', 'the charter (default: $LANES_CHARTER or ./lanes.yaml)')
    .option('--json', 'print the answer as JSON')
    .action(async (words: string[], flags: { file?: string; json?: boolean }) => {
      const now = new Date();
      const result = await loadForCommand(io, flags.file, now);
      if (!result) return;
      if (!result.loaded) {
        io.err(formatIssues(result.issues));
        io.err(`✗ ${result.display} has errors; fix them (lanes check) and ask again.`);
        io.exitCode = EXIT.invalid;
        return;
      }
      if (result.issues.length > 0)
        io.err(`note: ${plural(result.issues.length, 'delegation')} in ${result.display} expired; see lanes check.`);
      const answer = answerWhoDecides(result.loaded.charter, words.join(' '), now);
      io.out(flags.json ? JSON.stringify(answer, null, 2) : renderWhoDecides(answer));
      io.exitCode = answer.matched ? EXIT.ok : EXIT.failure;
    });
};
