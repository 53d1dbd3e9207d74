// The Table tab: an instant query's result as rows of series and values.

import type { HistogramValue, Metric, QueryData } from '../api';
import { h } from '../dom';
import { formatTime, quoteLabelValue } from '../format';

/** Rows rendered at most; more would only slow the page down. */
export const MAX_ROWS = 10000;

/** The series name with labels coloured like the editor does. */
export function seriesTitle(metric: Metric): HTMLElement {
  const name = metric['__name__'] ?? '';
  const keys = Object.keys(metric)
    .filter((k) => k !== '__name__')
    .sort();
  const parts: (HTMLElement | string)[] = [h('span', { class: 'series-name' }, name)];
  if (keys.length > 0 || name === '') {
    parts.push('{');
    keys.forEach((k, i) => {
      if (i > 0) parts.push(', ');
      parts.push(h('span', { class: 'series-label' }, k), '=');
      parts.push(h('span', { class: 'series-value' }, quoteLabelValue(metric[k] ?? '')));
    });
    parts.push('}');
  }
  return h('span', null, parts);
}

function histogramText(hv: HistogramValue): string {
  return `count=${hv.count} sum=${hv.sum} (${hv.buckets?.length ?? 0} buckets)`;
}

function row(metric: Metric | null, label: string, value: string | HTMLElement): HTMLElement {
  return h(
    'tr',
    null,
    h('td', { class: 'series' }, metric ? seriesTitle(metric) : h('span', { class: 'muted' }, label)),
    h('td', { class: 'value' }, value),
  );
}

export function renderTable(data: QueryData): { el: HTMLElement; count: number } {
  const rows: HTMLElement[] = [];
  let count = 0;
  switch (data.resultType) {
    case 'vector':
      count = data.result.length;
      for (const s of data.result.slice(0, MAX_ROWS)) {
        const v = s.value ? s.value[1] : s.histogram ? histogramText(s.histogram[1]) : '';
        rows.push(row(s.metric, '', v));
      }
      break;
    case 'matrix':
      count = data.result.length;
      for (const s of data.result.slice(0, MAX_ROWS)) {
        const values = h(
          'div',
          null,
          (s.values ?? []).map(([t, v]) => h('div', null, `${v} @${t}`)),
          (s.histograms ?? []).map(([t, hv]) => h('div', null, `${histogramText(hv)} @${t}`)),
        );
        rows.push(row(s.metric, '', values));
      }
      break;
    case 'scalar':
    case 'string':
      count = 1;
      rows.push(row(null, data.resultType, data.result[1]));
      break;
  }
  const table = h(
    'table',
    { class: 'data result-table' },
    h('tbody', null, rows.length ? rows : h('tr', null, h('td', { class: 'empty', colspan: 2 }, 'Empty query result'))),
  );
  const note =
    count > MAX_ROWS
      ? h('div', { class: 'alert alert-warning' }, `Showing the first ${MAX_ROWS} of ${count} series.`)
      : null;
  return { el: h('div', { class: 'card-body flush' }, note, table), count };
}

/** "Evaluated at 2024-01-02 03:04:05 UTC" for the stats line. */
export function evalTimeText(ms: number): string {
  return `${formatTime(ms)} UTC`;
}
