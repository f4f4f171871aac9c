#!/usr/bin/env node
// Entry point for `npx lanes`: runs the compiled CLI (built by `npm ci` via the prepare script).
import { runCli } from '../dist/cli/main.js';

process.exitCode = await runCli(process.argv);
