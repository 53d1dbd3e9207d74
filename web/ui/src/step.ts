// Range-query resolution. The automatic step follows the graph width: one point per
// PX_PER_POINT pixels gives smooth lines without asking the server for points no screen
// can show. The server refuses more than MAX_POINTS points per series, so every step,
// also one the user typed, is raised to stay under that.

/** The server's limit on points per series (Prometheus: 11,000). */
export const MAX_POINTS = 11000;
/** Pixels per point for the automatic step. */
export const PX_PER_POINT = 3;

/** Steps the automatic resolution snaps up to, in seconds, so that URLs and caches stay tidy. */
const NICE_STEPS = [
  1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200,
  86400,
];

/**
 * The step in seconds for a range query over `rangeMs` drawn `widthPx` wide.
 * `userStepS` (> 0) wins when given, but never below what MAX_POINTS allows.
 */
export function computeStep(rangeMs: number, widthPx: number, userStepS: number | null = null): number {
  const rangeS = Math.max(rangeMs / 1000, 0.001);
  // Two points of slack: rangeWindow() aligns the start down by up to one step.
  const minStep = rangeS / (MAX_POINTS - 2);
  if (userStepS !== null && userStepS > 0) return roundStep(Math.max(userStepS, minStep));
  const points = Math.max(Math.floor(Math.max(widthPx, 100) / PX_PER_POINT), 1);
  const raw = Math.max(rangeS / points, minStep);
  // Scrapes are rarely more often than every second; finer automatic steps only add points.
  if (raw <= 1) return 1;
  const nice = NICE_STEPS.find((s) => s >= raw);
  return nice ?? Math.ceil(raw / 86400) * 86400;
}

/** Keeps millisecond precision, the finest the API takes. */
function roundStep(s: number): number {
  return Math.max(Math.ceil(s * 1000) / 1000, 0.001);
}

export interface RangeWindow {
  startS: number;
  endS: number;
  stepS: number;
}

/**
 * The query window for a graph: it ends at `endMs` (or now) and its start is aligned down to
 * a multiple of the step, so consecutive refreshes hit the same evaluation timestamps.
 */
export function rangeWindow(
  rangeMs: number,
  endMs: number | null,
  widthPx: number,
  userStepS: number | null,
  nowMs: number,
): RangeWindow {
  const stepS = computeStep(rangeMs, widthPx, userStepS);
  const endS = (endMs ?? nowMs) / 1000;
  const stepMs = Math.round(stepS * 1000);
  const startMs = Math.floor((endS * 1000 - rangeMs) / stepMs) * stepMs;
  return { startS: startMs / 1000, endS, stepS };
}
