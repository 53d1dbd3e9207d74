import { describe, expect, it } from 'vitest';

import {
  formatMatchers,
  makeMatcher,
  MatcherParseError,
  matchersFromLabels,
  parseMatchers,
  silenceLinkFor,
} from './matchers';

describe('matchers', () => {
  it('parses the Alertmanager text form', () => {
    expect(parseMatchers('{alertname="Foo", severity=~"crit|page", env!="dev", team!~"a.*"}')).toEqual([
      makeMatcher('alertname', '=', 'Foo'),
      makeMatcher('severity', '=~', 'crit|page'),
      makeMatcher('env', '!=', 'dev'),
      makeMatcher('team', '!~', 'a.*'),
    ]);
  });
  it('accepts no braces, bare values, escapes and empty input', () => {
    expect(parseMatchers('job=api, instance = "a:1"')).toEqual([makeMatcher('job', '=', 'api'), makeMatcher('instance', '=', 'a:1')]);
    expect(parseMatchers('{msg="say \\"hi\\"\\nnow, \\\\ok"}')).toEqual([makeMatcher('msg', '=', 'say "hi"\nnow, \\ok')]);
    expect(parseMatchers('')).toEqual([]);
    expect(parseMatchers('{}')).toEqual([]);
  });
  it('reports what is wrong', () => {
    for (const bad of ['{a="1"', '1a="x"', 'a~"x"', 'a="x" b="y"', 'a="unterminated']) {
      expect(() => parseMatchers(bad), bad).toThrow(MatcherParseError);
    }
  });
  it('round-trips through the text form', () => {
    const ms = [makeMatcher('alertname', '=', 'A "quoted" name'), makeMatcher('x', '!~', 'a\\d+')];
    expect(parseMatchers(formatMatchers(ms))).toEqual(ms);
  });
  it('builds one-click silence links from alert labels, alertname first', () => {
    const labels = { severity: 'page', alertname: 'Down', job: 'api' };
    expect(matchersFromLabels(labels).map((m) => m.name)).toEqual(['alertname', 'job', 'severity']);
    const url = new URL(silenceLinkFor(labels), 'http://x');
    expect(url.pathname).toBe('/silences');
    expect(url.searchParams.get('create')).toBe('1');
    expect(parseMatchers(url.searchParams.get('matchers') ?? '')).toEqual(matchersFromLabels(labels));
  });
});
