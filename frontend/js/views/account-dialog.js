// One's own account: the display name, the password, desktop notifications, the devices
// logged in (each can be logged out, or all at once), and API tokens for programs.

import { api } from '../api.js';
import { h, replace, uniqueId } from '../dom.js';
import { describeError, describeField } from '../errors.js';
import { describeUserAgent, formatAgo } from '../format.js';
import { icon } from '../icons.js';
import { notifications } from '../notify.js';
import { session } from '../session.js';
import { confirmDialog, openDialog } from './dialogs.js';
import { ago, endRow, field, loadList, statusLine } from './settings-parts.js';
import { tokensSection } from './tokens-section.js';

/** `onUser(user)`: the account changed (a new display name). */
export function accountDialog({ onUser }) {
  const titleId = uniqueId('dialog-title');
  const me = session.user;
  const closeButton = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', title: 'Close' }, icon('close'));
  const dialog = h(
    'dialog',
    { class: 'dialog settings-dialog', 'aria-labelledby': titleId, id: 'account' },
    h(
      'div',
      { class: 'dialog-head' },
      h('div', {}, h('h2', { id: titleId, class: 'dialog-title' }, 'Your account'), h('p', { class: 'dialog-subtitle' }, `Signed in as @${me.username}`)),
      closeButton,
    ),
    profileForm(me, onUser),
    passwordForm(),
    notificationsSection(),
    devicesSection(() => dialog.close()),
    tokensSection(),
  );
  closeButton.addEventListener('click', () => dialog.close());
  openDialog(dialog);
  dialog.querySelector('input')?.focus();
  return dialog;
}

