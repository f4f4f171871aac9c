import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseSecretsFile } from './config.js';

describe('connector secrets', () => {
  it('reads KEY=value lines with comments, quotes and escaped newlines', () => {
    expect(
      parseSecretsFile(
        [
          '# GitHub',
          'LANES_GITHUB_WEBHOOK_SECRET=abc=def',
          "export LANES_JIRA_API_TOKEN='quoted token'",
          'LANES_GITHUB_APP_PRIVATE_KEY="-----BEGIN KEY-----\\nAAAA\\n-----END KEY-----"',
          'not a line',
          '',
        ].join('\n'),
      ),
    ).toEqual({
      LANES_GITHUB_WEBHOOK_SECRET: 'abc=def',
      LANES_JIRA_API_TOKEN: 'quoted token',
      LANES_GITHUB_APP_PRIVATE_KEY: '-----BEGIN KEY-----\nAAAA\n-----END KEY-----',
    });
  });

  it('takes secrets from LANES_SECRETS_FILE, lets the environment win, and ignores unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-secrets-'));
    writeFileSync(
      join(dir, 'secrets.env'),
      'LANES_GITHUB_WEBHOOK_SECRET=from-file\nLANES_LINEAR_API_KEY=lin_api_1\nSOMETHING_ELSE=x\n',
    );
    const config = loadConfig({ LANES_SECRETS_FILE: 'secrets.env', LANES_GITHUB_WEBHOOK_SECRET: 'from-env' }, dir);
    expect(config.secrets).toEqual({ LANES_GITHUB_WEBHOOK_SECRET: 'from-env', LANES_LINEAR_API_KEY: 'lin_api_1' });
    expect(Object.isFrozen(config.secrets)).toBe(true);
  });

  it('fails fast with a stable code when the secrets file cannot be read', () => {
    expect(() => loadConfig({ LANES_SECRETS_FILE: 'missing.env' }, tmpdir())).toThrow(
      expect.objectContaining({ code: 'LANES_CONFIG_INVALID' }),
    );
  });
});
