// The messages that mention me, in every room of mine, newest first (SPEC:
// GET /api/me/mentions), older ones a page at a time; each opens its room at it.

import { api } from '../api.js';
import { h, replace, uniqueId } from '../dom.js';
import { describeError } from '../errors.js';
import { oneLine } from '../format.js';
import { icon } from '../icons.js';
import { openDialog } from './dialogs.js';
import { renderBody } from './message-list.js';
import { arrowKeys, moreRow, resultItem } from './message-results.js';

const PAGE = 30;
const BODY_CHARS = 400;

/** `rooms`: my rooms (MyRooms); `onOpen(message)`: one was chosen. */
export function mentionsDialog({ rooms, me, onOpen }) {
  const titleId = uniqueId('dialog-title');
  const status = h('p', { class: 'search-status', role: 'status', 'aria-live': 'polite' }, 'Loading…');
  const list = h('ul', { class: 'result-list', id: 'mention-results', 'aria-labelledby': titleId });
  const more = h('div', { class: 'result-more' });
  const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', title: 'Close (Esc)' }, icon('close'));
  const dialog = h(
    'dialog',
    { class: 'dialog results-dialog', id: 'mentions-dialog', 'aria-labelledby': titleId },
    h(
      'div',
      { class: 'results-head' },
      h('div', { class: 'dialog-head plain' }, h('h2', { class: 'dialog-title', id: titleId }, 'Mentions'), close),
      h('p', { class: 'field-hint' }, `Messages that mention @${me.username}, newest first.`),
      status,
    ),
    list,
    more,
  );
  const people = { usernames: new Set([me.username.toLowerCase()]), me: me.username.toLowerCase() };
  const shown = [];
  let hasMore = false;
  let loading = false;

  const render = () => {
    replace(
      list,
      shown.map((message) =>
        resultItem({
          message,
          rooms,
          me,
          body: renderBody(oneLine(message.body, BODY_CHARS), people),
          onOpen: (chosen) => {
            dialog.close();
            onOpen(chosen);
          },
        }),
      ),
    );
    moreRow(more, { hasMore, loading: loading && shown.length > 0, label: 'Older mentions', onMore: () => load() });
  };

  async function load() {
    if (loading) return;
    loading = true;
    render();
    const before = shown[shown.length - 1]?.id ?? null;
    try {
      const page = await api.mentions({ before, limit: PAGE });
      const first = shown.length;
      shown.push(...page.messages);
      hasMore = page.has_more;
      status.textContent = shown.length ? `${shown.length}${hasMore ? '+' : ''} ${shown.length === 1 ? 'mention' : 'mentions'}.` : 'Nobody has mentioned you yet.';
      loading = false;
      render();
      if (before !== null) list.querySelectorAll('a.result')[first]?.focus();
    } catch (error) {
      loading = false;
      if (error.name !== 'SessionEnded') status.textContent = describeError(error, 'load');
      render();
    }
  }

  arrowKeys(list, close);
  close.addEventListener('click', () => dialog.close());
  openDialog(dialog);
  close.focus();
  load().then(() => {
    if (document.activeElement === close) list.querySelector('a.result')?.focus();
  });
  return dialog;
}
