// Silences (active, pending, expired; create; expire) and the alert groups as the alert
// manager sees them, from the Alertmanager v2 API on the same origin.

import { am, type AlertGroup, type AmAlert, type Silence } from '../api';
import { badge, errorBox, h, labelChips, loading, setChildren } from '../dom';
import { apiTime, formatRelative, formatTime } from '../format';
import type { Cleanup } from '../main';
import { formatMatcher, formatMatchers, MatcherParseError, parseMatchers, silenceLinkFor } from '../matchers';
import { navigate, replaceSearch } from '../nav';
import { silenceForm } from './silence_form';

type SilenceState = Silence['status']['state'];
const SILENCE_STATES: SilenceState[] = ['active', 'pending', 'expired'];
const SILENCE_BADGE: Record<SilenceState, string> = { active: 'ok', pending: 'info', expired: 'muted' };
const ALERT_BADGE: Record<string, string> = { active: 'err', suppressed: 'muted', unprocessed: 'info' };

function timeCell(s: string, now: number): HTMLElement {
  const t = apiTime(s);
  return h('span', { title: t !== null ? `${formatTime(t)} UTC` : '' }, t !== null ? `${formatTime(t)} (${formatRelative(t, now)})` : '-');
}

function silenceCard(s: Silence, now: number, onExpire: (id: string) => void): HTMLElement {
  return h(
    'div',
    { class: 'card silence', 'data-id': s.id, 'data-state': s.status.state },
    h(
      'div',
      { class: 'card-head' },
      badge(s.status.state, SILENCE_BADGE[s.status.state] ?? 'muted'),
      h('span', { class: 'chips' }, s.matchers.map((m) => h('span', { class: 'chip' }, formatMatcher(m)))),
      h('span', { class: 'spacer' }),
      h(
        'a',
        {
          class: 'btn small',
          href: `/silences?${new URLSearchParams({ create: '1', matchers: formatMatchers(s.matchers) })}`,
          'data-link': true,
          title: 'New silence with the same matchers',
        },
        'Duplicate',
      ),
      s.status.state !== 'expired'
        ? h('button', { type: 'button', class: 'danger small expire', onclick: () => onExpire(s.id) }, 'Expire')
        : null,
    ),
    h(
      'div',
      { class: 'card-body' },
      h(
        'table',
        { class: 'data kv' },
        h(
          'tbody',
          null,
          h('tr', null, h('th', null, 'Starts'), h('td', null, timeCell(s.startsAt, now))),
          h('tr', null, h('th', null, 'Ends'), h('td', null, timeCell(s.endsAt, now))),
          h('tr', null, h('th', null, 'Created by'), h('td', null, s.createdBy)),
          h('tr', null, h('th', null, 'Comment'), h('td', null, s.comment)),
          h('tr', null, h('th', null, 'ID'), h('td', { class: 'mono' }, s.id)),
        ),
      ),
    ),
  );
}

function groupCard(g: AlertGroup, now: number): HTMLElement {
  return h(
    'div',
    { class: 'card alert-group' },
    h(
      'div',
      { class: 'card-head' },
      Object.keys(g.labels).length ? labelChips(g.labels) : h('span', { class: 'muted' }, 'no grouping labels'),
      h('span', { class: 'spacer' }),
      h('span', { class: 'muted' }, `receiver: ${g.receiver.name}`),
    ),
    h(
      'div',
      { class: 'card-body flush' },
      h(
        'table',
        { class: 'data' },
        h('thead', null, h('tr', null, ['Labels', 'State', 'Since', ''].map((c) => h('th', null, c)))),
        h('tbody', null, g.alerts.map((a) => groupAlertRow(a, now))),
      ),
    ),
  );
}

function groupAlertRow(a: AmAlert, now: number): HTMLElement {
  const since = apiTime(a.startsAt);
  return h(
    'tr',
    null,
    h(
      'td',
      null,
      labelChips(a.labels),
      a.annotations?.['summary'] ? h('div', { class: 'muted' }, a.annotations['summary']) : null,
    ),
    h('td', null, badge(a.status.state, ALERT_BADGE[a.status.state] ?? 'muted')),
    h('td', { class: 'nowrap' }, since !== null ? formatRelative(since, now) : '-'),
    h(
      'td',
      { class: 'nowrap' },
      h('a', { class: 'btn small', href: silenceLinkFor(a.labels), 'data-link': true }, 'Silence'),
      ' ',
      a.generatorURL ? h('a', { class: 'btn small', href: a.generatorURL }, 'Source') : null,
    ),
  );
}

