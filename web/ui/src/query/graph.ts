// The Graph tab: a range query's series drawn with uPlot (canvas; 1,000 series × 1,000
// points draw well under a second), with our own legend and hover tooltip. uPlot's built-in
// legend updates every row on each mouse move, which is slow with many series.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import type { RangeSeries } from '../api';
import { h, setChildren } from '../dom';
import { formatSeriesName, formatSI, formatTime, timeTicks } from '../format';
import { alignSeries, seriesColor, stackSeries } from './series';

export const GRAPH_HEIGHT = 320;
/** Tooltip rows: the series nearest the cursor, closest first. */
const TOOLTIP_ROWS = 10;
/** Legend entries shown before a "show all" button; a long legend costs layout time. */
const LEGEND_INITIAL = 100;

export interface GraphOptions {
  series: RangeSeries[];
  startS: number;
  endS: number;
  stepS: number;
  stacked: boolean;
  /** Called with the time window selected by dragging across the graph. */
  onZoom: (startMs: number, endMs: number) => void;
  /** Called once the first draw has been painted, for render-time measurement. */
  onDrawn?: () => void;
}

export interface GraphHandle {
  el: HTMLElement;
  destroy: () => void;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function withAlpha(color: string, alpha: number): string {
  if (color.startsWith('#')) {
    const a = Math.round(alpha * 255)
      .toString(16)
      .padStart(2, '0');
    return color + a;
  }
  return color.replace(/^hsl\((.*)\)$/, `hsla($1, ${alpha})`);
}

export function renderGraph(opts: GraphOptions, width: number): GraphHandle {
  const { xs, ys } = alignSeries(opts.series, opts.startS, opts.endS, opts.stepS);
  const drawn = opts.stacked ? stackSeries(ys) : ys;
  const names = opts.series.map((s) => formatSeriesName(s.metric));
  const colors = names.map((_, i) => seriesColor(i));

  const wrap = h('div', { class: 'graph' });
  const tooltip = h('div', { class: 'graph-tooltip' });
  const legend = h('div', { class: 'legend' });
  const muted = cssVar('--muted');
  const grid = cssVar('--grid');
  let firstDraw = true;

  const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const options: uPlot.Options = {
    width: Math.max(width, 200),
    height: GRAPH_HEIGHT,
    // Times are shown in UTC everywhere in the UI.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    legend: { show: false },
    scales: { x: { time: true, min: opts.startS, max: opts.endS } },
    cursor: {
      drag: { x: true, y: false, setScale: false },
      points: { show: false },
      focus: { prox: 30 },
    },
    focus: { alpha: 0.4 },
    series: [
      {},
      ...names.map((name, i) => ({
        label: name,
        stroke: colors[i],
        // Whole-pixel lines rasterise faster, which counts with hundreds of series.
        width: names.length > 50 ? 1 : 1.25,
        points: { show: false },
        fill: opts.stacked ? withAlpha(colors[i] ?? '#888', 0.35) : undefined,
      })),
    ],
    bands: opts.stacked ? names.slice(1).map((_, i) => ({ series: [i + 2, i + 1] as [number, number] })) : [],
    axes: [
      { ...axis, size: 50, space: 90, values: (_u, splits, _ax, _space, incr) => timeTicks(splits, incr) },
      { ...axis, size: 60, values: (_u, vals) => vals.map((v) => formatSI(v)) },
    ],
    hooks: {
      draw: [
        () => {
          if (firstDraw) {
            firstDraw = false;
            // A task queued from the next animation frame runs after that frame is painted.
            requestAnimationFrame(() => setTimeout(() => opts.onDrawn?.(), 0));
          }
        },
      ],
      setCursor: [(u) => updateTooltip(u)],
      setSelect: [
        (u) => {
          if (u.select.width < 5) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          opts.onZoom(Math.round(from * 1000), Math.round(to * 1000));
        },
      ],
    },
  };

  function updateTooltip(u: uPlot): void {
    const idx = u.cursor.idx;
    const left = u.cursor.left ?? -1;
    const top = u.cursor.top ?? -1;
    if (idx === null || idx === undefined || left < 0) {
      tooltip.style.display = 'none';
      return;
    }
    const near: { i: number; dist: number; v: number }[] = [];
    for (let i = 0; i < ys.length; i++) {
      const v = ys[i]?.[idx];
      const y = drawn[i]?.[idx];
      if (v === null || v === undefined || y === null || y === undefined) continue;
      if (!u.series[i + 1]?.show) continue;
      near.push({ i, dist: Math.abs(u.valToPos(y, 'y') - top), v });
    }
    if (near.length === 0) {
      tooltip.style.display = 'none';
      return;
    }
    near.sort((a, b) => a.dist - b.dist);
    const x = xs[idx] ?? 0;
    setChildren(
      tooltip,
      h('div', { class: 't' }, `${formatTime(x * 1000)} UTC`),
      near.slice(0, TOOLTIP_ROWS).map((n, j) =>
        h(
          'div',
          { class: j === 0 ? 'row focus' : 'row' },
          h('span', { class: 'swatch', style: `background:${colors[n.i]}` }),
          h('span', { class: 'lbl' }, names[n.i]),
          h('span', null, String(n.v)),
        ),
      ),
      near.length > TOOLTIP_ROWS ? h('div', { class: 'muted' }, `… ${near.length - TOOLTIP_ROWS} more`) : null,
    );
    tooltip.style.display = 'block';
    const ox = u.over.offsetLeft;
    const oy = u.over.offsetTop;
    const tw = tooltip.offsetWidth;
    const x0 = ox + left + 16;
    tooltip.style.left = `${x0 + tw > wrap.clientWidth ? Math.max(ox + left - tw - 16, 0) : x0}px`;
    tooltip.style.top = `${oy + Math.min(top + 16, GRAPH_HEIGHT - 80)}px`;
  }

  const plot = new uPlot(options, [xs, ...drawn] as uPlot.AlignedData, wrap);
  wrap.appendChild(tooltip);
  plot.over.addEventListener('mouseleave', () => (tooltip.style.display = 'none'));

  // Legend: click toggles a series, Ctrl/Cmd-click shows only it (or all again).
  const item = (name: string, i: number): HTMLElement =>
    h(
      'div',
      {
        class: 'legend-item',
        title: 'Click to hide or show; Ctrl-click to isolate',
        onclick: (ev: Event) => {
          const e = ev as MouseEvent;
          if (e.ctrlKey || e.metaKey) {
            const onlyThis = names.every((_, j) => (plot.series[j + 1]?.show ?? false) === (j === i));
            plot.batch(() => names.forEach((_, j) => plot.setSeries(j + 1, { show: onlyThis || j === i })));
          } else {
            plot.setSeries(i + 1, { show: !(plot.series[i + 1]?.show ?? true) });
          }
          for (const it of legend.querySelectorAll<HTMLElement>('.legend-item')) {
            const j = Number(it.dataset['i']);
            it.classList.toggle('off', !(plot.series[j + 1]?.show ?? true));
          }
        },
        'data-i': i,
      },
      h('span', { class: 'swatch', style: `background:${colors[i]}` }),
      h('span', null, name),
    );
  const showLegend = (limit: number) => {
    const more = names.length - limit;
    setChildren(
      legend,
      names.slice(0, limit).map(item),
      more > 0
        ? h('button', { type: 'button', class: 'small legend-more', onclick: () => showLegend(names.length) }, `Show all ${names.length} series`)
        : null,
    );
  };
  showLegend(LEGEND_INITIAL);

  const el = h('div', null, wrap, legend);
  const ro = new ResizeObserver(() => {
    const w = wrap.clientWidth;
    if (w > 0 && Math.abs(w - plot.width) > 1) plot.setSize({ width: w, height: GRAPH_HEIGHT });
  });
  ro.observe(wrap);
  return {
    el,
    destroy: () => {
      ro.disconnect();
      plot.destroy();
    },
  };
}
