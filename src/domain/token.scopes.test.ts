import { describe, expect, it } from 'vitest';
import {
  defaultScopesFor,
  effectiveScopes,
  formatScopes,
  isTokenScope,
  parseScopes,
  scopesAllowSource,
  scopesMeet,
  scopesWithin,
} from './token.scopes.js';

describe('API token scopes', () => {
  it('defaults to what each role could do before scopes existed', () => {
    expect(defaultScopesFor('stakeholder')).toEqual(['read', 'write']);
    expect(defaultScopesFor('member')).toEqual(['read', 'write', 'events:write']);
    expect(defaultScopesFor('admin')).toEqual(['read', 'write', 'events:write', 'admin']);
  });

  it('knows its scopes and source-limited event scopes', () => {
    for (const scope of ['read', 'write', 'events:write', 'admin', 'events:write:deploys', 'events:write:ci.v2'])
      expect(isTokenScope(scope), scope).toBe(true);
    for (const scope of ['', 'root', 'events:write:', 'events:write:Deploys', 'events:read', 'read '])
      expect(isTokenScope(scope), scope).toBe(false);
  });

  it('bounds what a token may use by its user’s role now, not when it was made', () => {
    const granted = ['admin', 'events:write', 'read', 'write', 'nonsense'];
    expect(effectiveScopes(granted, 'admin')).toEqual(['admin', 'events:write', 'read', 'write']);
    expect(effectiveScopes(granted, 'member')).toEqual(['events:write', 'read', 'write']);
    expect(effectiveScopes(granted, 'stakeholder')).toEqual(['read', 'write']);
  });

  it('meets events:write with any source scope, and limits sources to those named', () => {
    expect(scopesMeet(['events:write:deploys'], 'events:write')).toBe(true);
    expect(scopesMeet(['events:write:deploys'], 'read')).toBe(false);
    expect(scopesMeet(['admin'], 'read')).toBe(false);
    expect(scopesAllowSource(['events:write:deploys'], 'deploys')).toBe(true);
    expect(scopesAllowSource(['events:write:deploys'], 'pagerduty')).toBe(false);
    expect(scopesAllowSource(['events:write'], 'pagerduty')).toBe(true);
  });

  it('lets a token grant only what it holds', () => {
    expect(scopesWithin(['read', 'events:write:ci'], ['read', 'events:write'])).toBe(true);
    expect(scopesWithin(['events:write'], ['events:write:ci'])).toBe(false);
    expect(scopesWithin(['admin'], ['read', 'write'])).toBe(false);
  });

  it('stores scopes sorted, unique and space-separated', () => {
    expect(formatScopes(['write', 'read', 'write'])).toBe('read write');
    expect(parseScopes('read write')).toEqual(['read', 'write']);
    expect(parseScopes('')).toEqual([]);
  });
});
