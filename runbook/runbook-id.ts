// Runbook ids: what the server accepts, and the id it derives from a runbook's name.

export const RUNBOOK_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function slugify(name: string): string {
  return (
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'runbook'
  );
}
