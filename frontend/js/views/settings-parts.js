// Pieces the account dialog's sections share: a labelled field with its error, a status
// line, and a list whose rows each stand for something that can be ended (a login, an
// API token).

import { append, h, replace, uniqueId } from '../dom.js';
import { describeError } from '../errors.js';
import { formatAgo, formatFull } from '../format.js';
import { confirmDialog } from './dialogs.js';

/** A labelled input with an optional hint and an error line; `attrs` go on the input. */
export function field({ label, type = 'text', autocomplete, hint, maxlength, value = '', optional = false, attrs = {} }) {
  const id = uniqueId('account-field');
  const input = h('input', {
    id,
    type,
    autocomplete,
    maxlength,
    spellcheck: 'false',
    autocapitalize: 'off',
    dir: type === 'text' ? 'auto' : null,
    'aria-describedby': [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' '),
    ...attrs,
  });
  input.value = value;
  const error = h('p', { class: 'field-error', id: `${id}-error` });
  const wrap = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label, optional ? h('span', { class: 'optional' }, ' (optional)') : null),
    input,
    hint ? h('p', { class: 'field-hint', id: `${id}-hint` }, hint) : null,
    error,
  );
  const set = (message) => {
    error.textContent = message || '';
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  };
  return { input, wrap, set };
}

/** A time as "5 minutes ago" (or "in 3 days"), the full date and time on hover. */
export function ago(iso) {
  return h('time', { datetime: iso, title: formatFull(iso) }, formatAgo(iso));
}

/**
 * A status line whose changes a screen reader announces. It stays in the page while empty
 * (`live`): a live region that appears with its text is not reliably read.
 */
export function statusLine() {
  return h('p', { class: 'form-message live', role: 'status' });
}

/** Put `text` in a status line (`.form-message`); `kind`: '', 'ok' or 'error'. */
export function say(line, text, kind = '') {
  line.classList.remove('ok', 'error');
  if (kind) line.classList.add(kind);
  line.textContent = text;
}

/** Fill `list` with `row(item)` for each item `load()` gives, or the `empty` line. */
export async function loadList({ list, message, load, row, empty }) {
  list.setAttribute('aria-busy', 'true');
  replace(list, h('li', { class: 'muted' }, 'Loading…'));
  try {
    const items = await load();
    replace(list, items.length ? items.map(row) : h('li', { class: 'muted' }, empty));
  } catch (error) {
    replace(list);
    if (error.name !== 'SessionEnded') say(message, describeError(error, 'load'), 'error');
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}

/** Put `row` first in `list` (made just now), in place of the `empty` line if it was there. */
export function prependRow(list, row) {
  list.querySelector(':scope > li.muted')?.remove();
  list.prepend(row);
}

/**
 * End what `row` stands for with `request()`, once `confirm` (confirmDialog's options), if
 * given, says yes. A 404 means it had ended already: the row goes either way. `message`
 * then says `done`, and focus moves to the next row's button, or to the list.
 */
export async function endRow({ row, list, button, message, request, action, done, empty, confirm = null }) {
  if (confirm && !(await confirmDialog(confirm))) {
    button.focus();
    return;
  }
  say(message, '');
  button.disabled = true;
  try {
    await request();
  } catch (error) {
    if (error.status !== 404) {
      button.disabled = false;
      if (error.name !== 'SessionEnded') say(message, describeError(error, action), 'error');
      button.focus();
      return;
    }
  }
  const next = row.nextElementSibling ?? row.previousElementSibling;
  row.remove();
  if (!list.children.length) append(list, [h('li', { class: 'muted' }, empty)]);
  say(message, done, 'ok');
  (next?.querySelector('button') ?? list).focus();
}
