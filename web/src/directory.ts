import { useEffect, useState } from 'react';
import { api, type CharterSummary } from './api';

/**
 * Names for the ids the API returns (people, teams), read once per page load
 * from the charter. Pages render ids until it arrives, so it never delays them.
 */
export interface Directory {
  person(id: string | null | undefined): string | null;
  team(id: string | null | undefined): string | null;
  teams: { id: string; name: string; components: string[] }[];
  severities: string[];
}

const DEFAULT_SEVERITIES = ['critical', 'high', 'medium', 'low'];

const build = (charter: CharterSummary | null): Directory => {
  const people = new Map((charter?.people ?? []).map((p) => [p.id, p.name]));
  const teams = (charter?.teams ?? []).map((t) => ({ id: t.id, name: t.name, components: t.components ?? [] }));
  const teamNames = new Map(teams.map((t) => [t.id, t.name]));
  const severities = charter?.response_targets ? Object.keys(charter.response_targets) : [];
  return {
    person: (id) => (id ? (people.get(id) ?? id) : null),
    team: (id) => (id ? (teamNames.get(id) ?? id) : null),
    teams,
    severities: severities.length > 0 ? severities : DEFAULT_SEVERITIES,
  };
};

const EMPTY = build(null);
let cached: Directory | null = null;
let pending: Promise<Directory> | null = null;

const loadDirectory = (): Promise<Directory> => {
  pending ??= api.charter().then(
    (charter) => (cached = build(charter)),
    () => {
      pending = null; // try again on the next page that asks
      return EMPTY;
    },
  );
  return pending;
};

/** Forgets the names, e.g. after signing out, so the next person loads their own. */
export const resetDirectory = (): void => {
  cached = null;
  pending = null;
};

export const useDirectory = (enabled = true): Directory => {
  const [directory, setDirectory] = useState<Directory>(cached ?? EMPTY);
  useEffect(() => {
    if (!enabled || cached) return;
    let live = true;
    void loadDirectory().then((d) => {
      if (live) setDirectory(d);
    });
    return () => {
      live = false;
    };
  }, [enabled]);
  return cached ?? directory;
};
