// Clients for the public HTTP APIs on the same origin: Prometheus' /api/v1 and
// Alertmanager's /api/v2. Nothing else is called.

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errorType?: string,
  ) {
    super(message);
  }
}

export interface ApiResult<T> {
  data: T;
  warnings: string[];
  infos: string[];
  /** performance.now() when the body had arrived, before JSON parsing (for render timing). */
  receivedAt: number;
}

interface Envelope<T> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

async function readBody(res: Response, timing?: { receivedAt: number }): Promise<unknown> {
  const text = await res.text();
  if (timing) timing.receivedAt = performance.now();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(res: Response, body: unknown): string {
  if (typeof body === 'string' && body.trim() !== '') return `HTTP ${res.status}: ${body.trim().slice(0, 500)}`;
  return `HTTP ${res.status} ${res.statusText}`;
}

/** Calls a Prometheus /api/v1 endpoint and unwraps its envelope. */
export async function prom<T>(
  path: string,
  params: Record<string, string> = {},
  opts: { method?: 'GET' | 'POST'; signal?: AbortSignal } = {},
): Promise<ApiResult<T>> {
  const qs = new URLSearchParams(params).toString();
  const method = opts.method ?? 'GET';
  let res: Response;
  try {
    res =
      method === 'POST'
        ? await fetch(`/api/v1/${path}`, {
            method,
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: qs,
            signal: opts.signal,
          })
        : await fetch(`/api/v1/${path}${qs ? `?${qs}` : ''}`, { signal: opts.signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(`Cannot reach the server: ${(e as Error).message}`, 0);
  }
  const timing = { receivedAt: 0 };
  const body = await readBody(res, timing);
  if (body && typeof body === 'object' && 'status' in body) {
    const env = body as Envelope<T>;
    if (env.status === 'success') {
      return { data: env.data, warnings: env.warnings ?? [], infos: env.infos ?? [], receivedAt: timing.receivedAt };
    }
    throw new ApiError(env.error ?? describe(res, ''), res.status, env.errorType);
  }
  throw new ApiError(describe(res, body), res.status);
}

/** Calls an Alertmanager /api/v2 endpoint (plain JSON, no envelope). */
export async function am<T>(
  path: string,
  init: { method?: string; body?: unknown; params?: URLSearchParams; signal?: AbortSignal } = {},
): Promise<T> {
  const qs = init.params?.toString();
  let res: Response;
  try {
    res = await fetch(`/api/v2/${path}${qs ? `?${qs}` : ''}`, {
      method: init.method ?? 'GET',
      headers: init.body !== undefined ? { 'Content-Type': 'application/json' } : undefined,
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: init.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(`Cannot reach the alert manager: ${(e as Error).message}`, 0);
  }
  const body = await readBody(res);
  if (!res.ok) {
    const msg =
      typeof body === 'object' && body !== null && 'message' in body
        ? String((body as { message: unknown }).message)
        : describe(res, body);
    throw new ApiError(msg, res.status);
  }
  return body as T;
}

// ---- Prometheus /api/v1 shapes ----

export type Metric = Record<string, string>;
export type SamplePair = [number, string];

export interface HistogramValue {
  count: string;
  sum: string;
  buckets?: [number, string, string, string][];
}

export interface InstantSample {
  metric: Metric;
  value?: SamplePair;
  histogram?: [number, HistogramValue];
}

export interface RangeSeries {
  metric: Metric;
  values?: SamplePair[];
  histograms?: [number, HistogramValue][];
}

export type QueryData =
  | { resultType: 'vector'; result: InstantSample[] }
  | { resultType: 'matrix'; result: RangeSeries[] }
  | { resultType: 'scalar'; result: SamplePair }
  | { resultType: 'string'; result: SamplePair };

export interface Target {
  discoveredLabels: Metric;
  labels: Metric;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl?: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
  scrapeInterval?: string;
  scrapeTimeout?: string;
}

export interface TargetsData {
  activeTargets: Target[];
  droppedTargets?: { discoveredLabels: Metric }[];
}

export interface Alert {
  labels: Metric;
  annotations: Metric;
  state: 'firing' | 'pending' | 'inactive';
  activeAt?: string;
  value: string;
  keepFiringSince?: string;
}

interface RuleBase {
  name: string;
  query: string;
  labels?: Metric;
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  lastEvaluation?: string;
  evaluationTime?: number;
}

export interface AlertingRule extends RuleBase {
  type: 'alerting';
  duration?: number;
  keepFiringFor?: number;
  annotations?: Metric;
  alerts?: Alert[];
  state: 'firing' | 'pending' | 'inactive';
}

export interface RecordingRule extends RuleBase {
  type: 'recording';
}

export type Rule = AlertingRule | RecordingRule;

export interface RuleGroup {
  name: string;
  file: string;
  interval: number;
  limit?: number;
  rules: Rule[];
  lastEvaluation?: string;
  evaluationTime?: number;
}

export interface TsdbStatus {
  headStats?: {
    numSeries: number;
    numLabelPairs?: number;
    chunkCount: number;
    minTime: number;
    maxTime: number;
  };
  seriesCountByMetricName?: { name: string; value: number }[];
  labelValueCountByLabelName?: { name: string; value: number }[];
  memoryInBytesByLabelName?: { name: string; value: number }[];
  seriesCountByLabelValuePair?: { name: string; value: number }[];
}

// ---- Alertmanager /api/v2 shapes ----

export interface AmMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

export interface Silence {
  id: string;
  matchers: AmMatcher[];
  startsAt: string;
  endsAt: string;
  updatedAt?: string;
  createdBy: string;
  comment: string;
  status: { state: 'active' | 'pending' | 'expired' };
}

export interface AmAlert {
  labels: Metric;
  annotations: Metric;
  startsAt: string;
  endsAt: string;
  updatedAt?: string;
  fingerprint: string;
  generatorURL?: string;
  receivers: { name: string }[];
  status: { state: 'active' | 'suppressed' | 'unprocessed'; silencedBy: string[]; inhibitedBy: string[] };
}

export interface AlertGroup {
  labels: Metric;
  receiver: { name: string };
  alerts: AmAlert[];
}
