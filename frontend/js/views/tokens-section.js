// One's own API tokens (SPEC "Bots and API tokens"), in the account dialog: the ones that
// work, making one (its text shown this once, to copy), revoking one.

import { api } from '../api.js';
import { copyText } from '../clipboard.js';
import { h, replace, uniqueId } from '../dom.js';
import { describeError, describeField } from '../errors.js';
import { formatAgo } from '../format.js';
import { icon } from '../icons.js';
import { ago, endRow, field, loadList, prependRow, say, statusLine } from './settings-parts.js';

const MAX_DAYS = 3650;
const EMPTY = 'You have no API tokens.';

function tokenRow(token, { onRevoke }) {
  const revoke = h('button', { type: 'button', class: 'button small', 'aria-label': `Revoke ${token.name}, created ${formatAgo(token.created_at)}` }, 'Revoke');
  const row = h(
    'li',
    { class: 'device token', dataset: { tokenId: String(token.id) } },
    h('span', { class: 'device-icon', 'aria-hidden': 'true' }, icon('key', { size: 18 })),
    h(
      'span',
      { class: 'device-text' },
      h('span', { class: 'device-name' }, h('span', { class: 'device-label', dir: 'auto', title: token.name }, token.name)),
      h(
        'span',
        { class: 'device-meta' },
        'Created ',
        ago(token.created_at),
        ' · ',
        token.last_used_at ? ['Last used ', ago(token.last_used_at)] : 'Never used',
        ' · ',
        token.expires_at ? ['Expires ', ago(token.expires_at)] : 'Never expires',
      ),
    ),
    revoke,
  );
  revoke.addEventListener('click', () => onRevoke(token, row, revoke));
  return row;
}

/** The new token's text, to copy now: the server keeps only a hash of it. */
function revealed(created, { onDone }) {
  const id = uniqueId('new-token');
  const input = h('input', {
    id,
    class: 'token-text',
    readonly: true,
    value: created.token,
    spellcheck: 'false',
    autocomplete: 'off',
    autocapitalize: 'off',
    'aria-describedby': `${id}-warning`,
    onfocus: (event) => event.target.select(),
  });
  const copied = h('span', { class: 'token-copied', role: 'status' });
  const copy = h('button', { type: 'button', class: 'button small', 'aria-label': 'Copy the new token' }, icon('copy', { size: 14 }), 'Copy');
  copy.addEventListener('click', async () => {
    copied.textContent = (await copyText(created.token, input)) ? 'Copied.' : 'Select the token and copy it.';
  });
  const done = h('button', { type: 'button', class: 'button small subtle' }, 'Done');
  done.addEventListener('click', onDone);
  return h(
    'div',
    { class: 'token-reveal' },
    h('label', { for: id, class: 'token-reveal-label' }, 'New token ', h('strong', { dir: 'auto' }, created.name)),
    h('div', { class: 'copy-row' }, input, copy),
    h(
      'p',
      { class: 'token-warning', id: `${id}-warning` },
      icon('alert', { size: 16 }),
      h('span', {}, "Copy it now: it won't be shown again. Anyone who has it can act as you, so keep it as secret as a password."),
    ),
    h('div', { class: 'token-reveal-foot' }, copied, done),
  );
}

/** The days field: a whole number; null when empty (it never expires); undefined, and said so, otherwise. */
function readDays(days) {
  const text = days.input.value.trim();
  if (!text && !days.input.validity.badInput) {
    days.set('');
    return null;
  }
  if (!/^\d+$/.test(text)) {
    days.set(`A whole number of days, from 1 to ${MAX_DAYS}; or nothing, for a token that never expires.`);
    return undefined;
  }
  days.set(''); // the range is the server's to say
  return Number(text);
}

export function tokensSection() {
  const headingId = uniqueId('tokens-title');
  const formId = uniqueId('token-form-title');
  const list = h('ul', { class: 'device-list', id: 'api-tokens', 'aria-labelledby': headingId, tabindex: '-1' });
  const message = statusLine();
  const slot = h('div', { class: 'token-slot' });
  let shownId = null; // the token whose text the slot shows
  const name = field({ label: 'Name', autocomplete: 'off', hint: 'What it is for, such as “CI notifications”. Up to 100 characters.' });
  const days = field({
    label: 'Days until it expires',
    type: 'number',
    autocomplete: 'off',
    optional: true,
    hint: `1 to ${MAX_DAYS}. Empty: it never expires.`,
    attrs: { inputmode: 'numeric', min: 1, max: MAX_DAYS, step: 1 },
  });
  const formMessage = statusLine();
  const create = h('button', { type: 'submit', class: 'button primary' }, 'Create token');
  const form = h(
    'form',
    { class: 'token-form', novalidate: true, 'aria-labelledby': formId },
    h('h4', { class: 'subsection-title', id: formId }, 'Create a token'),
    h('div', { class: 'field-pair' }, name.wrap, days.wrap),
    h('div', { class: 'section-actions' }, formMessage, create),
  );

  const hide = () => {
    replace(slot);
    shownId = null;
  };
  const onRevoke = async (token, row, button) => {
    await endRow({
      row,
      list,
      button,
      message,
      request: () => api.revokeToken(token.id),
      action: 'revokeToken',
      done: `Token “${token.name}” revoked: programs using it are refused from now on.`,
      empty: EMPTY,
      confirm: {
        title: 'Revoke this token?',
        message: `“${token.name}” stops working at once: programs using it are refused, and their connections close. This cannot be undone.`,
        confirmLabel: 'Revoke',
        danger: true,
      },
    });
    if (!row.isConnected && shownId === token.id) hide();
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    say(formMessage, '');
    const values = { name: name.input.value.trim(), expiresDays: readDays(days) };
    name.set(values.name ? '' : 'Give the token a name: what it is for.');
    if (!values.name) return name.input.focus();
    if (values.expiresDays === undefined) return days.input.focus();
    create.disabled = true;
    try {
      const created = await api.createToken(values);
      name.input.value = '';
      days.input.value = '';
      prependRow(list, tokenRow(created, { onRevoke }));
      shownId = created.id;
      replace(
        slot,
        revealed(created, {
          onDone: () => {
            hide();
            name.input.focus();
          },
        }),
      );
      say(message, `Token “${created.name}” created.`, 'ok');
      slot.querySelector('input')?.focus();
    } catch (error) {
      const { name: badName, expires_days: badDays } = error.status === 422 ? error.fields ?? {} : {};
      if (badName || badDays) {
        if (badName) name.set(describeField('name', badName, 'Name'));
        if (badDays) days.set(describeField('expires_days', badDays));
        (badName ? name : days).input.focus();
      } else if (error.name !== 'SessionEnded') {
        say(formMessage, describeError(error, 'createToken'), 'error');
      }
    } finally {
      create.disabled = false;
    }
    return undefined;
  });

  loadList({ list, message, load: api.tokens, row: (token) => tokenRow(token, { onRevoke }), empty: EMPTY });
  return h(
    'section',
    { class: 'settings-section', 'aria-labelledby': headingId },
    h('h3', { class: 'section-title', id: headingId }, 'API tokens'),
    h('p', { class: 'section-text' }, 'Let a script or another program act as you: it sends a token in its Authorization header. Revoke one you no longer need, or that may have leaked.'),
    list,
    message,
    slot,
    form,
  );
}