export function render(root: HTMLElement, params: URLSearchParams): Cleanup {
  let tab = params.get('tab') === 'groups' ? 'groups' : 'silences';
  let state: SilenceState = SILENCE_STATES.includes(params.get('state') as SilenceState) ? (params.get('state') as SilenceState) : 'active';
  let alive = true;
  const tabs = h('div', { class: 'tabs' });
  const formSlot = h('div');
  const body = h('div', null, loading());
  let silences: Silence[] = [];
  let groups: AlertGroup[] = [];
  let error: string | null = null;

  const syncUrl = () => {
    const q = new URLSearchParams();
    if (tab === 'groups') q.set('tab', 'groups');
    if (tab === 'silences' && state !== 'active') q.set('state', state);
    replaceSearch(q.toString());
  };

  const draw = () => {
    if (!alive) return;
    const now = Date.now();
    const count = (s: SilenceState) => silences.filter((x) => x.status.state === s).length;
    const tabButton = (key: string, label: string, onclick: () => void, active: boolean) =>
      h('button', { type: 'button', class: active ? 'active' : '', 'data-tab': key, onclick }, label);
    setChildren(
      tabs,
      SILENCE_STATES.map((s) =>
        tabButton(s, `${s[0]?.toUpperCase()}${s.slice(1)} silences (${count(s)})`, () => ((tab = 'silences'), (state = s), syncUrl(), draw()), tab === 'silences' && state === s),
      ),
      tabButton('groups', `Alert groups (${groups.length})`, () => ((tab = 'groups'), syncUrl(), draw()), tab === 'groups'),
    );
    if (error !== null) {
      setChildren(body, errorBox(error));
      return;
    }
    if (tab === 'groups') {
      setChildren(body, groups.length ? groups.map((g) => groupCard(g, now)) : h('div', { class: 'empty' }, 'The alert manager has no alerts.'));
      return;
    }
    const shown = silences
      .filter((s) => s.status.state === state)
      .sort((a, b) => (state === 'expired' ? b.endsAt.localeCompare(a.endsAt) : a.endsAt.localeCompare(b.endsAt)));
    setChildren(body, shown.length ? shown.map((s) => silenceCard(s, now, (id) => void expire(id))) : h('div', { class: 'empty' }, `No ${state} silences.`));
  };

  const load = async () => {
    try {
      const [s, g] = await Promise.all([am<Silence[]>('silences'), am<AlertGroup[]>('alerts/groups')]);
      silences = s;
      groups = g;
      error = null;
    } catch (e) {
      error = `Cannot load from the alert manager: ${(e as Error).message}`;
    }
    draw();
  };

  const expire = async (id: string) => {
    try {
      await am<unknown>(`silence/${encodeURIComponent(id)}`, { method: 'DELETE' });
    } catch (e) {
      error = `Cannot expire silence ${id}: ${(e as Error).message}`;
      draw();
      return;
    }
    await load();
  };

  const openForm = (matchersText: string) => {
    let matchers: ReturnType<typeof parseMatchers> = [];
    let problem: string | null = null;
    try {
      matchers = parseMatchers(matchersText);
    } catch (e) {
      problem = e instanceof MatcherParseError ? `Ignored the matchers in the link: ${e.message}` : String(e);
    }
    const close = () => {
      setChildren(formSlot);
      if (params.has('create')) navigate('/silences');
    };
    setChildren(
      formSlot,
      problem ? errorBox(problem) : null,
      silenceForm({
        matchers,
        onCreated: () => {
          setChildren(formSlot);
          tab = 'silences';
          state = 'active';
          replaceSearch('');
          void load();
        },
        onCancel: close,
      }),
    );
  };

  root.append(
    h(
      'div',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', null, 'Silences'),
        h('button', { type: 'button', class: 'primary new-silence', onclick: () => openForm('') }, 'New silence'),
        h('button', { type: 'button', onclick: () => void load() }, 'Refresh'),
      ),
      formSlot,
      tabs,
      body,
    ),
  );
  if (params.has('create')) openForm(params.get('matchers') ?? '');
  else syncUrl();
  void load();
  return () => {
    alive = false;
  };
}
