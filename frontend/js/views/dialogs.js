// Modal dialogs: confirming something, creating a room, browsing rooms. Native
// <dialog> keeps focus inside and closes on Escape.

import { h, replace, uniqueId } from '../dom.js';
import { describeError, describeField } from '../errors.js';
import { icon } from '../icons.js';

export function openDialog(dialog) {
  document.body.append(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close('cancel'); // a click on the backdrop
  });
  dialog.showModal();
}

/**
 * Resolves true when confirmed. With `requireText`, the person must type it first (for
 * what cannot be undone, such as deleting a room).
 */
export function confirmDialog({ title, message, confirmLabel = 'OK', danger = false, requireText = null }) {
  return new Promise((resolve) => {
    const titleId = uniqueId('dialog-title');
    const textId = uniqueId('dialog-text');
    const confirm = h('button', { type: 'submit', value: 'confirm', class: `button ${danger ? 'danger' : 'primary'}` }, confirmLabel);
    let typed = null;
    if (requireText !== null) {
      const inputId = uniqueId('confirm-text');
      const input = h('input', { id: inputId, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', dir: 'auto' });
      const matches = () => input.value.trim() === requireText;
      input.addEventListener('input', () => {
        confirm.disabled = !matches();
      });
      confirm.disabled = true;
      typed = { input, field: h('div', { class: 'field' }, h('label', { for: inputId }, 'Type ', h('strong', { dir: 'auto' }, requireText), ' to confirm'), input) };
    }
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': message ? textId : null },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: titleId, class: 'dialog-title' }, title),
        message ? h('p', { class: 'dialog-text', id: textId }, message) : null,
        typed?.field,
        h(
          'div',
          { class: 'dialog-actions' },
          h('button', { type: 'submit', value: 'cancel', class: 'button' }, 'Cancel'),
          confirm,
        ),
      ),
    );
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'));
    openDialog(dialog);
    (typed?.input ?? confirm).focus();
  });
}

/** `create({name, description, isPrivate})` returns a promise of the room. */
export function createRoomDialog({ create }) {
  return new Promise((resolve) => {
    const titleId = uniqueId('dialog-title');
    const nameId = uniqueId('room-name');
    const descId = uniqueId('room-desc');
    const privId = uniqueId('room-private');
    const name = h('input', { id: nameId, name: 'name', maxlength: 64, required: true, autocomplete: 'off', placeholder: 'e.g. design-team', 'aria-describedby': `${nameId}-error` });
    const nameError = h('p', { class: 'field-error', id: `${nameId}-error` });
    const description = h('textarea', { id: descId, name: 'description', maxlength: 1000, rows: 2, placeholder: 'What is this room about?' });
    const isPrivate = h('input', { id: privId, type: 'checkbox', name: 'is_private', 'aria-describedby': `${privId}-hint` });
    const formError = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'button primary' }, 'Create room');
    const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
    let created = null;

    const form = h(
      'form',
      { novalidate: true },
      h('h2', { id: titleId, class: 'dialog-title' }, 'Create a room'),
      h('div', { class: 'field' }, h('label', { for: nameId }, 'Name'), name, nameError),
      h('div', { class: 'field' }, h('label', { for: descId }, 'Description', h('span', { class: 'optional' }, ' (optional)')), description),
      h(
        'div',
        { class: 'field checkbox-field' },
        isPrivate,
        h('label', { for: privId }, 'Private room'),
        h('p', { class: 'field-hint', id: `${privId}-hint` }, 'Only people you invite can see and join it.'),
      ),
      formError,
      h('div', { class: 'dialog-actions' }, cancel, submit),
    );
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => resolve(created));

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const values = { name: name.value.trim(), description: description.value.trim(), isPrivate: isPrivate.checked };
      nameError.textContent = values.name ? '' : 'Give the room a name.';
      formError.textContent = '';
      if (!values.name) {
        name.setAttribute('aria-invalid', 'true');
        name.focus();
        return;
      }
      name.removeAttribute('aria-invalid');
      submit.disabled = true;
      submit.textContent = 'Creating…';
      try {
        created = await create(values);
        dialog.close();
      } catch (error) {
        submit.disabled = false;
        submit.textContent = 'Create room';
        if (error.status === 409) {
          nameError.textContent = describeError(error, 'createRoom');
          name.setAttribute('aria-invalid', 'true');
          name.focus();
        } else if (error.status === 422 && error.fields?.name) {
          nameError.textContent = describeField('name', error.fields.name);
          name.focus();
        } else {
          formError.textContent = describeError(error, 'createRoom');
        }
      }
    });
    openDialog(dialog);
    name.focus();
  });
}

