// Turns range-query results into the column arrays uPlot draws. Pure functions, unit-tested.

import type { RangeSeries } from '../api';

export interface Aligned {
  /** Shared x values in unix seconds. */
  xs: number[];
  /** One array per series, null where the series has no sample. */
  ys: (number | null)[][];
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
    const ys: (number | null)[][] = new Array(series.length);
    let onGrid = true;
    for (let i = 0; i < series.length && onGrid; i++) {
      const vals = series[i]?.values ?? [];
      const col = new Array<number | null>(n).fill(null);
      for (let j = 0; j < vals.length; j++) {
        const p = vals[j] as [number, string];
        const t = p[0];
        const k = Math.round((t - startS) / stepS);
        if (k < 0 || k >= n || Math.abs(startS + k * stepS - t) > 1e-3) {
          onGrid = false;
          break;
        }
        const v = +p[1];
        // v - v is 0 only for finite numbers (NaN and ±Inf give NaN).
        col[k] = v - v === 0 ? v : null;
      }
      ys[i] = col;
    }
    if (onGrid) return { xs, ys };
  }
  return alignUnion(series);
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
export function stackSeries(ys: (number | null)[][]): (number | null)[][] {
  const n = ys[0]?.length ?? 0;
  const acc = new Array<number>(n).fill(0);
  return ys.map((col) =>
    col.map((v, k) => {
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
