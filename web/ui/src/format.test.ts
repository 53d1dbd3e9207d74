import { describe, expect, it } from 'vitest';

import {
  apiTime,
  formatBytes,
  formatDuration,
  formatRelative,
  formatSeconds,
  formatSeriesName,
  formatSI,
  formatTime,
  parseDuration,
  parseTime,
  quoteLabelValue,
  timeTicks,
} from './format';

describe('parseDuration', () => {
  it('parses Prometheus durations', () => {
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    expect(parseDuration('1y')).toBe(365 * 86_400_000);
    expect(parseDuration('1d2h3m4s5ms')).toBe(86_400_000 + 7_200_000 + 180_000 + 4_000 + 5);
  });
  it('takes a plain number as seconds', () => {
    expect(parseDuration('15')).toBe(15_000);
    expect(parseDuration('0.5')).toBe(500);
  });
  it('rejects malformed durations', () => {
    for (const bad of ['', 'abc', '1x', 'm5', '5m1h', '1h1h', '-5m', '1.5h']) {
      expect(parseDuration(bad), bad).toBeNull();
    }
  });
});

describe('formatDuration', () => {
  it('formats like Prometheus', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(60_500)).toBe('1m500ms');
    expect(formatDuration(7 * 86_400_000)).toBe('1w');
    expect(formatDuration(-60_000)).toBe('-1m');
  });
  it('round-trips with parseDuration', () => {
    for (const ms of [1, 999, 1000, 61_000, 3_723_004, 90_061_001, 400 * 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe('formatSeconds', () => {
  it('picks a readable unit', () => {
    expect(formatSeconds(0)).toBe('0s');
    expect(formatSeconds(0.000347)).toBe('347µs');
    expect(formatSeconds(0.0031234)).toBe('3.12ms');
    expect(formatSeconds(2.5)).toBe('2.5s');
    expect(formatSeconds(125)).toBe('2m5s');
    expect(formatSeconds(NaN)).toBe('-');
  });
});

describe('times', () => {
  it('formats in UTC, with milliseconds only when present', () => {
    expect(formatTime(Date.UTC(2024, 0, 2, 3, 4, 5))).toBe('2024-01-02 03:04:05');
    expect(formatTime(Date.UTC(2024, 0, 2, 3, 4, 5, 67))).toBe('2024-01-02 03:04:05.067');
    expect(formatTime(Date.UTC(2024, 0, 2, 3, 4, 5, 67), false)).toBe('2024-01-02 03:04:05');
  });
  it('parses the formats found in URLs and typed by users', () => {
    const t = Date.UTC(2024, 0, 2, 3, 4, 5);
    expect(parseTime('2024-01-02 03:04:05')).toBe(t);
    expect(parseTime('2024-01-02T03:04:05Z')).toBe(t);
    expect(parseTime('2024-01-02T03:04:05.250Z')).toBe(t + 250);
    expect(parseTime('2024-01-02T05:04:05+02:00')).toBe(t);
    expect(parseTime('2024-01-02T00:04:05-0300')).toBe(t);
    expect(parseTime('2024-01-02 03:04')).toBe(t - 5000);
    expect(parseTime(String(t / 1000))).toBe(t);
    expect(parseTime('1704164645.5')).toBe(t + 500);
  });
  it('rejects garbage times', () => {
    for (const bad of ['', 'yesterday', '2024-01-02', '2024-13-01 00:00:00', '2024-01-02 24:00:00', '2024-01-02 03:60', '02/01/2024 03:04']) {
      expect(parseTime(bad), bad).toBeNull();
    }
  });
  it('round-trips formatTime through parseTime', () => {
    for (const t of [0, 1_700_000_000_000, 1_700_000_000_123]) expect(parseTime(formatTime(t))).toBe(t);
  });
  it('reads API times and ignores Go zero times', () => {
    expect(apiTime('2024-01-02T03:04:05.5Z')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 500));
    expect(apiTime('0001-01-01T00:00:00Z')).toBeNull();
    expect(apiTime('')).toBeNull();
    expect(apiTime(undefined)).toBeNull();
    expect(apiTime('not a time')).toBeNull();
  });
  it('describes times relative to now', () => {
    const now = 1_700_000_000_000;
    expect(formatRelative(now - 250, now)).toBe('250ms ago');
    expect(formatRelative(now - 3200, now)).toBe('3.2s ago');
    expect(formatRelative(now - 3_723_000, now)).toBe('1h2m ago');
    expect(formatRelative(now + 120_000, now)).toBe('in 2m');
  });
  it('labels time-axis ticks with the date where it changes', () => {
    const day = Date.UTC(2024, 0, 2) / 1000;
    expect(timeTicks([day - 60, day, day + 60], 60)).toEqual(['23:59\n2024-01-01', '00:00\n2024-01-02', '00:01']);
    expect(timeTicks([day, day + 15], 15)).toEqual(['00:00:00\n2024-01-02', '00:00:15']);
    expect(timeTicks([day, day + 86400], 86400)).toEqual(['2024-01-02', '2024-01-03']);
  });
});

describe('series names', () => {
  it('prints a label set as PromQL does', () => {
    expect(formatSeriesName({ __name__: 'up', job: 'api', instance: 'a:1' })).toBe('up{instance="a:1", job="api"}');
    expect(formatSeriesName({ __name__: 'up' })).toBe('up');
    expect(formatSeriesName({ job: 'x' })).toBe('{job="x"}');
    expect(formatSeriesName({})).toBe('{}');
  });
  it('escapes label values', () => {
    expect(quoteLabelValue('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
  });
});

describe('numbers', () => {
  it('formats axis values compactly', () => {
    expect(formatSI(0)).toBe('0');
    expect(formatSI(0.25)).toBe('0.25');
    expect(formatSI(12.5)).toBe('12.5');
    expect(formatSI(999)).toBe('999');
    expect(formatSI(1500)).toBe('1.5k');
    expect(formatSI(-2_000_000)).toBe('-2M');
    expect(formatSI(3.2e9)).toBe('3.2G');
    expect(formatSI(0.0001234)).toBe('1.23e-4');
    expect(formatSI(Infinity)).toBe('Infinity');
  });
  it('formats bytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5 MiB');
  });
});
