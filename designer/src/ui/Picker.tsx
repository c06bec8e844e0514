// Pickers fed by the tenant, for the action forms and the run form: as a field that names a tenant's
// object (a user, a mailbox, a team, one of its channels, a site, ...) is typed, the tenant is
// searched and the matches are offered by their readable names; picking one puts the value the
// action expects (a user principal name, an id, a site's address) into the field, and says what was
// picked. An expression ("{{ ... }}") is left alone: nothing is searched.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { PickerKind } from '../../../catalog/fields.ts';
import { api, type PickOption } from '../api.ts';
import { parseList, pickerTerm, withPicked } from '../editor/forms.ts';

export const PICKER_NOUN: Record<PickerKind, string> = {
  user: 'user',
  group: 'group',
  licence: 'licence',
  mailbox: 'mailbox',
  sharedMailbox: 'shared mailbox',
  device: 'device',
  team: 'team',
  channel: 'channel',
  site: 'site',
  oneDrive: 'OneDrive',
  application: 'app registration',
  domain: 'domain',
};

export interface PickerContext {
  /** The tenant searched; the app's picker tenant when absent. */
  tenant?: string;
  /** Channel pickers: the team the channel belongs to (its id or exact name). */
  team?: string;
}

/** The tenant's matches for what is typed (debounced), and every option seen so far by value. */
export function usePicker(kind: PickerKind | undefined, text: string, list: boolean, ctx: PickerContext = {}) {
  const [options, setOptions] = useState<PickOption[]>([]);
  const seen = useRef(new Map<string, PickOption>());
  const term = pickerTerm(text, list);
  const team = ctx.team && !ctx.team.includes('{{') ? ctx.team : undefined;
  const idle = !kind || text.includes('{{') || (kind === 'channel' && !team);
  useEffect(() => {
    if (idle) return setOptions([]);
    // A value just picked is not searched for again (an id finds nothing by name).
    if (term && seen.current.has(term)) return;
    let live = true;
    const t = setTimeout(() => {
      api.pick(kind!, term, { tenant: ctx.tenant, team }).then(
        (o) => {
          if (!live) return;
          for (const x of o) seen.current.set(x.value, x);
          setOptions(o);
        },
        // A search that fails (the tenant cannot be reached) offers nothing; the field stays free text.
        () => live && setOptions([]),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [kind, term, team, ctx.tenant, idle]);
  return { options: idle ? [] : options, seen: seen.current };
}

/**
 * Wraps a field's input: while it has focus, the matches are listed (role listbox, named after the
 * kind); below it, what the value names.
 */
export function PickerBox({
  kind,
  text,
  list,
  ctx,
  onPick,
  children,
}: {
  kind: PickerKind | undefined;
  text: string;
  list: boolean;
  ctx?: PickerContext;
  onPick: (text: string) => void;
  children: ReactNode;
}) {
  const { options, seen } = usePicker(kind, text, list, ctx);
  const [open, setOpen] = useState(false);
  if (!kind) return <>{children}</>;
  const noun = PICKER_NOUN[kind];
  const picked = (list ? parseList(text) : [text.trim()]).map((v) => seen.get(v)).filter((o) => o !== undefined);
  const current = pickerTerm(text, list);
  const offered = options.filter((o) => o.value !== current);
  return (
    <div className="picker" onFocus={() => setOpen(true)} onBlur={() => setTimeout(() => setOpen(false), 150)}>
      {children}
      {open && offered.length > 0 && (
        <ul className="completions pick-list" role="listbox" aria-label={`${noun} choices`}>
          {offered.map((o) => (
            <li
              key={o.value}
              role="option"
              aria-selected={false}
              data-value={o.value}
              onMouseDown={(e) => {
                e.preventDefault();
                onPick(withPicked(text, o.value, list));
              }}
            >
              <span>{o.label}</span>
              <span className="muted small">{o.detail ?? (o.value !== o.label ? o.value : o.mail ?? '')}</span>
            </li>
          ))}
        </ul>
      )}
      {kind === 'channel' && !ctx?.team && <div className="muted small">Choose the team first to pick among its channels.</div>}
      {picked.length > 0 && (
        <div className="picked muted small" aria-live="polite">
          {picked.map((o) => `${noun}: ${o.label}${o.detail ? ` (${o.detail})` : ''}`).join('; ')}
        </div>
      )}
    </div>
  );
}
