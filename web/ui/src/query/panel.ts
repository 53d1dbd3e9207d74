// One query panel: editor, Table/Graph tabs, their controls, and the result.

import type { EditorView } from '@codemirror/view';

import { ApiError, prom, type QueryData, type RangeSeries } from '../api';
import { errorBox, h, setChildren, warningBox } from '../dom';
import { formatDuration, formatTime, parseDuration, parseTime } from '../format';
import { computeStep, rangeWindow } from '../step';
import type { PanelState, Tab } from '../urlstate';
import { createEditor } from './editor';
import { renderGraph, type GraphHandle } from './graph';
import { evalTimeText, renderTable } from './table';

/** Range presets the −/+ buttons step through. */
const RANGE_STEPS = [
  '1m', '5m', '15m', '30m', '1h', '2h', '6h', '12h', '1d', '2d', '1w', '2w', '4w', '8w', '26w', '1y',
].map((s) => parseDuration(s) ?? 0);

export interface PanelCallbacks {
  onChange: () => void;
  onRemove: (() => void) | null;
}

export class Panel {
  readonly el: HTMLElement;
  private editor: EditorView;
  private readonly messages = h('div');
  private readonly controls = h('div', { class: 'controls' });
  private readonly result = h('div', { class: 'result' });
  private readonly stats = h('span', { class: 'stats' });
  private stepInput: HTMLInputElement | null = null;
  private readonly tabButtons: Record<Tab, HTMLButtonElement>;
  private inflight: AbortController | null = null;
  private graph: GraphHandle | null = null;

  constructor(
    public state: PanelState,
    private readonly cb: PanelCallbacks,
  ) {
    const editorWrap = h('div', { class: 'editor-wrap' });
    this.editor = createEditor(editorWrap, state.expr, {
      onChange: (expr) => {
        this.state.expr = expr;
        this.cb.onChange();
      },
      onExecute: () => this.execute(),
    });
    this.tabButtons = {
      table: h('button', { type: 'button', onclick: () => this.setTab('table') }, 'Table'),
      graph: h('button', { type: 'button', onclick: () => this.setTab('graph') }, 'Graph'),
    };
    this.el = h(
      'section',
      { class: 'panel' },
      h(
        'div',
        { class: 'panel-editor' },
        editorWrap,
        h('button', { type: 'button', class: 'primary execute', onclick: () => this.execute() }, 'Execute'),
        cb.onRemove
          ? h('button', { type: 'button', class: 'icon', title: 'Remove panel', onclick: () => cb.onRemove?.() }, '✕')
          : null,
      ),
      h(
        'div',
        { class: 'panel-body' },
        h('div', { class: 'panel-tabs' }, h('div', { class: 'tabs' }, this.tabButtons.table, this.tabButtons.graph), this.stats),
        this.messages,
        this.controls,
        this.result,
      ),
    );
    this.renderControls();
  }

  /** Runs the query for the current tab (no-op for an empty expression). */
  execute(): void {
    this.inflight?.abort();
    this.destroyGraph();
    setChildren(this.messages);
    setChildren(this.stats);
    const expr = this.state.expr.trim();
    if (expr === '') {
      setChildren(this.result, h('div', { class: 'empty' }, 'Enter an expression and press Execute (or Enter).'));
      return;
    }
    this.cb.onChange();
    const ctl = new AbortController();
    this.inflight = ctl;
    this.el.dataset['state'] = 'loading';
    setChildren(this.result, h('div', { class: 'loading' }, 'Loading…'));
    const run = this.state.tab === 'table' ? this.runTable(expr, ctl) : this.runGraph(expr, ctl);
    run.catch((e: unknown) => {
      if (ctl.signal.aborted) return;
      const msg = e instanceof ApiError ? e.message : String(e);
      setChildren(this.result);
      setChildren(this.messages, errorBox(`Error executing query: ${msg}`));
      this.el.dataset['state'] = 'error';
    });
  }

  private async runTable(expr: string, ctl: AbortController): Promise<void> {
    const t = this.state.momentMs ?? Date.now();
    const t0 = performance.now();
    const res = await prom<QueryData>('query', { query: expr, time: String(t / 1000) }, { method: 'POST', signal: ctl.signal });
    if (ctl.signal.aborted) return;
    const { el, count } = renderTable(res.data);
    setChildren(this.result, el);
    this.showMessages(res.warnings, res.infos);
    const ms = Math.round(performance.now() - t0);
    setChildren(this.stats, `Evaluated at ${evalTimeText(t)} · Load time: ${ms}ms · Result series: ${count}`);
    this.el.dataset['state'] = 'done';
  }

