// A room's settings, for those the SPEC lets change it: name, description and privacy
// (owners, room admins, site admins), the bans (owners and room admins), and deleting
// it (owners and site admins). Controls a person may not use are not drawn at all.

import { h, replace, uniqueId } from '../dom.js';
import { describeError, describeField } from '../errors.js';
import { displayName, formatDateTime, formatFull } from '../format.js';
import { icon } from '../icons.js';
import { avatar } from './avatar.js';
import { confirmDialog, openDialog } from './dialogs.js';

const PRIVACY_HINTS = {
  private: 'Only members see it. People join when an owner or admin invites them.',
  public: 'Everyone on this server can find it and join.',
};

const label = (room) => `${room.is_private ? '' : '#'}${room.name ?? 'this room'}`;

/** `room`: the open RoomSession; `onDeleted(room)` runs once the room is gone. */
export function roomSettingsDialog({ room, onDeleted }) {
  const titleId = uniqueId('dialog-title');
  const closeButton = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', title: 'Close' }, icon('close'));
  const dialog = h(
    'dialog',
    { class: 'dialog settings-dialog', 'aria-labelledby': titleId, id: 'room-settings' },
    h(
      'div',
      { class: 'dialog-head' },
      h('div', {}, h('h2', { id: titleId, class: 'dialog-title' }, 'Room settings'), h('p', { class: 'dialog-subtitle', dir: 'auto' }, label(room.room))),
      closeButton,
    ),
    generalSection(room),
    room.canModerate ? bansSection(room) : null,
    room.canDeleteRoom ? deleteSection(room, () => {
      dialog.close();
      onDeleted?.(room.room);
    }) : null,
  );
  closeButton.addEventListener('click', () => dialog.close());
  openDialog(dialog);
  dialog.querySelector('input')?.focus();
  return dialog;
}

