// Modal dialogs: confirming something, and creating a room. Native <dialog> keeps
// focus inside and closes on Escape.

import { h, uniqueId } from '../dom.js';
import { describeError, describeField } from '../errors.js';

function openDialog(dialog) {
  document.body.append(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close('cancel'); // a click on the backdrop
  });
  dialog.showModal();
}

/** Resolves true when confirmed. */
export function confirmDialog({ title, message, confirmLabel = 'OK', danger = false }) {
  return new Promise((resolve) => {
    const titleId = uniqueId('dialog-title');
    const confirm = h('button', { type: 'submit', value: 'confirm', class: `button ${danger ? 'danger' : 'primary'}` }, confirmLabel);
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: titleId, class: 'dialog-title' }, title),
        message ? h('p', { class: 'dialog-text' }, message) : null,
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
    confirm.focus();
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