  private async runGraph(expr: string, ctl: AbortController): Promise<void> {
    const width = this.graphWidth();
    const win = rangeWindow(this.state.rangeMs, this.state.endMs, width, this.state.stepS, Date.now());
    const t0 = performance.now();
    const res = await prom<QueryData>(
      'query_range',
      { query: expr, start: String(win.startS), end: String(win.endS), step: String(win.stepS) },
      { method: 'POST', signal: ctl.signal },
    );
    if (ctl.signal.aborted) return;
    const t1 = performance.now();
    if (res.data.resultType !== 'matrix') {
      throw new ApiError(`Expected a range vector (matrix) result, got ${res.data.resultType}.`, 0);
    }
    const series: RangeSeries[] = res.data.result;
    if (this.stepInput) this.stepInput.placeholder = `auto (${computeStep(this.state.rangeMs, width)}s)`;
    this.showMessages(res.warnings, res.infos);
    const summary = `Load time: ${Math.round(t1 - t0)}ms · Resolution: ${win.stepS}s · Result series: ${series.length}`;
    setChildren(this.stats, summary);
    if (series.length === 0) {
      setChildren(this.result, h('div', { class: 'empty' }, 'Empty query result'));
      this.el.dataset['state'] = 'done';
      return;
    }
    this.graph = renderGraph(
      {
        series,
        ...win,
        stacked: this.state.stacked,
        onZoom: (from, to) => {
          this.state.endMs = to;
          this.state.rangeMs = Math.max(to - from, 1000);
          this.renderControls();
          this.execute();
        },
        onDrawn: () => {
          // Render time: from the parsed response to the first painted frame (alignment,
          // drawing, legend). JSON parsing is reported apart; it grows with the response size.
          const render = Math.round(performance.now() - t1);
          this.el.dataset['renderMs'] = String(render);
          this.el.dataset['parseMs'] = String(Math.round(t1 - res.receivedAt));
          this.el.dataset['state'] = 'done';
          setChildren(this.stats, `${summary} · Render: ${render}ms`);
        },
      },
      width,
    );
    setChildren(this.result, this.graph.el);
  }

  private showMessages(warnings: string[], infos: string[]): void {
    setChildren(
      this.messages,
      warnings.length ? warningBox(warnings) : null,
      infos.length ? warningBox(infos, 'info') : null,
    );
  }

  private graphWidth(): number {
    return Math.max(this.result.clientWidth || this.el.clientWidth - 20, 200);
  }

  private setTab(tab: Tab): void {
    if (this.state.tab === tab) return;
    this.state.tab = tab;
    this.renderControls();
    this.execute();
  }

  /** The controls row for the current tab. */
  private renderControls(): void {
    for (const [tab, btn] of Object.entries(this.tabButtons)) btn.classList.toggle('active', tab === this.state.tab);
    this.el.dataset['tab'] = this.state.tab;
    if (this.state.tab === 'table') {
      setChildren(this.controls, this.timeControl('momentMs', 'Evaluation time'));
      return;
    }
    const s = this.state;
    const range = h('input', {
      class: 'range',
      'aria-label': 'Range',
      value: formatDuration(s.rangeMs),
      onchange: () => {
        const d = parseDuration(range.value);
        if (d !== null && d > 0) s.rangeMs = d;
        this.renderControls();
        this.execute();
      },
    });
    const stepRange = (dir: 1 | -1) => {
      const next =
        dir > 0 ? RANGE_STEPS.find((r) => r > s.rangeMs) : [...RANGE_STEPS].reverse().find((r) => r < s.rangeMs);
      if (next !== undefined) s.rangeMs = next;
      this.renderControls();
      this.execute();
    };
    const autoStep = computeStep(s.rangeMs, this.graphWidth());
    const step = (this.stepInput = h('input', {
      class: 'step',
      'aria-label': 'Step',
      placeholder: `auto (${autoStep}s)`,
      value: s.stepS !== null ? String(s.stepS) : '',
      onchange: () => {
        const v = step.value.trim();
        const n = Number(v);
        const d = parseDuration(v);
        s.stepS = v === '' ? null : Number.isFinite(n) && n > 0 ? n : d !== null && d > 0 ? d / 1000 : null;
        this.renderControls();
        this.execute();
      },
    }));
    const mode = (stacked: boolean, label: string) =>
      h(
        'button',
        {
          type: 'button',
          class: s.stacked === stacked ? 'on' : '',
          onclick: () => {
            if (s.stacked === stacked) return;
            s.stacked = stacked;
            this.renderControls();
            this.execute();
          },
        },
        label,
      );
    setChildren(
      this.controls,
      h(
        'span',
        { class: 'btn-group' },
        h('button', { type: 'button', title: 'Shorter range', onclick: () => stepRange(-1) }, '−'),
        range,
        h('button', { type: 'button', title: 'Longer range', onclick: () => stepRange(1) }, '+'),
      ),
      this.timeControl('endMs', 'End time'),
      step,
      h('span', { class: 'btn-group' }, mode(false, 'Lines'), mode(true, 'Stacked')),
    );
  }

  /** A time input with ‹ › buttons that move it by the graph range; empty means now. */
  private timeControl(key: 'momentMs' | 'endMs', label: string): HTMLElement {
    const s = this.state;
    const input = h('input', {
      class: 'time',
      'aria-label': label,
      placeholder: 'now (UTC)',
      title: `${label}, UTC (YYYY-MM-DD HH:MM:SS); empty for now`,
      value: s[key] !== null ? formatTime(s[key]) : '',
      onchange: () => {
        s[key] = input.value.trim() === '' ? null : parseTime(input.value);
        this.renderControls();
        this.execute();
      },
    });
    const shift = (dir: 1 | -1) => {
      const base = s[key] ?? Date.now();
      const next = base + dir * (key === 'endMs' ? s.rangeMs / 2 : s.rangeMs);
      s[key] = next >= Date.now() ? null : next;
      this.renderControls();
      this.execute();
    };
    return h(
      'span',
      { class: 'btn-group' },
      h('button', { type: 'button', title: 'Earlier', onclick: () => shift(-1) }, '‹'),
      input,
      h('button', { type: 'button', title: 'Later', onclick: () => shift(1) }, '›'),
      s[key] !== null
        ? h('button', { type: 'button', title: 'Now', onclick: () => ((s[key] = null), this.renderControls(), this.execute()) }, 'now')
        : null,
    );
  }

  private destroyGraph(): void {
    this.graph?.destroy();
    this.graph = null;
  }

  destroy(): void {
    this.inflight?.abort();
    this.destroyGraph();
    this.editor.destroy();
  }
}
