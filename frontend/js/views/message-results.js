// A list of messages from any of my rooms, each labelled with its room, author and time
// and leading to the room at that message: search results and mentions share it. The
// arrow keys move between the results.

import { h, replace, srOnly } from '../dom.js';
import { displayName, formatDateTime, formatFull, parseTime, roomIcon, roomName } from '../format.js';
import { icon } from '../icons.js';
import { matchPieces } from '../words.js';
import { avatar } from './avatar.js';

/** Where a message is shown in the app: its room, opened at it. */
function messageHref(message) {
  return `#/rooms/${encodeURIComponent(message.room_id)}/messages/${encodeURIComponent(message.seq)}`;
}

/** Text with the pieces a search matched in <mark>. */
export function marked(text, words) {
  return matchPieces(text, words).map((piece) => (piece.match ? h('mark', {}, piece.text) : piece.text));
}

/**
 * One result. `rooms`: my rooms (MyRooms); `body`: the nodes of its text; `onOpen`: it
 * was chosen (the link then opens the room).
 */
export function resultItem({ message, rooms, me, body, onOpen }) {
  const room = rooms.get(message.room_id)?.room ?? null;
  const who = message.author.id === me.id ? 'You' : displayName(message.author);
  const when = parseTime(message.created_at);
  return h(
    'li',
    {},
    h(
      'a',
      {
        class: 'result',
        href: messageHref(message),
        dataset: { roomId: String(message.room_id), seq: String(message.seq) },
        onclick: () => onOpen?.(message),
      },
      avatar(message.author, { size: 'sm' }),
      h(
        'span',
        { class: 'result-text' },
        h(
          'span',
          { class: 'result-meta' },
          h('span', { class: 'result-author', dir: 'auto' }, who),
          srOnly(' in '),
          h('span', { class: 'result-room' }, room ? icon(roomIcon(room), { size: 12 }) : null, h('span', { dir: 'auto' }, room ? roomName(room, me) : 'a room you left')),
          srOnly(', '),
          h('time', { class: 'result-time', datetime: when.toISOString(), title: formatFull(when) }, formatDateTime(when)),
          srOnly(': '),
        ),
        h('span', { class: 'result-body', dir: 'auto' }, body),
      ),
    ),
  );
}

/** Up and down between the links of `list`; up from the first goes to `before`. */
export function arrowKeys(list, before = null) {
  list.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const links = [...list.querySelectorAll('a.result')];
    const index = links.indexOf(document.activeElement);
    if (index < 0) return;
    event.preventDefault();
    if (event.key === 'ArrowUp' && index === 0) before?.focus();
    else links[Math.max(0, Math.min(links.length - 1, index + (event.key === 'ArrowDown' ? 1 : -1)))].focus();
  });
}

/** The "more" row under a list: a button while more can be loaded, a spinner meanwhile. */
export function moreRow(el, { hasMore, loading, label, onMore }) {
  if (loading) replace(el, h('p', { class: 'timeline-loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…'));
  else if (hasMore) replace(el, h('button', { type: 'button', class: 'button small', onclick: onMore }, label));
  else replace(el);
}
