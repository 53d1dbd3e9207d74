// Targets: every active scrape target by pool, with health, labels, last scrape, duration
// and last error. Filterable by text and by health; the filter lives in the URL.

import { prom, type Target, type TargetsData } from '../api';
import { badge, debounce, errorBox, h, labelChips, loading, setChildren } from '../dom';
import { apiTime, formatRelative, formatSeconds } from '../format';
import type { Cleanup } from '../main';
import { replaceSearch } from '../nav';

const HEALTH_BADGE: Record<string, string> = { up: 'ok', down: 'err', unknown: 'muted' };

export function matchesTarget(t: Target, text: string): boolean {
  if (text === '') return true;
  const needle = text.toLowerCase();
  if (t.scrapeUrl.toLowerCase().includes(needle) || t.lastError.toLowerCase().includes(needle)) return true;
  return Object.entries(t.labels).some(([k, v]) => `${k}="${v}"`.toLowerCase().includes(needle));
}

function targetRow(t: Target, now: number): HTMLElement {
  const last = apiTime(t.lastScrape);
  return h(
    'tr',
    { 'data-health': t.health },
    h('td', null, h('a', { href: t.globalUrl || t.scrapeUrl, target: '_blank', rel: 'noopener' }, t.scrapeUrl)),
    h('td', null, badge(t.health, HEALTH_BADGE[t.health] ?? 'muted')),
    h('td', null, labelChips(t.labels)),
    h('td', { class: 'nowrap', title: t.lastScrape }, last !== null ? formatRelative(last, now) : 'never'),
    h('td', { class: 'num' }, last !== null ? formatSeconds(t.lastScrapeDuration) : '-'),
    h('td', null, t.lastError ? h('span', { class: 'err-text' }, t.lastError) : null),
  );
}

export function render(root: HTMLElement, params: URLSearchParams): Cleanup {
  const filter = h('input', {
    class: 'filter',
    type: 'search',
    placeholder: 'Filter by endpoint, label or error',
    value: params.get('search') ?? '',
  });
  const unhealthy = h('input', { type: 'checkbox', checked: params.get('health') === 'unhealthy' });
  const summary = h('span', { class: 'muted' });
  const body = h('div', null, loading());
  const collapsed = new Set<string>();
  let targets: Target[] = [];
  let loadedAt = Date.now();
  let alive = true;

  const draw = () => {
    if (!alive) return;
    const text = filter.value.trim();
    const onlyBad = unhealthy.checked;
    const q = new URLSearchParams();
    if (text) q.set('search', text);
    if (onlyBad) q.set('health', 'unhealthy');
    replaceSearch(q.toString());

    const pools = new Map<string, Target[]>();
    for (const t of targets) {
      const list = pools.get(t.scrapePool) ?? [];
      list.push(t);
      pools.set(t.scrapePool, list);
    }
    const up = targets.filter((t) => t.health === 'up').length;
    setChildren(summary, `${up} of ${targets.length} targets up in ${pools.size} pools`);
    const cards = [...pools.keys()].sort().map((pool) => {
      const all = pools.get(pool) ?? [];
      const shown = all.filter((t) => (!onlyBad || t.health !== 'up') && matchesTarget(t, text));
      if (shown.length === 0) return null;
      const poolUp = all.filter((t) => t.health === 'up').length;
      const card = h(
        'div',
        { class: collapsed.has(pool) ? 'card collapsed' : 'card', 'data-pool': pool },
        h(
          'div',
          {
            class: 'card-head clickable',
            onclick: () => {
              if (collapsed.has(pool)) collapsed.delete(pool);
              else collapsed.add(pool);
              card.classList.toggle('collapsed');
            },
          },
          h('span', { class: 'caret' }, '▶'),
          h('h2', null, pool),
          badge(`${poolUp} / ${all.length} up`, poolUp === all.length ? 'ok' : poolUp === 0 ? 'err' : 'warn'),
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
              h(
                'tr',
                null,
                ['Endpoint', 'State', 'Labels', 'Last scrape', 'Duration', 'Error'].map((c) =>
                  h('th', { class: c === 'Duration' ? 'num' : '' }, c),
                ),
              ),
            ),
            h('tbody', null, shown.map((t) => targetRow(t, loadedAt))),
          ),
        ),
      );
      return card;
    });
    const visible = cards.filter((c) => c !== null);
    setChildren(body, visible.length ? visible : h('div', { class: 'empty' }, targets.length ? 'No target matches the filter.' : 'No targets.'));
  };

  const load = async () => {
    try {
      const res = await prom<TargetsData>('targets', { state: 'active' });
      targets = res.data.activeTargets ?? [];
      loadedAt = Date.now();
      draw();
    } catch (e) {
      setChildren(body, errorBox(`Cannot load targets: ${(e as Error).message}`));
    }
  };

  filter.addEventListener('input', debounce(draw, 150));
  unhealthy.addEventListener('change', draw);
  root.append(
    h(
      'div',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', null, 'Targets'),
        summary,
        filter,
        h('label', { class: 'check' }, unhealthy, 'Unhealthy only'),
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
