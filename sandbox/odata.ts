// OData query options the way Graph's directory endpoints apply them: $filter (eq, ne, gt, ge, lt,
// le, in, not, and, or, startswith, endswith, any, all, $count), $select, $top, $orderby, $search,
// $count, and server-driven paging with @odata.nextLink.
import { GraphError, badOData } from './errors.ts';

type Node =
  | { t: 'or' | 'and'; l: Node; r: Node }
  | { t: 'not'; e: Node }
  | { t: 'cmp'; op: string; l: Node; r: Node }
  | { t: 'in'; l: Node; list: Node[] }
  | { t: 'call'; name: string; args: Node[] }
  | { t: 'lambda'; kind: 'any' | 'all'; path: string[]; v: string; body: Node }
  | { t: 'path'; path: string[] }
  | { t: 'lit'; value: unknown };

interface Tok {
  k: 'punc' | 'str' | 'num' | 'id' | 'lit';
  v: string;
  value?: unknown;
  pos: number;
}

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const DATE_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?/;

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const fail = (): never => {
    throw badOData(`Invalid filter clause: Syntax error at position ${i} in '${src}'.`);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if ('(),:/'.includes(c)) {
      toks.push({ k: 'punc', v: c, pos: i });
      i++;
      continue;
    }
    if (c === "'") {
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) fail();
        if (src[j] === "'") {
          if (src[j + 1] === "'") {
            s += "'";
            j += 2;
            continue;
          }
          break;
        }
        s += src[j];
        j++;
      }
      toks.push({ k: 'str', v: s, value: s, pos: i });
      i = j + 1;
      continue;
    }
    const rest = src.slice(i);
    const guid = GUID_RE.exec(rest);
    if (guid) {
      toks.push({ k: 'lit', v: guid[0], value: guid[0].toLowerCase(), pos: i });
      i += guid[0].length;
      continue;
    }
    const date = DATE_RE.exec(rest);
    if (date && date[1]) {
      toks.push({ k: 'lit', v: date[0], value: date[0], pos: i });
      i += date[0].length;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(rest);
    if (num) {
      toks.push({ k: 'num', v: num[0], value: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_$@][\w.$@#-]*/.exec(rest);
    if (id) {
      toks.push({ k: 'id', v: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    fail();
  }
  return toks;
}

const CMP_OPS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCS = new Set(['startswith', 'endswith', 'contains']);

export interface ParsedFilter {
  node: Node;
  /** Operators Graph accepts only as an advanced query (ConsistencyLevel: eventual + $count=true). */
  advanced: string[];
  properties: string[];
}

export function parseFilter(src: string): ParsedFilter {
  const toks = tokenize(src);
  let p = 0;
  const advanced = new Set<string>();
  const properties = new Set<string>();
  const lambdaVars: string[] = [];
  const fail = (): never => {
    const pos = toks[p]?.pos ?? src.length;
    throw badOData(`Invalid filter clause: Syntax error at position ${pos} in '${src}'.`);
  };
  const peek = (): Tok | undefined => toks[p];
  const isWord = (w: string): boolean => peek()?.k === 'id' && peek()!.v.toLowerCase() === w;
  const expect = (v: string): void => {
    if (peek()?.v !== v) fail();
    p++;
  };

  const parseOr = (): Node => {
    let l = parseAnd();
    while (isWord('or')) {
      p++;
      l = { t: 'or', l, r: parseAnd() };
    }
    return l;
  };
  const parseAnd = (): Node => {
    let l = parseUnary();
    while (isWord('and')) {
      p++;
      l = { t: 'and', l, r: parseUnary() };
    }
    return l;
  };
  const parseUnary = (): Node => {
    if (isWord('not')) {
      p++;
      advanced.add('not');
      return { t: 'not', e: parseUnary() };
    }
    return parseComparison();
  };
  const parseComparison = (): Node => {
    const l = parseOperand();
    const t = peek();
    if (t?.k === 'id' && CMP_OPS.has(t.v.toLowerCase())) {
      p++;
      const op = t.v.toLowerCase();
      if (op === 'ne') advanced.add('ne');
      return { t: 'cmp', op, l, r: parseOperand() };
    }
    if (t?.k === 'id' && t.v.toLowerCase() === 'in') {
      p++;
      expect('(');
      const list: Node[] = [];
      if (peek()?.v !== ')') {
        list.push(parseOperand());
        while (peek()?.v === ',') {
          p++;
          list.push(parseOperand());
        }
      }
      expect(')');
      return { t: 'in', l, list };
    }
    return l;
  };
  const parseOperand = (): Node => {
    const t = peek();
    if (!t) return fail();
    if (t.v === '(') {
      p++;
      const e = parseOr();
      expect(')');
      return e;
    }
    if (t.k === 'str' || t.k === 'num' || t.k === 'lit') {
      p++;
      return { t: 'lit', value: t.value };
    }
    if (t.k !== 'id') return fail();
    const word = t.v.toLowerCase();
    if (word === 'true' || word === 'false' || word === 'null') {
      p++;
      return { t: 'lit', value: word === 'null' ? null : word === 'true' };
    }
    if (FUNCS.has(word) && toks[p + 1]?.v === '(') {
      p += 2;
      if (word === 'endswith') advanced.add('endsWith');
      const args: Node[] = [parseOperand()];
      while (peek()?.v === ',') {
        p++;
        args.push(parseOperand());
      }
      expect(')');
      return { t: 'call', name: word, args };
    }
    // A property path, possibly ending in a lambda (any/all) or $count.
    const path: string[] = [t.v];
    p++;
    while (peek()?.v === '/') {
      p++;
      const seg = peek();
      if (!seg || seg.k !== 'id') return fail();
      p++;
      const segWord = seg.v.toLowerCase();
      if ((segWord === 'any' || segWord === 'all') && peek()?.v === '(') {
        p++;
        if (peek()?.v === ')') {
          p++;
          return { t: 'lambda', kind: segWord, path, v: '', body: { t: 'lit', value: true } };
        }
        const v = peek();
        if (!v || v.k !== 'id') return fail();
        p++;
        expect(':');
        lambdaVars.push(v.v);
        const body = parseOr();
        lambdaVars.pop();
        expect(')');
        if (!lambdaVars.length) properties.add(path[0]!);
        return { t: 'lambda', kind: segWord, path, v: v.v, body };
      }
      if (segWord === '$count') advanced.add('$count');
      path.push(seg.v);
    }
    if (!lambdaVars.includes(path[0]!)) properties.add(path[0]!);
    return { t: 'path', path };
  };

  const node = parseOr();
  if (p !== toks.length) fail();
  return { node, advanced: [...advanced], properties: [...properties] };
}

function getPath(obj: unknown, path: string[], scope: Map<string, unknown>): unknown {
  let cur: unknown;
  let rest = path;
  if (scope.has(path[0]!)) {
    cur = scope.get(path[0]!);
    rest = path.slice(1);
  } else cur = obj;
  for (const seg of rest) {
    if (seg === '$count') return Array.isArray(cur) ? cur.length : 0;
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    const rec = cur as Record<string, unknown>;
    cur = seg in rec ? rec[seg] : rec[Object.keys(rec).find((k) => k.toLowerCase() === seg.toLowerCase()) ?? seg];
  }
  return cur;
}

const norm = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v === undefined ? null : v);

function compare(op: string, a: unknown, b: unknown): boolean {
  const x = norm(a);
  const y = norm(b);
  if (Array.isArray(x)) return op === 'eq' ? x.some((e) => norm(e) === y) : op === 'ne' ? !x.some((e) => norm(e) === y) : false;
  switch (op) {
    case 'eq':
      return x === y;
    case 'ne':
      return x !== y;
  }
  if (x === null || y === null) return false;
  const [l, r] = typeof x === 'string' && typeof y === 'string' && DATE_RE.test(x) && DATE_RE.test(y) ? [Date.parse(x), Date.parse(y)] : [x as number, y as number];
  switch (op) {
    case 'gt':
      return l > r;
    case 'ge':
      return l >= r;
    case 'lt':
      return l < r;
    case 'le':
      return l <= r;
  }
  return false;
}

function evaluate(n: Node, obj: unknown, scope: Map<string, unknown>): unknown {
  switch (n.t) {
    case 'lit':
      return n.value;
    case 'path':
      return getPath(obj, n.path, scope);
    case 'or':
      return Boolean(evaluate(n.l, obj, scope)) || Boolean(evaluate(n.r, obj, scope));
    case 'and':
      return Boolean(evaluate(n.l, obj, scope)) && Boolean(evaluate(n.r, obj, scope));
    case 'not':
      return !evaluate(n.e, obj, scope);
    case 'cmp':
      return compare(n.op, evaluate(n.l, obj, scope), evaluate(n.r, obj, scope));
    case 'in': {
      const v = evaluate(n.l, obj, scope);
      return n.list.some((item) => compare('eq', v, evaluate(item, obj, scope)));
    }
    case 'call': {
      const [a, b] = n.args.map((arg) => evaluate(arg, obj, scope));
      const s = typeof a === 'string' ? a.toLowerCase() : null;
      const needle = typeof b === 'string' ? b.toLowerCase() : '';
      if (s === null) return false;
      if (n.name === 'startswith') return s.startsWith(needle);
      if (n.name === 'endswith') return s.endsWith(needle);
      return s.includes(needle);
    }
    case 'lambda': {
      const coll = getPath(obj, n.path, scope);
      const items = Array.isArray(coll) ? coll : [];
      const test = (item: unknown): boolean => {
        const inner = new Map(scope);
        inner.set(n.v, item);
        return Boolean(evaluate(n.body, obj, inner));
      };
      return n.kind === 'any' ? items.some(test) : items.every(test);
    }
  }
}

export function filterPredicate(parsed: ParsedFilter): (obj: unknown) => boolean {
  return (obj) => Boolean(evaluate(parsed.node, obj, new Map()));
}

// ---- query options ----

export interface QueryOptions {
  filter?: ParsedFilter;
  select?: string[];
  top?: number;
  skip: number;
  count: boolean;
  search?: (obj: Record<string, unknown>) => boolean;
  orderBy?: { prop: string; desc: boolean }[];
  expand?: { name: string; select?: string[] }[];
  advancedHeader: boolean;
  type: TypeInfo;
}

export interface TypeInfo {
  /** e.g. microsoft.graph.user */
  name: string;
  properties: ReadonlySet<string>;
  /** Returned when $select is absent (Graph returns a reduced default set for users). */
  defaults?: readonly string[];
  maxTop?: number;
  /** Operators that need the advanced-query headers on this type. */
  advancedOnly?: boolean;
}

const lowerSet = (names: Iterable<string>): Map<string, string> => new Map([...names].map((n) => [n.toLowerCase(), n]));

export function unknownProperty(prop: string, type: TypeInfo): GraphError {
  return new GraphError(400, 'Request_BadRequest', `Could not find a property named '${prop}' on type '${type.name}'.`);
}

export function parseSearch(raw: string): (obj: Record<string, unknown>) => boolean {
  // $search="displayName:adele" OR "mail:adele": tokenised prefix match on words, clauses joined by AND/OR.
  const parts = raw.split(/\s+(AND|OR)\s+/);
  const clauses: { prop: string; term: string }[] = [];
  const joins: string[] = [];
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      joins.push(part);
      return;
    }
    const m = /^"([^":]+):([^"]*)"$/.exec(part.trim());
    if (!m) throw new GraphError(400, 'Request_UnsupportedQuery', `Syntax error: character '${part.trim()[0] ?? ''}' is not valid at position 0 in '${raw}'.`);
    clauses.push({ prop: m[1]!, term: m[2]!.toLowerCase() });
  });
  const test = (obj: Record<string, unknown>, c: { prop: string; term: string }): boolean => {
    const v = obj[c.prop];
    if (typeof v !== 'string') return false;
    const lower = v.toLowerCase();
    if (lower.startsWith(c.term)) return true;
    return lower.split(/[\s._@-]+/).some((w) => w.startsWith(c.term));
  };
  return (obj) => {
    let result = test(obj, clauses[0]!);
    for (let i = 0; i < joins.length; i++) {
      const next = test(obj, clauses[i + 1]!);
      result = joins[i] === 'AND' ? result && next : result || next;
    }
    return result;
  };
}

export function advancedQueryError(what: string): GraphError {
  return new GraphError(
    400,
    'Request_UnsupportedQuery',
    `Operator '${what}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and the ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
  );
}

export function parseQuery(query: URLSearchParams, headers: Record<string, string | undefined>, type: TypeInfo): QueryOptions {
  const get = (name: string): string | null => query.get(name) ?? query.get(name.slice(1));
  const advancedHeader = (headers['consistencylevel'] ?? '').toLowerCase() === 'eventual';
  const props = lowerSet(type.properties);
  const checkProp = (p: string): string => {
    const found = props.get(p.toLowerCase());
    if (!found) throw unknownProperty(p, type);
    return found;
  };
  const opts: QueryOptions = { skip: 0, count: false, advancedHeader, type };

  const count = get('$count');
  if (count !== null) {
    if (count !== 'true' && count !== 'false') throw badOData(`Invalid value '${count}' for $count query option found. The $count query option requires a Boolean value.`);
    opts.count = count === 'true';
    if (opts.count && !advancedHeader && type.advancedOnly) throw new GraphError(400, 'Request_BadRequest', '$count is not currently supported.');
  }

  const filter = get('$filter');
  if (filter !== null) {
    opts.filter = parseFilter(filter);
    for (const p of opts.filter.properties) checkProp(p);
    if (type.advancedOnly && opts.filter.advanced.length && !(advancedHeader && opts.count)) throw advancedQueryError(opts.filter.advanced[0]!);
  }

  const select = get('$select');
  if (select !== null) opts.select = select.split(',').map((s) => s.trim()).filter(Boolean).map(checkProp);

  const top = get('$top');
  if (top !== null) {
    const n = Number(top);
    const max = type.maxTop ?? 999;
    if (!Number.isInteger(n) || n < 1 || n > max) throw new GraphError(400, 'Request_BadRequest', `Invalid page size specified: '${top}'. Must be between 1 and ${max} inclusive.`);
    opts.top = n;
  }

  const skipToken = get('$skiptoken');
  if (skipToken !== null) opts.skip = decodeSkipToken(skipToken);

  const search = get('$search');
  if (search !== null) {
    if (!advancedHeader) throw new GraphError(400, 'Request_BadRequest', "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'");
    opts.search = parseSearch(search);
  }

  const orderBy = get('$orderby');
  if (orderBy !== null) {
    opts.orderBy = orderBy.split(',').map((part) => {
      const [prop = '', dir = 'asc'] = part.trim().split(/\s+/);
      return { prop: checkProp(prop), desc: dir.toLowerCase() === 'desc' };
    });
  }

  const expand = get('$expand');
  if (expand !== null) {
    // manager, members($select=id,displayName): commas inside parentheses belong to the option.
    opts.expand = (expand.match(/[^,(]+(\([^)]*\))?/g) ?? []).map((part) => {
      const m = /^\s*([\w.]+)\s*(?:\(\s*\$?select=([^)]*)\))?\s*$/i.exec(part);
      if (!m) throw badOData(`Invalid $expand clause '${part.trim()}'.`);
      return { name: m[1]!, ...(m[2] ? { select: m[2].split(',').map((x) => x.trim()).filter(Boolean) } : {}) };
    });
  }
  return opts;
}

export function encodeSkipToken(offset: number): string {
  return Buffer.from(`RFNwdAIAAQAAA${offset}`).toString('base64url');
}

function decodeSkipToken(token: string): number {
  const m = /^RFNwdAIAAQAAA(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
  if (!m) throw new GraphError(400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.');
  return Number(m[1]);
}

export function project(obj: Record<string, unknown>, select: readonly string[] | undefined, type: TypeInfo): Record<string, unknown> {
  const keys = select ?? type.defaults;
  if (!keys) return obj;
  const out: Record<string, unknown> = {};
  if ('@odata.type' in obj) out['@odata.type'] = obj['@odata.type'];
  if (!keys.includes('id') && 'id' in obj) out['id'] = obj['id'];
  for (const k of keys) out[k] = obj[k] ?? null;
  return out;
}

export interface Page {
  value: Record<string, unknown>[];
  count?: number;
  nextSkip?: number;
}

/**
 * Filter, search, order and page a collection. Predicates run on the stored objects (their public
 * property names are Graph's); `view` turns only the rows of the page into what the client sees.
 */
export function applyQuery<T extends object>(
  items: Iterable<T>,
  opts: QueryOptions,
  view: (item: T) => Record<string, unknown>,
  defaultTop = 100,
  after?: (item: T, projected: Record<string, unknown>) => Record<string, unknown>,
): Page {
  const pred = opts.filter ? filterPredicate(opts.filter) : undefined;
  const pageSize = opts.top ?? defaultTop;
  // Without $count or $orderby, stop as soon as we know whether there is a next page.
  const enough = opts.count || opts.orderBy ? Infinity : opts.skip + pageSize + 1;
  let rows: T[] = [];
  for (const it of items) {
    if ((!pred || pred(it)) && (!opts.search || opts.search(it as Record<string, unknown>))) {
      rows.push(it);
      if (rows.length >= enough) break;
    }
  }
  if (opts.orderBy) {
    const keys = opts.orderBy;
    rows = rows.sort((a, b) => {
      for (const k of keys) {
        const x = norm((a as Record<string, unknown>)[k.prop]);
        const y = norm((b as Record<string, unknown>)[k.prop]);
        if (x === y) continue;
        const c = x === null ? -1 : y === null ? 1 : (x as string) < (y as string) ? -1 : 1;
        return k.desc ? -c : c;
      }
      return 0;
    });
  }
  const page = rows.slice(opts.skip, opts.skip + pageSize).map((r) => {
    const projected = project(view(r), opts.select, opts.type);
    return after ? after(r, projected) : projected;
  });
  const nextSkip = opts.skip + pageSize < rows.length ? opts.skip + pageSize : undefined;
  return { value: page, ...(opts.count ? { count: rows.length } : {}), ...(nextSkip !== undefined ? { nextSkip } : {}) };
}