function generalSection(room) {
  const current = room.room;
  const nameId = uniqueId('settings-name');
  const descId = uniqueId('settings-desc');
  const privId = uniqueId('settings-private');
  const name = h('input', { id: nameId, name: 'name', maxlength: 64, required: true, autocomplete: 'off', dir: 'auto', 'aria-describedby': `${nameId}-error` });
  name.value = current.name ?? '';
  const nameError = h('p', { class: 'field-error', id: `${nameId}-error` });
  const description = h('textarea', { id: descId, name: 'description', maxlength: 1000, rows: 3, dir: 'auto', 'aria-describedby': `${descId}-error` });
  description.value = current.description ?? '';
  const descError = h('p', { class: 'field-error', id: `${descId}-error` });
  const isPrivate = h('input', { id: privId, type: 'checkbox', name: 'is_private', checked: Boolean(current.is_private), 'aria-describedby': `${privId}-hint` });
  const hint = h('p', { class: 'field-hint', id: `${privId}-hint` });
  const showHint = () => {
    hint.textContent = PRIVACY_HINTS[isPrivate.checked ? 'private' : 'public'];
  };
  isPrivate.addEventListener('change', showHint);
  showHint();
  const message = h('p', { class: 'form-message', role: 'status' });
  const save = h('button', { type: 'submit', class: 'button primary' }, 'Save changes');

  const form = h(
    'form',
    { class: 'settings-section', novalidate: true, 'aria-labelledby': `${nameId}-heading` },
    h('h3', { class: 'section-title', id: `${nameId}-heading` }, 'General'),
    h('div', { class: 'field' }, h('label', { for: nameId }, 'Name'), name, nameError),
    h('div', { class: 'field' }, h('label', { for: descId }, 'Description', h('span', { class: 'optional' }, ' (optional)')), description, descError),
    h('div', { class: 'field checkbox-field' }, isPrivate, h('label', { for: privId }, 'Private room'), hint),
    h('div', { class: 'section-actions' }, message, save),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    nameError.textContent = '';
    descError.textContent = '';
    message.className = 'form-message';
    message.textContent = '';
    name.removeAttribute('aria-invalid');
    const values = { name: name.value.trim(), description: description.value.trim(), is_private: isPrivate.checked };
    if (!values.name) {
      nameError.textContent = 'Give the room a name.';
      name.setAttribute('aria-invalid', 'true');
      name.focus();
      return;
    }
    const changes = Object.fromEntries(Object.entries(values).filter(([field, value]) => value !== (room.room[field] ?? '')));
    if (!Object.keys(changes).length) {
      message.textContent = 'Nothing has changed.';
      return;
    }
    save.disabled = true;
    try {
      await room.update(changes);
      message.textContent = 'Saved.';
      message.classList.add('ok');
    } catch (error) {
      const fields = error.status === 422 ? error.fields ?? {} : {};
      if (error.status === 409 || fields.name) {
        nameError.textContent = fields.name ? describeField('name', fields.name) : describeError(error, 'updateRoom');
        name.setAttribute('aria-invalid', 'true');
        name.focus();
      } else if (fields.description) {
        descError.textContent = describeField('description', fields.description);
        description.focus();
      } else {
        message.textContent = describeError(error, 'updateRoom');
        message.classList.add('error');
      }
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

function bansSection(room) {
  const headingId = uniqueId('bans-title');
  const list = h('ul', { class: 'ban-list', id: 'ban-list', 'aria-labelledby': headingId });
  const message = h('p', { class: 'form-message', role: 'status' });
  const section = h(
    'section',
    { class: 'settings-section', 'aria-labelledby': headingId },
    h('h3', { class: 'section-title', id: headingId }, 'Banned people'),
    h('p', { class: 'section-text' }, "Banned people can't join or be invited. Ban someone from their menu in the members list."),
    list,
    message,
  );

  const lift = async (ban, row, button) => {
    const name = displayName(ban.user);
    button.disabled = true;
    message.className = 'form-message';
    try {
      await room.unban(ban.user.id);
    } catch (error) {
      button.disabled = false;
      message.textContent = describeError(error, 'unban');
      message.classList.add('error');
      if (error.status !== 404) return;
    }
    const next = row.nextElementSibling ?? row.previousElementSibling;
    row.remove();
    if (!list.children.length) replace(list, h('li', { class: 'muted' }, 'Nobody is banned.'));
    if (!message.classList.contains('error')) {
      message.textContent = `${name} is no longer banned${room.room.is_private ? '' : ' and can join again'}.`;
      message.classList.add('ok');
    }
    (next?.querySelector('button') ?? list).focus();
  };

  const render = (bans) => {
    if (!bans.length) {
      replace(list, h('li', { class: 'muted' }, 'Nobody is banned.'));
      return;
    }
    replace(
      list,
      bans.map((ban) => {
        const name = displayName(ban.user);
        const button = h('button', { type: 'button', class: 'button small', 'aria-label': `Lift the ban on ${name}` }, 'Lift ban');
        const by = ban.banned_by ? `by ${displayName(ban.banned_by)} ` : '';
        const row = h(
          'li',
          { class: 'ban', dataset: { username: ban.user.username } },
          avatar(ban.user, { size: 'sm' }),
          h(
            'span',
            { class: 'ban-text' },
            h('span', { class: 'ban-name' }, h('span', { dir: 'auto' }, name), h('span', { class: 'muted' }, ` @${ban.user.username}`)),
            h('span', { class: 'ban-meta' }, `Banned ${by}on `, h('time', { datetime: ban.banned_at, title: formatFull(ban.banned_at) }, formatDateTime(ban.banned_at))),
          ),
          button,
        );
        button.addEventListener('click', () => lift(ban, row, button));
        return row;
      }),
    );
  };

  list.tabIndex = -1;
  replace(list, h('li', { class: 'muted' }, 'Loading…'));
  room.bans().then(render, (error) => {
    replace(list);
    message.textContent = describeError(error, 'load');
    message.classList.add('error');
  });
  return section;
}

function deleteSection(room, onDeleted) {
  const headingId = uniqueId('delete-title');
  const error = h('p', { class: 'form-error', role: 'alert' });
  const button = h('button', { type: 'button', class: 'button danger', id: 'delete-room' }, icon('trash', { size: 16 }), 'Delete room…');
  button.addEventListener('click', async () => {
    const name = room.room.name ?? '';
    const ok = await confirmDialog({
      title: `Delete ${label(room.room)}?`,
      message: `Everyone loses ${label(room.room)} and all of its messages, at once. This can't be undone.`,
      confirmLabel: 'Delete room',
      danger: true,
      requireText: name,
    });
    if (!ok) {
      button.focus();
      return;
    }
    error.textContent = '';
    button.disabled = true;
    try {
      await room.deleteRoom();
      onDeleted();
    } catch (err) {
      button.disabled = false;
      error.textContent = describeError(err, 'deleteRoom');
    }
  });
  return h(
    'section',
    { class: 'settings-section danger-zone', 'aria-labelledby': headingId },
    h('h3', { class: 'section-title', id: headingId }, 'Delete this room'),
    h('p', { class: 'section-text' }, 'Deletes the room with all its messages and memberships, for everyone.'),
    error,
    h('div', { class: 'section-actions' }, button),
  );
}
