import { describe, expect, it } from 'vitest';

import { computeStep, MAX_POINTS, rangeWindow } from './step';

const HOUR = 3600_000;

describe('computeStep', () => {
  it('follows the graph width', () => {
    // 1h over 1200 px: 400 points → 9s → snapped up to 10s.
    expect(computeStep(HOUR, 1200)).toBe(10);
    // Half the width, twice the step.
    expect(computeStep(HOUR, 600)).toBe(20);
    expect(computeStep(24 * HOUR, 1200)).toBe(300);
    expect(computeStep(7 * 24 * HOUR, 1200)).toBe(1800);
  });
  it('never goes below one second automatically', () => {
    expect(computeStep(60_000, 1200)).toBe(1);
    expect(computeStep(5 * 60_000, 1200)).toBe(1);
  });
  it('treats tiny widths as 100 px', () => {
    expect(computeStep(HOUR, 0)).toBe(computeStep(HOUR, 100));
  });
  it('keeps a user step unless it would exceed the point limit', () => {
    expect(computeStep(HOUR, 1200, 15)).toBe(15);
    expect(computeStep(HOUR, 1200, 0.5)).toBe(0.5);
    // 1h at 0.25s would be 14,400 points: raised to fit 10,998.
    expect(computeStep(HOUR, 1200, 0.25)).toBe(0.328);
    const s = computeStep(30 * 24 * HOUR, 1200, 1);
    expect((30 * 24 * 3600) / s).toBeLessThanOrEqual(MAX_POINTS - 2);
  });
  it('goes past a day for very long ranges', () => {
    expect(computeStep(10 * 365 * 24 * HOUR, 1200)).toBe(86400 * 10);
  });
});

describe('rangeWindow', () => {
  it('aligns the start to the step and ends at the end time', () => {
    const end = Date.UTC(2024, 0, 1, 12, 0, 7);
    const w = rangeWindow(HOUR, end, 1200, null, 0);
    expect(w.stepS).toBe(10);
    expect(w.endS).toBe(end / 1000);
    expect(w.startS % 10).toBe(0);
    expect(w.startS).toBe(Date.UTC(2024, 0, 1, 11, 0, 0) / 1000);
  });
  it('uses now when there is no end time', () => {
    const now = 1_700_000_123_456;
    expect(rangeWindow(HOUR, null, 1200, null, now).endS).toBe(now / 1000);
  });
  it('stays under the server point limit', () => {
    for (const range of [HOUR, 97 * HOUR, 1000 * HOUR]) {
      const w = rangeWindow(range, 1_700_000_000_000, 5000, 0.001, 0);
      expect(Math.floor((w.endS - w.startS) / w.stepS) + 1).toBeLessThanOrEqual(MAX_POINTS);
    }
  });
});
