// The query page: a list of panels whose state lives in the URL (see urlstate.ts).

import { h } from '../dom';
import type { Cleanup } from '../main';
import { replaceSearch } from '../nav';
import { decodePanels, defaultPanel, encodePanels, type PanelState } from '../urlstate';
import { Panel } from '../query/panel';

export function render(root: HTMLElement, params: URLSearchParams): Cleanup {
  const panels: Panel[] = [];
  const list = h('div');

  const sync = () => replaceSearch(encodePanels(panels.map((p) => p.state)));

  const add = (state: PanelState, run: boolean) => {
    const panel: Panel = new Panel(state, {
      onChange: sync,
      onRemove: () => {
        const i = panels.indexOf(panel);
        if (i < 0) return;
        panels.splice(i, 1);
        panel.destroy();
        panel.el.remove();
        if (panels.length === 0) add(defaultPanel(), false);
        sync();
      },
    });
    panels.push(panel);
    list.appendChild(panel.el);
    // Executing needs the panel in the document so the graph knows its width.
    if (run) panel.execute();
    return panel;
  };

  root.append(
    list,
    h(
      'div',
      { class: 'add-panel' },
      h('button', { type: 'button', onclick: () => add(defaultPanel(), false) }, '+ Add panel'),
    ),
  );

  const initial = decodePanels(params);
  if (initial.length === 0) {
    add(defaultPanel(), false).execute();
  } else {
    for (const state of initial) add(state, true);
  }
  sync();
  (list.querySelector('.cm-content') as HTMLElement | null)?.focus();

  return () => {
    for (const p of panels) p.destroy();
  };
}
