// Honest coverage: every management action the reference documents name, mapped to the catalog
// actions that do it, or to the reason it cannot be done through a documented Microsoft API.
// The mappings live in catalog/coverage/<workload>.json; docs/coverage.md is generated from them
// (scripts/gen-docs.ts) and test/coverage.test.ts checks them against the catalog.
import { readdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';

export const CoverageEntry = z.union([
  z.strictObject({ doc: z.string(), item: z.string().min(1), actions: z.array(z.string()).min(1) }),
  z.strictObject({ doc: z.string(), item: z.string().min(1), reason: z.string().min(10) }),
]);
export type CoverageEntry = z.infer<typeof CoverageEntry>;

/** The reference documents, by the number their file name starts with. */
export const REFERENCE_DOCUMENTS: Record<string, string> = {
  '000': 'Commercial M365 management suite, management actions (2019–2022 edition)',
  '001': 'The same suite, list of management actions (2024 edition)',
  '002': 'Open-source MSP portal, per-user actions',
  '003': 'User account management tool (single, bulk, templates, bulk modification)',
  '004': 'Identity service, task operations',
};

const DIR = new URL('./coverage/', import.meta.url);

export function loadCoverage(): { file: string; entries: CoverageEntry[] }[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, entries: z.array(CoverageEntry).parse(JSON.parse(readFileSync(new URL(file, DIR), 'utf8'))) }));
}

/** A title compared loosely: case, punctuation and spacing do not matter. */
export function normalizeItem(s: string): string {
  return s
    .toLowerCase()
    .replace(/[’'"‘“”()]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}
