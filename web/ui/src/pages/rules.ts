// Rules: every rule group with its interval, last evaluation and duration, and each rule's
// health, last error, last evaluation and evaluation time.

import { prom, type Rule, type RuleGroup } from '../api';
import { badge, errorBox, h, labelChips, link, loading, setChildren } from '../dom';
import { apiTime, formatDuration, formatRelative, formatSeconds, formatTime } from '../format';
import type { Cleanup } from '../main';
import { queryLink } from '../urlstate';

const HEALTH_BADGE: Record<string, string> = { ok: 'ok', err: 'err', unknown: 'muted' };

function when(s: string | undefined, now: number): HTMLElement {
  const t = apiTime(s);
  return h('span', { title: t !== null ? `${formatTime(t)} UTC` : '' }, t !== null ? formatRelative(t, now) : 'never');
}

function ruleRow(r: Rule, now: number): HTMLElement {
  return h(
    'tr',
    { 'data-health': r.health },
    h(
      'td',
      { class: 'promql' },
      h('div', null, h('b', null, r.type === 'alerting' ? 'alert: ' : 'record: '), r.name),
      h('div', null, h('b', null, 'expr: '), link(queryLink(r.query), r.query)),
      r.type === 'alerting' && r.duration ? h('div', null, h('b', null, 'for: '), formatDuration(r.duration * 1000)) : null,
      r.labels && Object.keys(r.labels).length ? h('div', null, h('b', null, 'labels: '), labelChips(r.labels)) : null,
      r.lastError ? h('div', { class: 'err-text' }, r.lastError) : null,
    ),
    h('td', null, badge(r.health, HEALTH_BADGE[r.health] ?? 'muted')),
    h('td', { class: 'nowrap' }, when(r.lastEvaluation, now)),
    h('td', { class: 'num' }, r.evaluationTime !== undefined ? formatSeconds(r.evaluationTime) : '-'),
  );
}

export function render(root: HTMLElement): Cleanup {
  const body = h('div', null, loading());
  let alive = true;

  const load = async () => {
    try {
      const res = await prom<{ groups: RuleGroup[] }>('rules');
      if (!alive) return;
      const now = Date.now();
      const groups = res.data.groups ?? [];
      setChildren(
        body,
        groups.length === 0
          ? h('div', { class: 'empty' }, 'No rule groups are loaded.')
          : groups.map((g) => {
              const bad = g.rules.filter((r) => r.health === 'err').length;
              return h(
                'div',
                { class: 'card', 'data-group': g.name },
                h(
                  'div',
                  { class: 'card-head' },
                  h('h2', null, g.name),
                  bad ? badge(`${bad} failing`, 'err') : badge(`${g.rules.length} ok`, 'ok'),
                  h('span', { class: 'muted' }, g.file),
                  h('span', { class: 'spacer' }),
                  h('span', { class: 'muted' }, `every ${formatDuration(g.interval * 1000)}`),
                  h('span', { class: 'muted' }, 'last evaluation ', when(g.lastEvaluation, now)),
                  h('span', { class: 'muted' }, `took ${g.evaluationTime !== undefined ? formatSeconds(g.evaluationTime) : '-'}`),
                ),
                h(
                  'div',
                  { class: 'card-body flush' },
                  h(
                    'table',
                    { class: 'data' },
                    h(
                      'thead',
                      null,
                      h('tr', null, h('th', null, 'Rule'), h('th', null, 'Health'), h('th', null, 'Last evaluation'), h('th', { class: 'num' }, 'Duration')),
                    ),
                    h('tbody', null, g.rules.map((r) => ruleRow(r, now))),
                  ),
                ),
              );
            }),
      );
    } catch (e) {
      if (alive) setChildren(body, errorBox(`Cannot load rules: ${(e as Error).message}`));
    }
  };

  root.append(
    h(
      'div',
      { class: 'page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Rules'), h('button', { type: 'button', onclick: () => void load() }, 'Refresh')),
      body,
    ),
  );
  void load();
  return () => {
    alive = false;
  };
}
