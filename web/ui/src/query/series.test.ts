import { describe, expect, it } from 'vitest';

import { alignSeries, sampleValue, seriesColor, stackSeries } from './series';

describe('alignSeries', () => {
  it('places samples on the start + k·step grid', () => {
    const { xs, ys } = alignSeries(
      [
        { metric: { a: '1' }, values: [[100, '1'], [110, '2'], [130, '4']] },
        { metric: { a: '2' }, values: [[120, '3.5']] },
      ],
      100,
      130,
      10,
    );
    expect(xs).toEqual([100, 110, 120, 130]);
    expect(ys.map((c) => Array.from(c))).toEqual([
      [1, 2, null, 4],
      [null, null, 3.5, null],
    ]);
  });

  it('handles fractional steps without drift', () => {
    const start = 1_700_000_000.1;
    const values: [number, string][] = [];
    for (let k = 0; k < 1000; k++) values.push([Math.round((start + k * 3.6) * 1000) / 1000, String(k)]);
    const { xs, ys } = alignSeries([{ metric: {}, values }], start, start + 999 * 3.6, 3.6);
    expect(xs.length).toBe(1000);
    // A complete column stays a typed array.
    expect(ys[0]).toBeInstanceOf(Float64Array);
    expect(Array.from(ys[0] ?? []).every((v, k) => v === k)).toBe(true);
  });

  it('falls back to the union of timestamps when samples are off the grid', () => {
    const { xs, ys } = alignSeries(
      [
        { metric: {}, values: [[100, '1'], [105, '2']] },
        { metric: {}, values: [[103, '3']] },
      ],
      100,
      110,
      10,
    );
    expect(xs).toEqual([100, 103, 105]);
    expect(ys).toEqual([
      [1, null, 2],
      [null, 3, null],
    ]);
  });

  it('turns values that cannot be drawn into gaps', () => {
    const { ys } = alignSeries([{ metric: {}, values: [[0, '+Inf'], [1, 'NaN'], [2, '-Inf'], [3, '1e3']] }], 0, 3, 1);
    expect(ys[0]).toEqual([null, null, null, 1000]);
    expect(Array.isArray(ys[0])).toBe(true);
  });

  it('copes with series without values (native histograms only)', () => {
    const { xs, ys } = alignSeries([{ metric: {}, histograms: [] }], 0, 2, 1);
    expect(xs).toEqual([0, 1, 2]);
    expect(ys).toEqual([[null, null, null]]);
  });
});

describe('stackSeries', () => {
  it('accumulates and keeps each series own gaps', () => {
    expect(
      stackSeries([
        [1, 2, null],
        [10, null, 30],
        [100, 200, 300],
      ]),
    ).toEqual([
      [1, 2, null],
      [11, null, 30],
      [111, 202, 330],
    ]);
  });
  it('stacks typed columns', () => {
    expect(stackSeries([Float64Array.of(1, 2), Float64Array.of(3, 4)])).toEqual([
      [1, 2],
      [4, 6],
    ]);
  });
  it('accepts no series', () => {
    expect(stackSeries([])).toEqual([]);
  });
});

describe('sampleValue and colours', () => {
  it('parses sample strings', () => {
    expect(sampleValue('1.5')).toBe(1.5);
    expect(sampleValue('-Inf')).toBeNull();
    expect(sampleValue('garbage')).toBeNull();
  });
  it('gives distinct colours to neighbouring series', () => {
    const colors = Array.from({ length: 40 }, (_, i) => seriesColor(i));
    expect(new Set(colors).size).toBe(40);
    expect(seriesColor(10)).toMatch(/^hsl\(/);
  });
});