/**
 * The rooms one can see (public ones, and one's private ones), to find one to open and
 * join. `load()` gives them; `isMine(room)` says which I am in already.
 */
export function browseRoomsDialog({ load, isMine, onOpen }) {
  const titleId = uniqueId('dialog-title');
  const filterId = uniqueId('browse-filter');
  const filter = h('input', { id: filterId, type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder: 'Filter by name', 'aria-controls': 'browse-list' });
  const list = h('ul', { class: 'browse-list', id: 'browse-list', 'aria-busy': 'true' });
  const close = h('button', { type: 'button', class: 'button' }, 'Close');
  const dialog = h(
    'dialog',
    { class: 'dialog browse-dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId, class: 'dialog-title' }, 'Browse rooms'),
    h('div', { class: 'field' }, h('label', { for: filterId, class: 'sr-only' }, 'Filter rooms by name'), filter),
    list,
    h('div', { class: 'dialog-actions' }, close),
  );
  let rooms = null;
  const render = () => {
    if (rooms === null) {
      replace(list, h('li', { class: 'muted pad' }, 'Loading rooms…'));
      return;
    }
    const query = filter.value.trim().toLowerCase();
    const shown = rooms.filter((room) => room.name.toLowerCase().includes(query));
    replace(
      list,
      shown.length
        ? shown.map((room) =>
            h(
              'li',
              {},
              h(
                'a',
                {
                  class: 'browse-room',
                  href: `#/rooms/${encodeURIComponent(room.id)}`,
                  onclick: () => {
                    dialog.close();
                    onOpen?.(room);
                  },
                },
                icon(room.is_private ? 'lock' : 'hash', { size: 16 }),
                h(
                  'span',
                  { class: 'browse-text' },
                  h('span', { class: 'browse-name', dir: 'auto' }, room.name, room.is_private ? h('span', { class: 'sr-only' }, ' (private)') : null),
                  room.description ? h('span', { class: 'browse-description', dir: 'auto' }, room.description) : null,
                ),
                isMine(room) ? h('span', { class: 'browse-joined' }, 'Joined') : null,
                h('span', { class: 'browse-count' }, `${room.member_count} ${room.member_count === 1 ? 'member' : 'members'}`),
              ),
            ),
          )
        : h('li', { class: 'muted pad' }, rooms.length ? 'No room matches.' : 'There are no rooms yet.'),
    );
  };
  filter.addEventListener('input', render);
  filter.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      list.querySelector('a')?.click();
    }
  });
  close.addEventListener('click', () => dialog.close());
  render();
  openDialog(dialog);
  filter.focus();
  load().then(
    (loaded) => {
      // Rooms to join first (most members first), then the ones I am in.
      rooms = loaded
        .filter((room) => room.kind !== 'direct')
        .sort((a, b) => Number(isMine(a)) - Number(isMine(b)) || b.member_count - a.member_count || a.name.localeCompare(b.name));
      list.setAttribute('aria-busy', 'false');
      render();
    },
    (error) => {
      list.setAttribute('aria-busy', 'false');
      replace(list, h('li', { class: 'form-error' }, describeError(error, 'load')));
    },
  );
  return dialog;
}
