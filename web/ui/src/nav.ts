// In-app navigation without importing the router (which would be a cycle): push the new
// URL and let the router's popstate listener render it.

export function navigate(href: string): void {
  history.pushState(null, '', href);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** Replaces the query string of the current page without rendering again. */
export function replaceSearch(search: string): void {
  const url = `${location.pathname}${search ? `?${search}` : ''}`;
  if (url !== location.pathname + location.search) history.replaceState(null, '', url);
}
