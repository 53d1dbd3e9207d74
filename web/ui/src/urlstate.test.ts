import { describe, expect, it } from 'vitest';

import { decodePanels, defaultPanel, DEFAULT_RANGE_MS, encodePanels, queryLink, type PanelState } from './urlstate';

describe('decodePanels', () => {
  it('opens the Prometheus alert generatorURL form (/graph?g0.expr=…&g0.tab=1) as a table', () => {
    const [p, ...rest] = decodePanels('?g0.expr=rate(http_requests_total%5B5m%5D)%20%3E%200.5&g0.tab=1');
    expect(rest).toEqual([]);
    expect(p).toEqual({ ...defaultPanel('rate(http_requests_total[5m]) > 0.5'), tab: 'table' });
  });

  it('reads Prometheus 2.x graph links', () => {
    const [p] = decodePanels(
      'g0.expr=up&g0.tab=0&g0.stacked=1&g0.range_input=6h&g0.end_input=2024-01-02%2003%3A04%3A05&g0.moment_input=2024-01-01%2000%3A00%3A00&g0.step_input=30',
    );
    expect(p).toEqual({
      expr: 'up',
      tab: 'graph',
      rangeMs: 6 * 3600_000,
      endMs: Date.UTC(2024, 0, 2, 3, 4, 5),
      momentMs: Date.UTC(2024, 0, 1),
      stepS: 30,
      stacked: true,
    } satisfies PanelState);
  });

  it('reads Prometheus 3.x query links', () => {
    const [p] = decodePanels(
      'g0.expr=up&g0.show_tree=0&g0.tab=graph&g0.range_input=1h&g0.res_type=fixed&g0.res_step=15&g0.display_mode=stacked&g0.end_input=2024-01-02T03%3A04%3A05Z',
    );
    expect(p?.tab).toBe('graph');
    expect(p?.stepS).toBe(15);
    expect(p?.stacked).toBe(true);
    expect(p?.endMs).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    const [auto] = decodePanels('g0.expr=up&g0.res_type=auto&g0.res_step=15');
    expect(auto?.stepS).toBeNull();
  });

  it('orders several panels by index and keeps gaps out', () => {
    const panels = decodePanels('g2.expr=c&g0.expr=a&g10.expr=d&g1.expr=b&g1.tab=graph&other=1');
    expect(panels.map((p) => p.expr)).toEqual(['a', 'b', 'c', 'd']);
    expect(panels[1]?.tab).toBe('graph');
  });

  it('falls back to defaults for bad values', () => {
    const [p] = decodePanels('g0.expr=up&g0.tab=bogus&g0.range_input=forever&g0.end_input=soon&g0.step_input=-3');
    expect(p).toEqual(defaultPanel('up'));
    expect(p?.rangeMs).toBe(DEFAULT_RANGE_MS);
  });

  it('accepts a step given as a duration', () => {
    expect(decodePanels('g0.expr=up&g0.step_input=1m')[0]?.stepS).toBe(60);
  });

  it('returns no panels for an empty query string', () => {
    expect(decodePanels('')).toEqual([]);
    expect(decodePanels(new URLSearchParams('foo=bar'))).toEqual([]);
  });
});

describe('encodePanels', () => {
  it('writes the g<N>.* form and round-trips', () => {
    const panels: PanelState[] = [
      { ...defaultPanel('sum by (job) (up{job=~"a|b"})'), tab: 'graph', rangeMs: 5400_000, stepS: 2.5, stacked: true, endMs: Date.UTC(2024, 5, 1, 12) },
      { ...defaultPanel('time()'), momentMs: Date.UTC(2024, 0, 1, 0, 0, 0, 123) },
    ];
    const qs = encodePanels(panels);
    expect(qs).toContain('g0.expr=sum+by+%28job%29+%28up%7Bjob%3D%7E%22a%7Cb%22%7D%29');
    expect(qs).toContain('g0.tab=graph');
    expect(qs).toContain('g0.range_input=1h30m');
    expect(qs).toContain('g0.end_input=2024-06-01+12%3A00%3A00');
    expect(qs).toContain('g0.step_input=2.5');
    expect(qs).toContain('g0.display_mode=stacked');
    expect(qs).toContain('g1.tab=table');
    expect(qs).not.toContain('g1.end_input');
    expect(decodePanels(qs)).toEqual(panels);
  });

  it('builds query links for rule expressions', () => {
    const link = queryLink('up == 0');
    expect(link.startsWith('/query?')).toBe(true);
    expect(decodePanels(link.slice('/query?'.length))).toEqual([defaultPanel('up == 0')]);
  });
});
