// A tiny element builder: the UI is a handful of pages that render lists and tables,
// which does not need a framework.

export type Child = Node | string | number | null | undefined | false | Child[];

type Handler = (ev: Event) => void;
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>;

/** Properties that must be set on the element, not as attributes, to take effect. */
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'indeterminate']);

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (typeof v === 'function') {
        el.addEventListener(k.replace(/^on/, '').toLowerCase(), v);
      } else if (PROPS.has(k)) {
        (el as unknown as Record<string, unknown>)[k] = v;
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else if (c instanceof Node) parent.appendChild(c);
    else parent.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces all children of `el`. */
export function setChildren(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A link handled by the client-side router (see main.ts). */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href, 'data-link': true }, ...children);
}

export function errorBox(message: string): HTMLElement {
  return h('div', { class: 'alert alert-error', role: 'alert' }, message);
}

export function warningBox(messages: string[], kind: 'warning' | 'info' = 'warning'): HTMLElement {
  return h(
    'div',
    { class: kind === 'warning' ? 'alert alert-warning' : 'alert alert-info' },
    messages.map((m) => h('div', null, (kind === 'warning' ? 'Warning: ' : 'Info: ') + m)),
  );
}

export function loading(): HTMLElement {
  return h('div', { class: 'loading' }, 'Loading…');
}

export function badge(text: string, kind: string): HTMLElement {
  return h('span', { class: `badge badge-${kind}` }, text);
}

/** Label chips: `name="value"` pairs, `__name__` first. */
export function labelChips(labels: Record<string, string>, skipName = false): HTMLElement {
  const keys = Object.keys(labels).sort((a, b) =>
    a === '__name__' ? -1 : b === '__name__' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  );
  return h(
    'span',
    { class: 'chips' },
    keys
      .filter((k) => !(skipName && k === '__name__'))
      .map((k) => h('span', { class: 'chip' }, `${k}="${labels[k]}"`)),
  );
}

/** Debounces `fn` by `ms`. */
export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number) {
  let t: ReturnType<typeof setTimeout> | undefined;
  return (...a: A) => {
    if (t !== undefined) clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}