function profileForm(me, onUser) {
  const name = field({ label: 'Display name', autocomplete: 'name', maxlength: 64, value: me.display_name, hint: `How people see you. Your username, @${me.username}, stays.` });
  const message = h('p', { class: 'form-message', role: 'status' });
  const save = h('button', { type: 'submit', class: 'button primary' }, 'Save name');
  const headingId = uniqueId('profile-title');
  const form = h(
    'form',
    { class: 'settings-section', novalidate: true, 'aria-labelledby': headingId },
    h('h3', { class: 'section-title', id: headingId }, 'Profile'),
    name.wrap,
    h('div', { class: 'section-actions' }, message, save),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const displayName = name.input.value.trim();
    message.className = 'form-message';
    message.textContent = '';
    name.set(displayName ? '' : 'Enter the name people should see.');
    if (!displayName) {
      name.input.focus();
      return;
    }
    save.disabled = true;
    try {
      const user = await api.updateMe({ displayName });
      session.setUser(user);
      onUser?.(user);
      name.input.value = user.display_name;
      message.textContent = 'Saved. Rooms show your new name.';
      message.classList.add('ok');
    } catch (error) {
      if (error.status === 422 && error.fields?.display_name) name.set(describeField('display_name', error.fields.display_name));
      else {
        message.textContent = describeError(error, 'profile');
        message.classList.add('error');
      }
      name.input.focus();
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

function passwordForm() {
  const current = field({ label: 'Current password', type: 'password', autocomplete: 'current-password', maxlength: 128 });
  const next = field({ label: 'New password', type: 'password', autocomplete: 'new-password', maxlength: 128, hint: 'At least 8 characters.' });
  const again = field({ label: 'New password, again', type: 'password', autocomplete: 'new-password', maxlength: 128 });
  const message = h('p', { class: 'form-message', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Change password');
  const headingId = uniqueId('password-title');
  const form = h(
    'form',
    { class: 'settings-section', novalidate: true, 'aria-labelledby': headingId },
    h('h3', { class: 'section-title', id: headingId }, 'Password'),
    h('p', { class: 'section-text' }, 'Changing it logs out your other devices.'),
    // A hidden username lets password managers file the new password under the right account.
    h('input', { type: 'text', autocomplete: 'username', value: session.user.username, hidden: true, tabindex: '-1', 'aria-hidden': 'true', readonly: true }),
    current.wrap,
    h('div', { class: 'field-pair' }, next.wrap, again.wrap),
    h('div', { class: 'section-actions' }, message, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.className = 'form-message';
    message.textContent = '';
    const values = { current: current.input.value, next: next.input.value, again: again.input.value };
    const problems = [
      [current, values.current ? '' : 'Enter your current password.'],
      [next, values.next.length < 8 ? 'Use at least 8 characters.' : values.next.length > 128 ? 'Use at most 128 characters.' : ''],
      [again, values.again === values.next ? '' : "The two new passwords don't match."],
    ];
    for (const [f, problem] of problems) f.set(problem);
    const first = problems.find(([, problem]) => problem);
    if (first) {
      first[0].input.focus();
      return;
    }
    submit.disabled = true;
    try {
      await session.changePassword(values.current, values.next);
      for (const f of [current, next, again]) f.input.value = '';
      message.textContent = 'Password changed. Your other devices have been logged out.';
      message.classList.add('ok');
    } catch (error) {
      if (error.status === 403) {
        current.set(describeError(error, 'password'));
        current.input.select();
        current.input.focus();
      } else if (error.status === 422 && error.fields?.new_password) {
        next.set(describeField('new_password', error.fields.new_password));
        next.input.focus();
      } else if (error.name !== 'SessionEnded') {
        message.textContent = describeError(error, 'password');
        message.classList.add('error');
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function notificationsSection() {
  const headingId = uniqueId('notifications-title');
  const text = h('p', { class: 'section-text', id: `${headingId}-text` });
  const actions = h('div', { class: 'section-actions' });
  const render = () => {
    const { permission } = notifications;
    const button = h('button', { type: 'button', class: 'button', id: 'account-notifications', 'aria-describedby': `${headingId}-text` }, icon('bell', { size: 16 }), 'Turn on notifications');
    button.addEventListener('click', async () => {
      button.disabled = true;
      await notifications.ask();
      render();
      actions.querySelector('button')?.focus();
      if (!actions.querySelector('button')) text.focus();
    });
    const texts = {
      granted: "On: when someone mentions you or writes to you directly while this page isn't in front, your computer shows it.",
      denied: "Blocked in this browser. To get them, allow notifications for this site in the browser's site settings, then reload.",
      default: "Get a desktop notification when someone mentions you or writes to you directly while this page isn't in front.",
      unsupported: window.isSecureContext
        ? "This browser can't show desktop notifications."
        : 'Desktop notifications need this server to be reached over HTTPS.',
    };
    text.textContent = texts[permission];
    replace(actions, permission === 'default' ? button : null);
  };
  text.tabIndex = -1;
  render();
  return h('section', { class: 'settings-section', 'aria-labelledby': headingId }, h('h3', { class: 'section-title', id: headingId }, 'Notifications'), text, actions);
}

/** One login of mine: which device, when it was last used, and logging it out. */
function sessionRow(login, { onEnd }) {
  const device = describeUserAgent(login.user_agent);
  const end = login.current ? null : h('button', { type: 'button', class: 'button small', 'aria-label': `Log out ${device.text}, last used ${formatAgo(login.last_used_at)}` }, 'Log out');
  const row = h(
    'li',
    { class: `device${login.current ? ' current' : ''}`, dataset: { sessionId: String(login.id) } },
    h('span', { class: 'device-icon', 'aria-hidden': 'true' }, icon(device.mobile ? 'phone' : 'monitor', { size: 18 })),
    h(
      'span',
      { class: 'device-text' },
      h('span', { class: 'device-name', title: login.user_agent || '' }, h('span', { class: 'device-label' }, device.text), login.current ? h('span', { class: 'device-current' }, 'This device') : null),
      h(
        'span',
        { class: 'device-meta' },
        'Last used ',
        ago(login.last_used_at),
        ' · Logged in ',
        ago(login.created_at),
      ),
    ),
    end,
  );
  end?.addEventListener('click', () => onEnd(login, row, end));
  return row;
}

function devicesSection(close) {
  const headingId = uniqueId('devices-title');
  const list = h('ul', { class: 'device-list', id: 'sessions', 'aria-labelledby': headingId, tabindex: '-1' });
  const message = statusLine();
  const error = h('p', { class: 'form-error', role: 'alert' });
  const onEnd = (login, row, button) =>
    endRow({
      row,
      list,
      button,
      message,
      request: () => api.endSession(login.id),
      action: 'endSession',
      done: `${describeUserAgent(login.user_agent).text} is logged out. It can't sign in again without the password; a page open there keeps working for a few minutes at most.`,
      empty: 'No other logins.',
    });
  loadList({
    list,
    message,
    // This device first, then the most recently used.
    load: async () => [...(await api.sessions())].sort((a, b) => Number(b.current) - Number(a.current)),
    row: (login) => sessionRow(login, { onEnd }),
    empty: 'No other logins.',
  });

  const button = h('button', { type: 'button', class: 'button', id: 'logout-everywhere' }, icon('logout', { size: 16 }), 'Log out everywhere');
  button.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Log out on every device?',
      message: 'Every login of yours ends, this one included: each device has to log in again.',
      confirmLabel: 'Log out everywhere',
      danger: true,
    });
    if (!ok) {
      button.focus();
      return;
    }
    error.textContent = '';
    button.disabled = true;
    try {
      await session.logoutEverywhere(); // the sign-in page replaces the app
      close();
    } catch (err) {
      button.disabled = false;
      if (err.name !== 'SessionEnded') error.textContent = describeError(err, 'logoutAll');
      button.focus();
    }
  });
  return h(
    'section',
    { class: 'settings-section', 'aria-labelledby': headingId },
    h('h3', { class: 'section-title', id: headingId }, 'Devices'),
    h('p', { class: 'section-text' }, 'Where you are logged in. Lost a phone, or used a shared computer? Log it out here.'),
    list,
    message,
    error,
    h('div', { class: 'section-actions' }, button),
  );
}
