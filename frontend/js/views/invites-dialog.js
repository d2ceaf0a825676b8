// Invitations, for site admins (SPEC: /api/admin/invites): make one for a number of
// signups and days, share its link (`/#invite=CODE`, which the sign-up form reads), see
// the ones still usable, revoke one.

import { api } from '../api.js';
import { copyText } from '../clipboard.js';
import { h, replace, uniqueId } from '../dom.js';
import { describeError, describeField } from '../errors.js';
import { formatDateTime, formatFull } from '../format.js';
import { icon } from '../icons.js';
import { confirmDialog, openDialog } from './dialogs.js';
import { say, statusLine } from './settings-parts.js';

/** The address a person opens to sign up with this invitation. */
function inviteLink(code) {
  return `${window.location.origin}/#invite=${encodeURIComponent(code)}`;
}

function numberField({ label, value, min, max, hint }) {
  const id = uniqueId('invite-field');
  const input = h('input', { id, type: 'number', inputmode: 'numeric', min, max, step: 1, required: true, value: String(value), 'aria-describedby': `${id}-hint ${id}-error` });
  const error = h('p', { class: 'field-error', id: `${id}-error` });
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), input, h('p', { class: 'field-hint', id: `${id}-hint` }, hint), error);
  const read = () => {
    const text = input.value.trim();
    const number = Number(text);
    const ok = /^\d+$/.test(text) && number >= min && number <= max;
    error.textContent = ok ? '' : `A whole number from ${min} to ${max.toLocaleString()}.`;
    if (ok) input.removeAttribute('aria-invalid');
    else input.setAttribute('aria-invalid', 'true');
    return ok ? number : null;
  };
  const set = (message) => {
    error.textContent = message;
    input.setAttribute('aria-invalid', 'true');
  };
  return { input, wrap, read, set };
}

export function invitesDialog() {
  const titleId = uniqueId('dialog-title');
  const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', title: 'Close' }, icon('close'));
  const uses = numberField({ label: 'Sign-ups it allows', value: 1, min: 1, max: 1_000_000, hint: 'Each successful sign-up uses one.' });
  const days = numberField({ label: 'Days until it expires', value: 7, min: 1, max: 3650, hint: 'From now.' });
  const createMessage = statusLine();
  const create = h('button', { type: 'submit', class: 'button primary' }, 'Create invitation');
  const createId = uniqueId('invite-create');
  const listId = uniqueId('invite-list');
  const list = h('ul', { class: 'invite-list', 'aria-labelledby': listId, 'aria-busy': 'true', tabindex: '-1' });
  const listMessage = statusLine();
  let invites = null;
  let fresh = null; // the one just made: shown first, its link ready to copy

  const form = h(
    'form',
    { class: 'settings-section', novalidate: true, 'aria-labelledby': createId },
    h('h3', { class: 'section-title', id: createId }, 'New invitation'),
    h('p', { class: 'section-text' }, 'Anyone with its link can create an account here, even when sign-up is by invitation only.'),
    h('div', { class: 'field-pair' }, uses.wrap, days.wrap),
    h('div', { class: 'section-actions' }, createMessage, create),
  );
  const dialog = h(
    'dialog',
    { class: 'dialog settings-dialog', id: 'invites', 'aria-labelledby': titleId },
    h('div', { class: 'dialog-head' }, h('div', {}, h('h2', { id: titleId, class: 'dialog-title' }, 'Invitations'), h('p', { class: 'dialog-subtitle' }, 'Links that let people sign up on this server.')), close),
    form,
    h('section', { class: 'settings-section', 'aria-labelledby': listId }, h('h3', { class: 'section-title', id: listId }, 'Usable invitations'), listMessage, list),
  );

  const row = (invite) => {
    const link = inviteLink(invite.code);
    const linkId = uniqueId('invite-link');
    const input = h('input', { id: linkId, class: 'invite-link', readonly: true, value: link, spellcheck: 'false', onfocus: (event) => event.target.select() });
    const copied = h('span', { class: 'invite-copied', role: 'status' });
    const copyButton = h('button', { type: 'button', class: 'button small', 'aria-describedby': linkId }, icon('copy', { size: 14 }), 'Copy link');
    copyButton.addEventListener('click', async () => {
      copied.textContent = (await copyText(link, input)) ? 'Copied.' : 'Select the link and copy it.';
    });
    const usesLeft = `${invite.uses_left.toLocaleString()} ${invite.uses_left === 1 ? 'sign-up' : 'sign-ups'} left`;
    const revoke = h(
      'button',
      { type: 'button', class: 'button small subtle danger-text', 'aria-label': `Revoke the invitation with ${usesLeft}, expiring ${formatDateTime(invite.expires_at)}` },
      'Revoke',
    );
    revoke.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: 'Revoke this invitation?',
        message: 'Its link stops working at once. Accounts already made with it stay.',
        confirmLabel: 'Revoke',
        danger: true,
      });
      if (!ok) return;
      try {
        await api.revokeInvite(invite.id);
        say(listMessage, 'Invitation revoked.', 'ok');
      } catch (error) {
        say(listMessage, describeError(error, 'revokeInvite'), 'error');
      }
      await load();
      list.focus();
    });
    return h(
      'li',
      { class: `invite-item${fresh?.id === invite.id ? ' fresh' : ''}`, dataset: { inviteId: String(invite.id) } },
      h('label', { class: 'sr-only', for: linkId }, `Invitation link, ${usesLeft}`),
      h('div', { class: 'copy-row' }, input, copyButton),
      h(
        'p',
        { class: 'invite-meta' },
        usesLeft,
        ' · expires ',
        h('time', { datetime: invite.expires_at, title: formatFull(invite.expires_at) }, formatDateTime(invite.expires_at)),
        copied,
        revoke,
      ),
    );
  };

  const render = () => {
    if (invites === null) {
      replace(list, h('li', { class: 'muted' }, 'Loading…'));
      return;
    }
    list.setAttribute('aria-busy', 'false');
    const ordered = fresh ? [fresh, ...invites.filter((invite) => invite.id !== fresh.id)] : invites;
    replace(list, ordered.length ? ordered.map(row) : h('li', { class: 'muted' }, 'None: every invitation was used up, expired or revoked.'));
  };

  async function load() {
    try {
      invites = await api.invites();
      if (fresh && !invites.some((invite) => invite.id === fresh.id)) fresh = null;
      render();
    } catch (error) {
      list.setAttribute('aria-busy', 'false');
      if (error.name !== 'SessionEnded') replace(list, h('li', { class: 'form-error' }, describeError(error, 'load')));
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    say(createMessage, '');
    const values = { uses: uses.read(), expiresDays: days.read() };
    if (values.uses === null) return uses.input.focus();
    if (values.expiresDays === null) return days.input.focus();
    create.disabled = true;
    try {
      fresh = await api.createInvite(values);
      invites = [fresh, ...(invites ?? [])];
      render();
      say(createMessage, 'Invitation created: copy its link below.', 'ok');
      list.querySelector('.invite-item.fresh .invite-link')?.focus();
    } catch (error) {
      if (error.status === 422 && error.fields?.uses) uses.set(describeField('uses', error.fields.uses));
      else if (error.status === 422 && error.fields?.expires_days) days.set(describeField('expires_days', error.fields.expires_days));
      else if (error.name !== 'SessionEnded') {
        say(createMessage, describeError(error, 'createInvite'), 'error');
      }
    } finally {
      create.disabled = false;
    }
    return undefined;
  });
  close.addEventListener('click', () => dialog.close());
  render();
  openDialog(dialog);
  uses.input.focus();
  load();
  return dialog;
}
