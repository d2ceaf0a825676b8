// Searching messages (SPEC: GET /api/search): in every room of mine or in the open one,
// newest first, the words found marked, more pages on request; choosing a result opens
// its room at that message. What was searched is kept for the next time it opens.

import { api } from '../api.js';
import { h, replace, uniqueId } from '../dom.js';
import { describeError } from '../errors.js';
import { roomLabel } from '../format.js';
import { icon } from '../icons.js';
import { excerpt, queryWords, searchable } from '../words.js';
import { openDialog } from './dialogs.js';
import { arrowKeys, marked, moreRow, resultItem } from './message-results.js';

const DEBOUNCE_MS = 250;
const PAGE = 20;

/**
 * `state`: {q, here} kept between openings; `rooms`: my rooms (MyRooms); `room`: the
 * open one, or null; `onOpen(message)`: a result was chosen.
 */
export function searchDialog({ state, rooms, me, room, onOpen }) {
  const titleId = uniqueId('dialog-title');
  const inputId = uniqueId('search-input');
  const hereId = uniqueId('search-here');
  const input = h('input', {
    id: inputId,
    type: 'search',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'Words to find',
    maxlength: 400,
    'aria-controls': 'search-results',
    'aria-describedby': `${inputId}-hint`,
  });
  input.value = state.q ?? '';
  // The open room, when I am one of its members (a search of another's room is a 404).
  const here = room?.access === 'member' ? h('input', { id: hereId, type: 'checkbox', checked: Boolean(state.here) }) : null;
  const status = h('p', { class: 'search-status', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'result-list', id: 'search-results', 'aria-label': 'Search results' });
  const more = h('div', { class: 'result-more' });
  const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', title: 'Close (Esc)' }, icon('close'));
  const dialog = h(
    'dialog',
    { class: 'dialog results-dialog', id: 'search-dialog', 'aria-labelledby': titleId },
    h(
      'div',
      { class: 'results-head' },
      h('div', { class: 'dialog-head plain' }, h('h2', { class: 'dialog-title', id: titleId }, 'Search messages'), close),
      h(
        'div',
        { class: 'search-field', role: 'search' },
        h('label', { for: inputId, class: 'sr-only' }, 'Search messages'),
        icon('search', { size: 16 }),
        input,
      ),
      h(
        'div',
        { class: 'search-options' },
        here ? h('label', { class: 'search-here', for: hereId }, here, `${room.isDirect ? 'Only with' : 'Only in'} ${roomLabel(room.room, me)}`) : null,
        h('p', { class: 'field-hint', id: `${inputId}-hint` }, 'Finds messages with every word, or words that start with them.'),
      ),
      status,
    ),
    list,
    more,
  );

  let timer = null;
  let controller = null;
  let current = null; // {q, words, roomId, messages, hasMore, loading}

  const render = () => {
    if (!current) {
      replace(list);
      moreRow(more, { hasMore: false });
      return;
    }
    replace(
      list,
      current.messages.map((message) =>
        resultItem({
          message,
          rooms,
          me,
          body: marked(excerpt(message.body, current.words), current.words),
          onOpen: (chosen) => {
            dialog.close();
            onOpen(chosen);
          },
        }),
      ),
    );
    moreRow(more, { hasMore: current.hasMore, loading: current.loading && current.messages.length > 0, label: 'More results', onMore: () => load(true) });
  };

  async function load(next = false) {
    // More of the page on show is more of its own query, whatever the box says by now.
    const more = next && current !== null;
    const q = more ? current.q : input.value.trim();
    state.q = input.value;
    state.here = Boolean(here?.checked);
    controller?.abort();
    if (!q) {
      current = null;
      status.textContent = '';
      render();
      return;
    }
    if (!searchable(q)) {
      current = null;
      status.textContent = [...q].length > 200 ? 'That is too long: search for 200 characters at most.' : 'Type a word: searches look for letters and digits.';
      render();
      return;
    }
    const roomId = more ? current.roomId : here?.checked ? room.room.id : null;
    if (!more) current = { q, words: queryWords(q), roomId, messages: [], hasMore: false, loading: true };
    const page = current;
    page.loading = true;
    if (!next) status.textContent = 'Searching…';
    render();
    const mine = new AbortController();
    controller = mine;
    try {
      const before = next ? page.messages[page.messages.length - 1]?.id ?? null : null;
      const found = await api.search({ q, roomId, before, limit: PAGE }, { signal: mine.signal });
      if (current !== page) return;
      page.messages.push(...found.messages);
      page.hasMore = found.has_more;
      page.loading = false;
      const count = page.messages.length;
      status.textContent = count === 0 ? 'No messages match.' : `${count}${page.hasMore ? '+' : ''} ${count === 1 ? 'message' : 'messages'} found.`;
      render();
      if (next) list.querySelectorAll('a.result')[count - found.messages.length]?.focus();
    } catch (error) {
      if (error.name === 'AbortError' || current !== page) return;
      page.loading = false;
      if (error.name !== 'SessionEnded') status.textContent = describeError(error, 'search');
      render();
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(), DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      clearTimeout(timer);
      load();
    } else if (event.key === 'Escape') {
      // (A search field would clear itself first: the query is kept for next time anyway.)
      event.preventDefault();
      dialog.close();
    } else if (event.key === 'ArrowDown') {
      const first = list.querySelector('a.result');
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  here?.addEventListener('change', () => load());
  arrowKeys(list, input);
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    clearTimeout(timer);
    controller?.abort();
  });
  openDialog(dialog);
  input.focus();
  input.select();
  if (input.value.trim()) load();
  return dialog;
}
