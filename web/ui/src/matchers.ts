// Label matchers as text (`{alertname="Foo", severity=~"crit|page"}`), the form Alertmanager
// and amtool use. Silences are created from them and the "Silence" buttons pass them in the
// URL. Pure functions, unit-tested.

import type { AmMatcher, Metric } from './api';
import { quoteLabelValue } from './format';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export function matcherOp(m: AmMatcher): MatchOp {
  const eq = m.isEqual ?? true;
  if (m.isRegex) return eq ? '=~' : '!~';
  return eq ? '=' : '!=';
}

export function makeMatcher(name: string, op: MatchOp, value: string): AmMatcher {
  return { name, value, isRegex: op === '=~' || op === '!~', isEqual: op === '=' || op === '=~' };
}

export function formatMatcher(m: AmMatcher): string {
  return `${m.name}${matcherOp(m)}${quoteLabelValue(m.value)}`;
}

export function formatMatchers(ms: AmMatcher[]): string {
  return `{${ms.map(formatMatcher).join(', ')}}`;
}

/** Equality matchers for every label of an alert, `alertname` first. */
export function matchersFromLabels(labels: Metric): AmMatcher[] {
  return Object.keys(labels)
    .sort((a, b) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a < b ? -1 : a > b ? 1 : 0))
    .map((k) => makeMatcher(k, '=', labels[k] ?? ''));
}

/** The silences page URL that opens the new-silence form with these matchers. */
export function silenceLinkFor(labels: Metric): string {
  return `/silences?${new URLSearchParams({ create: '1', matchers: formatMatchers(matchersFromLabels(labels)) })}`;
}

export class MatcherParseError extends Error {}

/**
 * Parses `{a="1", b=~"x|y"}` (braces optional). Values may be double-quoted with `\"`, `\\`
 * and `\n` escapes, or bare up to the next comma.
 */
export function parseMatchers(input: string): AmMatcher[] {
  let s = input.trim();
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) throw new MatcherParseError('missing closing "}"');
    s = s.slice(1, -1);
  }
  const out: AmMatcher[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < s.length && /\s/.test(s.charAt(i))) i++;
  };
  while (true) {
    skipSpace();
    if (i >= s.length) break;
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i))?.[0];
    if (!name) throw new MatcherParseError(`expected a label name at position ${i + 1}`);
    i += name.length;
    skipSpace();
    const op = /^(=~|!~|!=|=)/.exec(s.slice(i))?.[0] as MatchOp | undefined;
    if (!op) throw new MatcherParseError(`expected one of = != =~ !~ after "${name}"`);
    i += op.length;
    skipSpace();
    let value = '';
    if (s.charAt(i) === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s.charAt(i);
        if (c === '\\') {
          const n = s.charAt(i + 1);
          value += n === 'n' ? '\n' : n;
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new MatcherParseError(`unterminated value for "${name}"`);
    } else {
      const end = s.indexOf(',', i);
      value = (end < 0 ? s.slice(i) : s.slice(i, end)).trim();
      i = end < 0 ? s.length : end;
    }
    out.push(makeMatcher(name, op, value));
    skipSpace();
    if (i < s.length) {
      if (s.charAt(i) !== ',') throw new MatcherParseError(`expected "," at position ${i + 1}`);
      i++;
    }
  }
  return out;
}
