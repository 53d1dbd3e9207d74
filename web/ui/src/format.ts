// Formatting and parsing of durations, times, label sets and numbers. Pure functions,
// unit-tested in format.test.ts.

const UNITS: [string, number][] = [
  ['y', 365 * 24 * 3600 * 1000],
  ['w', 7 * 24 * 3600 * 1000],
  ['d', 24 * 3600 * 1000],
  ['h', 3600 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
];

const UNIT_MS: Record<string, number> = Object.fromEntries(UNITS);

/**
 * Parses a Prometheus duration ("1h30m", "5m", "250ms", "2w") into milliseconds.
 * Units must appear from largest to smallest, each at most once, as Prometheus requires.
 * A plain number is taken as seconds (the API accepts both). Returns null when invalid.
 */
export function parseDuration(s: string): number | null {
  const str = s.trim();
  if (str === '') return null;
  if (/^\d+(\.\d+)?$/.test(str)) return Math.round(parseFloat(str) * 1000);
  const re = /(\d+)(ms|y|w|d|h|m|s)/y;
  let total = 0;
  let lastRank = -1;
  let pos = 0;
  while (pos < str.length) {
    re.lastIndex = pos;
    const m = re.exec(str);
    if (!m || m[1] === undefined || m[2] === undefined) return null;
    const rank = UNITS.findIndex(([u]) => u === m[2]);
    if (rank <= lastRank) return null;
    lastRank = rank;
    total += parseInt(m[1], 10) * (UNIT_MS[m[2]] ?? 0);
    pos = re.lastIndex;
  }
  return total;
}

/** Formats milliseconds as a Prometheus duration ("1h30m", "0s", "1m0s500ms" → "1m500ms"). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return '0s';
  let rest = Math.round(Math.abs(ms));
  let out = ms < 0 ? '-' : '';
  for (const [u, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return out;
}

/** A short human duration for scrape and evaluation times given in seconds ("1.234ms", "2.5s"). */
export function formatSeconds(sec: number): string {
  if (!Number.isFinite(sec)) return '-';
  if (sec === 0) return '0s';
  if (sec < 1e-3) return `${round(sec * 1e6, 3)}µs`;
  if (sec < 1) return `${round(sec * 1e3, 3)}ms`;
  if (sec < 60) return `${round(sec, 3)}s`;
  return formatDuration(Math.round(sec * 1000));
}

function round(x: number, digits: number): number {
  return Number(x.toPrecision(digits));
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Formats a unix time in ms as "YYYY-MM-DD HH:MM:SS" in UTC (milliseconds shown when non-zero). */
export function formatTime(ms: number, withMillis = true): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return 'invalid time';
  const base =
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const frac = d.getUTCMilliseconds();
  return frac && withMillis ? `${base}.${pad(frac, 3)}` : base;
}

/**
 * Parses a time typed by a user or found in a URL: "YYYY-MM-DD HH:MM[:SS[.mmm]]" (UTC),
 * RFC 3339 ("2024-01-02T03:04:05Z", with offset) or unix seconds. Returns ms or null.
 */
export function parseTime(s: string): number | null {
  const str = s.trim();
  if (str === '') return null;
  if (/^\d+(\.\d+)?$/.test(str)) return Math.round(parseFloat(str) * 1000);
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    str,
  );
  if (!m) return null;
  const [, y, mo, d, hh, mm, ss, frac, zone] = m;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31) return null;
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss ?? 0) > 59) return null;
  let t = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(hh),
    Number(mm),
    Number(ss ?? 0),
    frac ? Math.round(Number(`0.${frac}`) * 1000) : 0,
  );
  if (zone && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    if (!z) return null;
    const off = (Number(z[2]) * 60 + Number(z[3])) * 60 * 1000;
    t -= z[1] === '+' ? off : -off;
  }
  return Number.isNaN(t) ? null : t;
}

/** "3.2s ago", "5m ago", "in 2h" relative to `now` (ms). */
export function formatRelative(ms: number, now: number = Date.now()): string {
  const diff = now - ms;
  const abs = Math.abs(diff);
  let text: string;
  if (abs < 1000) text = `${Math.round(abs)}ms`;
  else if (abs < 60_000) text = `${(abs / 1000).toFixed(1)}s`;
  else text = formatDuration(Math.floor(abs / 1000) * 1000).replace(/^(\d+\D+\d+\D+).*/, '$1');
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** Parses an RFC 3339 time string from the API; null for Go's zero time or garbage. */
export function apiTime(s: string | undefined | null): number | null {
  if (!s || s.startsWith('0001-01-01')) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** Quotes a label value the way PromQL prints it. */
export function quoteLabelValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** `name{a="1", b="2"}` for a series' label set; `{}` for an empty set. */
export function formatSeriesName(metric: Record<string, string>): string {
  const name = metric['__name__'] ?? '';
  const pairs = Object.keys(metric)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${quoteLabelValue(metric[k] ?? '')}`);
  if (pairs.length === 0) return name || '{}';
  return `${name}{${pairs.join(', ')}}`;
}

const SI: [number, string][] = [
  [1e24, 'Y'],
  [1e21, 'Z'],
  [1e18, 'E'],
  [1e15, 'P'],
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/**
 * A compact number for axis ticks and legends: SI suffixes from a thousand up (1.5k, 2M),
 * plain digits below (0.25, 12.5), exponent notation for tiny values.
 */
export function formatSI(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  for (const [size, suffix] of SI) {
    if (abs >= size) return trimNum(v / size) + suffix;
  }
  if (abs >= 1e-3) return trimNum(v);
  return v.toExponential(2);
}

function trimNum(x: number): string {
  return String(Number(x.toPrecision(4)));
}

/** Bytes as "1.5 KiB", "3 MiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : Number(v.toPrecision(3))} ${units[i]}`;
}

/**
 * Tick labels for a time axis in UTC: seconds or minutes by tick spacing, with the date
 * added on the first tick and wherever the day changes.
 */
export function timeTicks(ticksS: number[], spacingS: number): string[] {
  let lastDay = '';
  return ticksS.map((t) => {
    const full = formatTime(t * 1000, false);
    const day = full.slice(0, 10);
    const clock = spacingS >= 86400 ? '' : spacingS < 60 ? full.slice(11, 19) : full.slice(11, 16);
    const label = day !== lastDay ? (clock ? `${clock}\n${day}` : day) : clock || day;
    lastDay = day;
    return label;
  });
}
