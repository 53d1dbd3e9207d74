// Status pages: runtime and build information, TSDB cardinality, command-line flags and the
// loaded configuration, all from /api/v1/status/*.

import { prom, type TsdbStatus } from '../api';
import { debounce, errorBox, h, loading, setChildren } from '../dom';
import { apiTime, formatTime } from '../format';
import type { Cleanup } from '../main';

const SUBPAGES: [string, string][] = [
  ['/status', 'Runtime & build information'],
  ['/tsdb-status', 'TSDB status'],
  ['/flags', 'Command-line flags'],
  ['/config', 'Configuration'],
];

/** Shared frame: title, sub-navigation, and a body the page fills in once its data loads. */
function frame(root: HTMLElement, path: string, load: (body: HTMLElement) => Promise<void>): Cleanup {
  let alive = true;
  const body = h('div', null, loading());
  root.append(
    h(
      'div',
      { class: 'page' },
      h('div', { class: 'tabs' }, SUBPAGES.map(([p, label]) => h('a', { href: p, 'data-link': true, class: p === path ? 'active' : '' }, label))),
      body,
    ),
  );
  load(body).catch((e: unknown) => {
    if (alive) setChildren(body, errorBox((e as Error).message));
  });
  return () => {
    alive = false;
  };
}

function display(v: unknown): string {
  if (typeof v === 'string') {
    const t = /^\d{4}-\d{2}-\d{2}T/.test(v) ? apiTime(v) : null;
    return t !== null ? `${formatTime(t)} UTC` : v;
  }
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function kvTable(title: string, data: Record<string, unknown>): HTMLElement {
  return h(
    'div',
    { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', null, title)),
    h(
      'div',
      { class: 'card-body flush' },
      h(
        'table',
        { class: 'data kv' },
        h('tbody', null, Object.entries(data).map(([k, v]) => h('tr', null, h('th', null, k), h('td', { class: 'mono' }, display(v))))),
      ),
    ),
  );
}

export function renderRuntime(root: HTMLElement): Cleanup {
  return frame(root, '/status', async (body) => {
    const [build, runtime] = await Promise.allSettled([
      prom<Record<string, unknown>>('status/buildinfo'),
      prom<Record<string, unknown>>('status/runtimeinfo'),
    ]);
    setChildren(
      body,
      build.status === 'fulfilled' ? kvTable('Build information', build.value.data) : errorBox(`Build information: ${build.reason}`),
      runtime.status === 'fulfilled' ? kvTable('Runtime information', runtime.value.data) : errorBox(`Runtime information: ${runtime.reason}`),
    );
  });
}

function topTable(title: string, rows: { name: string; value: number }[] | undefined, nameHeader: string, valueHeader: string): HTMLElement {
  return h(
    'div',
    { class: 'card tsdb-top' },
    h('div', { class: 'card-head' }, h('h2', null, title)),
    h(
      'div',
      { class: 'card-body flush' },
      h(
        'table',
        { class: 'data' },
        h('thead', null, h('tr', null, h('th', null, nameHeader), h('th', { class: 'num' }, valueHeader))),
        h(
          'tbody',
          null,
          (rows ?? []).length
            ? (rows ?? []).map((r) => h('tr', null, h('td', { class: 'mono' }, r.name), h('td', { class: 'num' }, r.value.toLocaleString('en-US'))))
            : h('tr', null, h('td', { class: 'empty', colspan: 2 }, 'No data')),
        ),
      ),
    ),
  );
}

export function renderTsdb(root: HTMLElement): Cleanup {
  return frame(root, '/tsdb-status', async (body) => {
    const { data } = await prom<TsdbStatus>('status/tsdb');
    const head = data.headStats;
    const time = (ms: number) => (Number.isFinite(ms) && Math.abs(ms) < 1e15 ? `${formatTime(ms)} UTC` : 'none');
    setChildren(
      body,
      head
        ? kvTable('Head block', {
            'Number of series': head.numSeries,
            ...(head.numLabelPairs !== undefined ? { 'Number of label pairs': head.numLabelPairs } : {}),
            'Number of chunks': head.chunkCount,
            'Current min time': time(head.minTime),
            'Current max time': time(head.maxTime),
          })
        : null,
      h(
        'div',
        { class: 'tsdb-grid' },
        topTable('Top 10 series count by metric names', data.seriesCountByMetricName, 'Name', 'Count'),
        topTable('Top 10 label names with value count', data.labelValueCountByLabelName, 'Name', 'Count'),
        topTable('Top 10 series count by label value pairs', data.seriesCountByLabelValuePair, 'Name', 'Count'),
        topTable('Top 10 label names with high memory usage', data.memoryInBytesByLabelName, 'Name', 'Bytes'),
      ),
    );
  });
}

export function renderFlags(root: HTMLElement): Cleanup {
  return frame(root, '/flags', async (body) => {
    const { data } = await prom<Record<string, string>>('status/flags');
    const filter = h('input', { class: 'filter', type: 'search', placeholder: 'Filter flags' });
    const tbody = h('tbody');
    const draw = () => {
      const q = filter.value.trim().toLowerCase();
      setChildren(
        tbody,
        Object.keys(data)
          .sort()
          .filter((k) => q === '' || k.toLowerCase().includes(q) || (data[k] ?? '').toLowerCase().includes(q))
          .map((k) => h('tr', null, h('td', { class: 'mono' }, `--${k}`), h('td', { class: 'mono' }, data[k] ?? ''))),
      );
    };
    filter.addEventListener('input', debounce(draw, 100));
    draw();
    setChildren(
      body,
      h('div', { class: 'page-head' }, h('h1', null, 'Command-line flags'), filter),
      h('div', { class: 'card' }, h('div', { class: 'card-body flush' }, h('table', { class: 'data kv' }, h('thead', null, h('tr', null, h('th', null, 'Flag'), h('th', null, 'Value'))), tbody))),
    );
  });
}

export function renderConfig(root: HTMLElement): Cleanup {
  return frame(root, '/config', async (body) => {
    const { data } = await prom<{ yaml: string }>('status/config');
    const copy = h('button', { type: 'button' }, 'Copy');
    copy.addEventListener('click', () => {
      void navigator.clipboard?.writeText(data.yaml).then(() => setChildren(copy, 'Copied'));
    });
    setChildren(
      body,
      h('div', { class: 'page-head' }, h('h1', null, 'Configuration'), copy),
      h('div', { class: 'card' }, h('div', { class: 'card-body' }, h('pre', { class: 'config' }, data.yaml))),
    );
  });
}
