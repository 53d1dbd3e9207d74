// Turns range-query results into the column arrays uPlot draws. Pure functions, unit-tested.

import type { RangeSeries } from '../api';

/**
 * One series' values on the shared x axis. A series with a value in every slot is a
 * Float64Array (no boxed numbers: a million samples cost 8 MB and no garbage); one with gaps
 * is an array with null where uPlot must break the line.
 */
export type Column = Float64Array | (number | null)[];

export interface Aligned {
  /** Shared x values in unix seconds. */
  xs: number[];
  /** One column per series. */
  ys: Column[];
}

/** Parses a sample value string; non-finite values (±Inf, NaN) cannot be drawn and become null. */
export function sampleValue(s: string): number | null {
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/**
 * Aligns every series on one x axis. A range query evaluates at start + k·step, so the grid is
 * known up front and each sample lands in its slot in O(1). If a server returns timestamps off
 * that grid, fall back to the sorted union of all timestamps.
 */
export function alignSeries(series: RangeSeries[], startS: number, endS: number, stepS: number): Aligned {
  const n = stepS > 0 ? Math.floor((endS - startS) / stepS + 1e-9) + 1 : 0;
  if (n > 0 && n <= 1_000_000) {
    const xs = new Array<number>(n);
    for (let k = 0; k < n; k++) xs[k] = round3(startS + k * stepS);
    // Index loops and `+v` instead of for-of destructuring and Number(): this runs once per
    // sample (a million times for 1,000 × 1,000) and the string parse dominates.
    const ys: Column[] = new Array<Column>(series.length);
    let onGrid = true;
    for (let i = 0; i < series.length && onGrid; i++) {
      const vals = series[i]?.values ?? [];
      const col = new Float64Array(n).fill(NaN);
      for (let j = 0; j < vals.length; j++) {
        const p = vals[j] as [number, string];
        const t = p[0];
        const k = Math.round((t - startS) / stepS);
        if (k < 0 || k >= n || Math.abs(startS + k * stepS - t) > 1e-3) {
          onGrid = false;
          break;
        }
        col[k] = +p[1];
      }
      ys[i] = withGaps(col);
    }
    if (onGrid) return { xs, ys };
  }
  return alignUnion(series);
}

/** Keeps a complete column typed; turns one with missing or non-finite values into nulls. */
function withGaps(col: Float64Array): Column {
  for (let k = 0; k < col.length; k++) {
    const v = col[k] as number;
    // v - v is 0 only for finite numbers (NaN and ±Inf give NaN).
    if (v - v !== 0) return Array.from(col, (x) => (x - x === 0 ? x : null));
  }
  return col;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function alignUnion(series: RangeSeries[]): Aligned {
  const set = new Set<number>();
  for (const s of series) for (const [t] of s.values ?? []) set.add(t);
  const xs = [...set].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const ys = series.map((s) => {
    const col = new Array<number | null>(xs.length).fill(null);
    for (const [t, v] of s.values ?? []) {
      const i = index.get(t);
      if (i !== undefined) col[i] = sampleValue(v);
    }
    return col;
  });
  return { xs, ys };
}

/**
 * Cumulative sums for a stacked graph: series i is drawn at the sum of series 0..i.
 * A missing sample counts as 0 for the series above it but stays a gap in its own line.
 */
export function stackSeries(ys: Column[]): (number | null)[][] {
  const n = ys[0]?.length ?? 0;
  const acc = new Float64Array(n);
  return ys.map((col) =>
    Array.from(col as ArrayLike<number | null>, (v, k) => {
      if (v === null) return null;
      acc[k] = (acc[k] ?? 0) + v;
      return acc[k] ?? null;
    }),
  );
}

const PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f',
];

/** A colour per series index: a fixed palette first, then golden-angle hues. */
export function seriesColor(i: number): string {
  const fixed = PALETTE[i];
  if (fixed !== undefined) return fixed;
  const hue = Math.round((i * 137.508) % 360);
  return `hsl(${hue}, 65%, 50%)`;
}
