// The new-silence form: matchers (prefilled from an alert's labels), start, duration or end,
// author and comment, with a live count of the alerts the silence would match.

import { am, type AmAlert, type AmMatcher } from '../api';
import { debounce, errorBox, h, setChildren } from '../dom';
import { formatDuration, formatTime, parseDuration, parseTime } from '../format';
import { formatMatcher, makeMatcher, matcherOp, type MatchOp } from '../matchers';

const AUTHOR_KEY = 'argus.silence.createdBy';
const OPS: MatchOp[] = ['=', '!=', '=~', '!~'];

export interface SilenceFormOptions {
  matchers: AmMatcher[];
  onCreated: (id: string) => void;
  onCancel: () => void;
}

export function silenceForm(opts: SilenceFormOptions): HTMLElement {
  const rows = h('div');
  const preview = h('div', { class: 'muted' });
  const messages = h('div');

  const addRow = (m: AmMatcher) => {
    const name = h('input', { placeholder: 'label', value: m.name, 'aria-label': 'Label name', class: 'm-name' });
    const op = h('select', { 'aria-label': 'Operator', class: 'm-op' }, OPS.map((o) => h('option', { value: o, selected: o === matcherOp(m) }, o)));
    const value = h('input', { placeholder: 'value', value: m.value, 'aria-label': 'Label value', class: 'm-value' });
    const row = h(
      'div',
      { class: 'matcher-row' },
      name,
      op,
      value,
      h('button', { type: 'button', class: 'icon', title: 'Remove matcher', onclick: () => (row.remove(), refreshPreview()) }, '✕'),
    );
    for (const el of [name, op, value]) el.addEventListener('input', refreshPreview);
    rows.appendChild(row);
  };

  const readMatchers = (): AmMatcher[] =>
    [...rows.querySelectorAll('.matcher-row')]
      .map((r) => {
        const name = (r.querySelector('.m-name') as HTMLInputElement).value.trim();
        const op = (r.querySelector('.m-op') as HTMLSelectElement).value as MatchOp;
        const value = (r.querySelector('.m-value') as HTMLInputElement).value;
        return makeMatcher(name, op, value);
      })
      .filter((m) => m.name !== '');

  const refreshPreview = debounce(async () => {
    const ms = readMatchers();
    if (ms.length === 0) {
      setChildren(preview, 'Add at least one matcher.');
      return;
    }
    const params = new URLSearchParams();
    for (const m of ms) params.append('filter', formatMatcher(m));
    params.set('silenced', 'true');
    params.set('inhibited', 'true');
    try {
      const alerts = await am<AmAlert[]>('alerts', { params });
      setChildren(preview, `Affects ${alerts.length} alert${alerts.length === 1 ? '' : 's'} now.`);
    } catch (e) {
      setChildren(preview, `Cannot preview: ${(e as Error).message}`);
    }
  }, 250);

  const start = h('input', { value: formatTime(Date.now(), false), 'aria-label': 'Start', class: 'time' });
  const duration = h('input', { value: '2h', 'aria-label': 'Duration', class: 'range' });
  const end = h('input', { 'aria-label': 'End', class: 'time' });
  const syncEnd = () => {
    const s = parseTime(start.value);
    const d = parseDuration(duration.value);
    if (s !== null && d !== null) end.value = formatTime(s + d, false);
  };
  const syncDuration = () => {
    const s = parseTime(start.value);
    const e = parseTime(end.value);
    if (s !== null && e !== null && e > s) duration.value = formatDuration(e - s);
  };
  start.addEventListener('change', syncEnd);
  duration.addEventListener('change', syncEnd);
  end.addEventListener('change', syncDuration);
  syncEnd();

  const createdBy = h('input', { value: localStorage.getItem(AUTHOR_KEY) ?? '', placeholder: 'your name', 'aria-label': 'Created by' });
  const comment = h('textarea', { placeholder: 'Why is this silenced?', 'aria-label': 'Comment' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create silence');

  const form = h(
    'form',
    {
      class: 'card silence-form',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const matchers = readMatchers();
        const s = parseTime(start.value);
        const e = parseTime(end.value);
        const problems: string[] = [];
        if (matchers.length === 0) problems.push('at least one matcher is required');
        if (s === null) problems.push('the start time is not valid (use YYYY-MM-DD HH:MM:SS, UTC)');
        if (e === null || (s !== null && e <= s)) problems.push('the end must be a valid time after the start');
        if (createdBy.value.trim() === '') problems.push('"Created by" is required');
        if (comment.value.trim() === '') problems.push('a comment is required');
        if (problems.length || s === null || e === null) {
          setChildren(messages, errorBox(`Cannot create the silence: ${problems.join('; ')}.`));
          return;
        }
        localStorage.setItem(AUTHOR_KEY, createdBy.value.trim());
        submit.disabled = true;
        try {
          const res = await am<{ silenceID: string }>('silences', {
            method: 'POST',
            body: {
              matchers,
              startsAt: new Date(s).toISOString(),
              endsAt: new Date(e).toISOString(),
              createdBy: createdBy.value.trim(),
              comment: comment.value.trim(),
            },
          });
          opts.onCreated(res.silenceID);
        } catch (err) {
          setChildren(messages, errorBox(`Cannot create the silence: ${(err as Error).message}`));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('div', { class: 'card-head' }, h('h2', null, 'New silence')),
    h(
      'div',
      { class: 'card-body' },
      h(
        'div',
        { class: 'form-grid' },
        h('label', null, 'Matchers'),
        h(
          'div',
          null,
          rows,
          h('div', { class: 'toolbar' }, h('button', { type: 'button', onclick: () => addRow(makeMatcher('', '=', '')) }, '+ Matcher'), preview),
        ),
        h('label', null, 'Start (UTC)'),
        h('div', { class: 'toolbar' }, start, h('span', { class: 'muted' }, 'Duration'), duration, h('span', { class: 'muted' }, 'End (UTC)'), end),
        h('label', null, 'Created by'),
        createdBy,
        h('label', null, 'Comment'),
        comment,
        h('span'),
        h('div', { class: 'toolbar' }, submit, h('button', { type: 'button', onclick: opts.onCancel }, 'Cancel')),
      ),
      messages,
    ),
  );

  for (const m of opts.matchers.length ? opts.matchers : [makeMatcher('', '=', '')]) addRow(m);
  refreshPreview();
  return form;
}
