import { Change, CriticalityLevel, diff } from '@graphql-inspector/core';
import { buildSchema } from 'graphql';

/** A breaking change between two schemas, and whether CHANGELOG.md names it. */
export interface BreakingChange {
  /** Where, as graphql-inspector says it: `Query.foo`, `RecordPurchaseInput.amount`, `Member`. */
  path: string;
  message: string;
  named: boolean;
}

/**
 * The paths CHANGELOG.md names as breaking: on a line that starts with `- Breaking` (any case), each
 * path in backticks, e.g. "- Breaking: `Query.partnerStats` takes `periodStart` as a DateTime".
 * Paths only mentioned elsewhere (additions, deprecations) do not excuse a breaking change.
 */
export function namedBreakingPaths(changelog: string): Set<string> {
  const named = new Set<string>();
  for (const line of changelog.split('\n')) {
    if (!/^\s*[-*]\s*breaking\b/i.test(line)) continue;
    for (const match of line.matchAll(/`([^`]+)`/g)) named.add(match[1]!.trim());
  }
  return named;
}

/**
 * Compares `oldSdl` (the committed schema) with `newSdl` (what the code builds) with
 * @graphql-inspector/core and returns its breaking changes, each marked named when CHANGELOG.md
 * names its path (or a parent path: naming `Query.foo` covers `Query.foo.bar`).
 */
export async function breakingChanges(oldSdl: string, newSdl: string, changelog: string): Promise<BreakingChange[]> {
  const changes: Change[] = await diff(buildSchema(oldSdl), buildSchema(newSdl));
  const named = namedBreakingPaths(changelog);
  return changes
    .filter((change) => change.criticality.level === CriticalityLevel.Breaking)
    .map((change) => {
      const path = change.path ?? '';
      const parts = path.split('.');
      const covered = parts.some((_, i) => named.has(parts.slice(0, i + 1).join('.')));
      return { path, message: change.message, named: path !== '' && covered };
    });
}
