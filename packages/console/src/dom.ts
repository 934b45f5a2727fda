// The few DOM helpers the console needs: find an element the page must
// have, build small trees, and speak through the page's live region.

/** The element with this id, of this type; the page is ours, so a missing one is a bug. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`console: no #${id} in the page`);
  return el as T;
}

type Child = Node | string | false | undefined;

/** An element with attributes (`class`, `aria-*`, `data-*`, …) and children; text is always text, never markup. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== false && c !== undefined) el.append(c);
  return el;
}

/** Says something to assistive technology without moving focus (the page's polite live region). */
export function announce(text: string): void {
  const region = byId('announcer');
  // Emptied first so the same words said twice are announced twice.
  region.textContent = '';
  requestAnimationFrame(() => (region.textContent = text));
}

/** A form's submit, without the page reloading; errors become the form's status text. */
export function onSubmit(form: HTMLFormElement, handler: () => Promise<void> | void): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void Promise.resolve()
      .then(handler)
      .catch((err: unknown) => announce(String((err as Error)?.message ?? err)));
  });
}
