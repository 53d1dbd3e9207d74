// Alerts: every alerting rule with its firing and pending alerts (labels, annotations,
// active since, value), filterable by state. Each alert has a one-click "Silence" button.

import { prom, type Alert, type AlertingRule, type RuleGroup } from '../api';
import { badge, debounce, errorBox, h, labelChips, link, loading, setChildren } from '../dom';
import { apiTime, formatDuration, formatRelative, formatTime } from '../format';
import type { Cleanup } from '../main';
import { silenceLinkFor } from '../matchers';
import { replaceSearch } from '../nav';
import { queryLink } from '../urlstate';

type State = 'firing' | 'pending' | 'inactive';
const STATES: State[] = ['firing', 'pending', 'inactive'];
const STATE_BADGE: Record<State, string> = { firing: 'err', pending: 'warn', inactive: 'ok' };

function ruleDefinition(r: AlertingRule): HTMLElement {
  const line = (k: string, v: HTMLElement | string) => h('div', null, h('span', { class: 'k' }, `${k}: `), v);
  return h(
    'div',
    { class: 'def' },
    line('alert', r.name),
    line('expr', link(queryLink(r.query), r.query)),
    r.duration ? line('for', formatDuration(r.duration * 1000)) : null,
    r.keepFiringFor ? line('keep_firing_for', formatDuration(r.keepFiringFor * 1000)) : null,
    r.labels && Object.keys(r.labels).length ? line('labels', labelChips(r.labels)) : null,
    r.annotations && Object.keys(r.annotations).length
      ? h(
          'div',
          null,
          h('span', { class: 'k' }, 'annotations:'),
          Object.entries(r.annotations).map(([k, v]) => h('div', { style: 'padding-left:16px' }, `${k}: ${v}`)),
        )
      : null,
    r.lastError ? h('div', { class: 'err-text' }, `error: ${r.lastError}`) : null,
  );
}

function alertRow(a: Alert, now: number): HTMLElement {
  const since = apiTime(a.activeAt);
  return h(
    'tr',
    { 'data-state': a.state },
    h(
      'td',
      null,
      labelChips(a.labels),
      Object.keys(a.annotations ?? {}).length
        ? h(
            'div',
            { class: 'muted', style: 'margin-top:4px' },
            Object.entries(a.annotations).map(([k, v]) => h('div', null, h('b', null, `${k}: `), v)),
          )
        : null,
    ),
    h('td', null, badge(a.state, STATE_BADGE[a.state] ?? 'muted')),
    h('td', { class: 'nowrap', title: since !== null ? `${formatTime(since)} UTC` : '' }, since !== null ? formatRelative(since, now) : '-'),
    h('td', { class: 'num' }, a.value),
    h('td', null, h('a', { href: silenceLinkFor(a.labels), 'data-link': true, class: 'btn small silence' }, 'Silence')),
  );
}

export function render(root: HTMLElement, params: URLSearchParams): Cleanup {
  const shownStates = new Set<State>(
    (params.get('state') ?? 'firing,pending,inactive').split(',').filter((s): s is State => STATES.includes(s as State)),
  );
  const filter = h('input', { class: 'filter', type: 'search', placeholder: 'Filter by name or label', value: params.get('search') ?? '' });
  const toggles = h('span', { class: 'toolbar' });
  const body = h('div', null, loading());
  let rules: { group: RuleGroup; rule: AlertingRule }[] = [];
  let loadedAt = Date.now();
  let alive = true;

  const draw = () => {
    if (!alive) return;
    const text = filter.value.trim().toLowerCase();
    const q = new URLSearchParams();
    if (shownStates.size !== STATES.length) q.set('state', [...shownStates].join(','));
    if (text) q.set('search', text);
    replaceSearch(q.toString());

    const counts: Record<State, number> = { firing: 0, pending: 0, inactive: 0 };
    for (const { rule } of rules) counts[rule.state] = (counts[rule.state] ?? 0) + 1;
    setChildren(
      toggles,
      STATES.map((s) =>
        h(
          'label',
          { class: 'check' },
          h('input', {
            type: 'checkbox',
            checked: shownStates.has(s),
            onchange: () => {
              if (shownStates.has(s)) shownStates.delete(s);
              else shownStates.add(s);
              draw();
            },
          }),
          badge(`${s} (${counts[s]})`, STATE_BADGE[s]),
        ),
      ),
    );

    const matches = ({ rule }: { rule: AlertingRule }) =>
      text === '' ||
      rule.name.toLowerCase().includes(text) ||
      (rule.alerts ?? []).some((a) => Object.entries(a.labels).some(([k, v]) => `${k}="${v}"`.toLowerCase().includes(text)));
    const shown = rules.filter((r) => shownStates.has(r.rule.state) && matches(r));
    const cards = shown.map(({ group, rule }) => {
      const alerts = rule.alerts ?? [];
      const card = h(
        'div',
        { class: rule.state === 'inactive' ? 'card collapsed' : 'card', 'data-rule': rule.name },
        h(
          'div',
          { class: 'card-head clickable', onclick: () => card.classList.toggle('collapsed') },
          h('span', { class: 'caret' }, '▶'),
          h('h2', null, rule.name),
          badge(rule.state, STATE_BADGE[rule.state] ?? 'muted'),
          alerts.length ? h('span', { class: 'muted' }, `${alerts.length} active`) : null,
          h('span', { class: 'spacer' }),
          h('span', { class: 'muted' }, `${group.file} › ${group.name}`),
        ),
        h(
          'div',
          { class: 'card-body' },
          ruleDefinition(rule),
          alerts.length
            ? h(
                'table',
                { class: 'data' },
                h('thead', null, h('tr', null, ['Labels', 'State', 'Active since', 'Value', ''].map((c) => h('th', null, c)))),
                h('tbody', null, alerts.map((a) => alertRow(a, loadedAt))),
              )
            : null,
        ),
      );
      return card;
    });
    setChildren(body, cards.length ? cards : h('div', { class: 'empty' }, rules.length ? 'No alerting rule matches.' : 'No alerting rules.'));
  };

  const load = async () => {
    try {
      const res = await prom<{ groups: RuleGroup[] }>('rules', { type: 'alert' });
      rules = [];
      for (const group of res.data.groups ?? []) {
        for (const rule of group.rules) if (rule.type === 'alerting') rules.push({ group, rule });
      }
      loadedAt = Date.now();
      draw();
    } catch (e) {
      if (alive) setChildren(body, errorBox(`Cannot load alerting rules: ${(e as Error).message}`));
    }
  };

  filter.addEventListener('input', debounce(draw, 150));
  root.append(
    h(
      'div',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', null, 'Alerts'),
        toggles,
        filter,
        h('button', { type: 'button', onclick: () => void load() }, 'Refresh'),
      ),
      body,
    ),
  );
  void load();
  return () => {
    alive = false;
  };
}
