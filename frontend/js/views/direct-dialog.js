// "New direct message": a conversation with one person, by their username (SPEC:
// POST /api/direct; the same room every time, whoever of the two asks first).

import { h, uniqueId } from '../dom.js';
import { USERNAME, USERNAME_RULE, describeError } from '../errors.js';
import { displayName } from '../format.js';
import { openDialog } from './dialogs.js';


/**
 * `open(username)`: a promise of the room; `people`: users to suggest (the members of
 * the rooms known here). Resolves to the room, or null when cancelled.
 */
export function directDialog({ open, people = [] }) {
  return new Promise((resolve) => {
    const titleId = uniqueId('dialog-title');
    const inputId = uniqueId('direct-username');
    const listId = uniqueId('direct-people');
    const input = h('input', {
      id: inputId,
      name: 'username',
      autocomplete: 'off',
      spellcheck: 'false',
      autocapitalize: 'off',
      placeholder: 'username',
      maxlength: 33,
      list: people.length ? listId : null,
      'aria-describedby': `${inputId}-hint ${inputId}-error`,
    });
    const error = h('p', { class: 'field-error', id: `${inputId}-error`, role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'button primary' }, 'Start conversation');
    const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
    let opened = null;
    const form = h(
      'form',
      { novalidate: true },
      h('h2', { id: titleId, class: 'dialog-title' }, 'New direct message'),
      h(
        'div',
        { class: 'field' },
        h('label', { for: inputId }, 'Username'),
        input,
        people.length
          ? h('datalist', { id: listId }, people.map((user) => h('option', { value: user.username }, displayName(user))))
          : null,
        h('p', { class: 'field-hint', id: `${inputId}-hint` }, 'A private conversation between the two of you. Your own username opens a room for notes to yourself.'),
        error,
      ),
      h('div', { class: 'dialog-actions' }, cancel, submit),
    );
    const dialog = h('dialog', { class: 'dialog', id: 'direct-dialog', 'aria-labelledby': titleId }, form);
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => resolve(opened));
    const fail = (message) => {
      error.textContent = message;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    };
    input.addEventListener('input', () => {
      error.textContent = '';
      input.removeAttribute('aria-invalid');
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const username = input.value.trim().replace(/^@/, '');
      if (!username) return fail('Type the username of the person to write to.');
      if (!USERNAME.test(username)) return fail(USERNAME_RULE);
      submit.disabled = true;
      submit.textContent = 'Opening…';
      try {
        opened = await open(username);
        dialog.close();
      } catch (err) {
        submit.disabled = false;
        submit.textContent = 'Start conversation';
        if (err.name !== 'SessionEnded') fail(describeError(err, 'direct'));
      }
      return undefined;
    });
    openDialog(dialog);
    input.focus();
  });
}
