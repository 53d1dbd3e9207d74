// Client-side router. The server answers every page path with index.html; this picks the
// page for `location.pathname`, renders it into #app and handles in-app links.

import './style.css';
import { errorBox, h, loading, setChildren } from './dom';
import { navigate } from './nav';

/** A rendered page may return a cleanup that runs before the next page renders. */
export type Cleanup = () => void;
export type Page = (root: HTMLElement, params: URLSearchParams) => Cleanup | void;

interface Route {
  section: string;
  title: string;
  load: () => Promise<Page>;
}

const ROUTES: Record<string, Route> = {
  '/query': { section: 'query', title: 'Query', load: async () => (await import('./pages/query')).render },
  '/alerts': { section: 'alerts', title: 'Alerts', load: async () => (await import('./pages/alerts')).render },
  '/rules': { section: 'rules', title: 'Rules', load: async () => (await import('./pages/rules')).render },
  '/targets': { section: 'targets', title: 'Targets', load: async () => (await import('./pages/targets')).render },
  '/silences': { section: 'silences', title: 'Silences', load: async () => (await import('./pages/silences')).render },
  '/status': { section: 'status', title: 'Status', load: async () => (await import('./pages/status')).renderRuntime },
  '/tsdb-status': { section: 'status', title: 'TSDB status', load: async () => (await import('./pages/status')).renderTsdb },
  '/flags': { section: 'status', title: 'Flags', load: async () => (await import('./pages/status')).renderFlags },
  '/config': { section: 'status', title: 'Configuration', load: async () => (await import('./pages/status')).renderConfig },
};

let cleanup: Cleanup | void;
let generation = 0;

async function renderCurrent(): Promise<void> {
  const app = document.getElementById('app');
  if (!app) return;
  let path = location.pathname.replace(/\/+$/, '') || '/';
  // Prometheus' old expression browser lived at /graph; alert generatorURLs still point there.
  if (path === '/graph' || path === '/') {
    path = '/query';
    history.replaceState(null, '', `/query${location.search}`);
  }
  const gen = ++generation;
  if (cleanup) cleanup();
  cleanup = undefined;
  const route = ROUTES[path];
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    a.classList.toggle('active', a.dataset['section'] === route?.section);
  }
  if (!route) {
    document.title = 'Not found · Argus';
    setChildren(app, h('div', { class: 'page' }, errorBox(`No page at ${path}.`)));
    return;
  }
  document.title = `${route.title} · Argus`;
  app.className = `section-${route.section}`;
  setChildren(app, loading());
  try {
    const page = await route.load();
    if (gen !== generation) return;
    app.replaceChildren();
    cleanup = page(app, new URLSearchParams(location.search));
  } catch (e) {
    if (gen !== generation) return;
    setChildren(app, errorBox(`Cannot load this page: ${(e as Error).message}`));
  }
}

document.addEventListener('click', (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = (ev.target as Element | null)?.closest?.('a[data-link]');
  if (!(a instanceof HTMLAnchorElement) || a.origin !== location.origin) return;
  ev.preventDefault();
  if (a.pathname + a.search !== location.pathname + location.search) navigate(a.pathname + a.search);
});

window.addEventListener('popstate', () => void renderCurrent());
void renderCurrent();
