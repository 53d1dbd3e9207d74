// The query page keeps its panels in the URL, in the `g<N>.<setting>` form Prometheus uses,
// so links from alert `generatorURL`s (`/graph?g0.expr=…&g0.tab=1`) and links copied from
// Prometheus' own UI (2.x and 3.x) open here with the same state.
//
// Accepted on decode (both generations of Prometheus' UI):
//   g0.expr           the expression
//   g0.tab            0 | graph → graph, 1 | table → table (2.x used 0 for graph, 1 for console)
//   g0.range_input    graph range as a duration ("1h")
//   g0.end_input      graph end time ("2024-01-02 03:04:05" UTC, RFC 3339 or unix seconds)
//   g0.moment_input   table evaluation time (same formats)
//   g0.step_input     graph step in seconds (2.x); g0.res_step with g0.res_type=fixed|custom (3.x)
//   g0.stacked=1      (2.x) or g0.display_mode=stacked (3.x)
// Written on encode: expr, tab (graph|table), range_input, end_input, moment_input,
// step_input and display_mode, omitting times that mean "now" and an automatic step.

import { formatDuration, formatTime, parseDuration, parseTime } from './format';

export type Tab = 'table' | 'graph';

export interface PanelState {
  expr: string;
  tab: Tab;
  /** Graph range in ms. */
  rangeMs: number;
  /** Graph end time in ms; null follows "now". */
  endMs: number | null;
  /** Table evaluation time in ms; null follows "now". */
  momentMs: number | null;
  /** Graph step in seconds; null picks one from the range and the graph width. */
  stepS: number | null;
  stacked: boolean;
}

export const DEFAULT_RANGE_MS = 60 * 60 * 1000;

export function defaultPanel(expr = ''): PanelState {
  return {
    expr,
    tab: 'table',
    rangeMs: DEFAULT_RANGE_MS,
    endMs: null,
    momentMs: null,
    stepS: null,
    stacked: false,
  };
}

function decodeTab(v: string | undefined): Tab {
  return v === '0' || v === 'graph' ? 'graph' : 'table';
}

function decodeStep(s: Record<string, string>): number | null {
  const raw = s['step_input'] ?? (s['res_type'] && s['res_type'] !== 'auto' ? s['res_step'] : '');
  if (!raw) return null;
  const n = Number(raw);
  if (Number.isFinite(n) && n > 0) return n;
  const d = parseDuration(raw);
  return d !== null && d > 0 ? d / 1000 : null;
}

/** Decodes every `g<N>.*` panel in a query string, ordered by N. */
export function decodePanels(query: string | URLSearchParams): PanelState[] {
  const params = typeof query === 'string' ? new URLSearchParams(query) : query;
  const byIndex = new Map<number, Record<string, string>>();
  for (const [key, value] of params) {
    const m = /^g(\d+)\.(\w+)$/.exec(key);
    if (!m || m[1] === undefined || m[2] === undefined) continue;
    const idx = Number(m[1]);
    let settings = byIndex.get(idx);
    if (!settings) {
      settings = {};
      byIndex.set(idx, settings);
    }
    settings[m[2]] = value;
  }
  return [...byIndex.keys()]
    .sort((a, b) => a - b)
    .map((idx) => {
      const s = byIndex.get(idx) ?? {};
      const range = s['range_input'] ? parseDuration(s['range_input']) : null;
      return {
        expr: s['expr'] ?? '',
        tab: decodeTab(s['tab']),
        rangeMs: range !== null && range > 0 ? range : DEFAULT_RANGE_MS,
        endMs: s['end_input'] ? parseTime(s['end_input']) : null,
        momentMs: s['moment_input'] ? parseTime(s['moment_input']) : null,
        stepS: decodeStep(s),
        stacked: s['stacked'] === '1' || s['display_mode'] === 'stacked',
      };
    });
}

/** Encodes panels as a query string (without the leading `?`). */
export function encodePanels(panels: PanelState[]): string {
  const params = new URLSearchParams();
  panels.forEach((p, i) => {
    const g = `g${i}.`;
    params.set(`${g}expr`, p.expr);
    params.set(`${g}tab`, p.tab);
    params.set(`${g}range_input`, formatDuration(p.rangeMs));
    if (p.endMs !== null) params.set(`${g}end_input`, formatTime(p.endMs));
    if (p.momentMs !== null) params.set(`${g}moment_input`, formatTime(p.momentMs));
    if (p.stepS !== null) params.set(`${g}step_input`, String(p.stepS));
    params.set(`${g}display_mode`, p.stacked ? 'stacked' : 'lines');
  });
  return params.toString();
}

/** A link to the query page with `expr` in one table panel. */
export function queryLink(expr: string): string {
  return `/query?${encodePanels([defaultPanel(expr)])}`;
}
