// The scrolling list of messages: renders the room's timeline (reusing a node per
// message), groups runs by one author, marks days and where unread messages start,
// keeps the reading position, pages older messages in at the top, and edits in place.
// Every message is drawn by #messageNode, in this one place.

import { h, replace, uniqueId } from '../dom.js';
import { dayKey, dayLabel, displayName, formatFull, formatTime, isDirect, parseTime, roomIcon, roomLabel } from '../format.js';
import { icon } from '../icons.js';
import { avatar } from './avatar.js';

const GROUP_WITHIN_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 120;
const LOAD_OLDER_PX = 600;
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/g;
// SPEC's mention: `@` at the start or after a character no username has, then a run of
// username characters; trailing `.` and `-` are dropped when the run names nobody.
const MENTION_PATTERN = /(^|[^A-Za-z0-9_.-])@([A-Za-z0-9_.-]+)/g;
const REVEAL_MARGIN_PX = 24;

/** The username a mention token names among `usernames` (lower case), or null. */
function mentioned(run, usernames) {
  let name = run.toLowerCase();
  while (name) {
    if (usernames.has(name)) return name;
    if (!/[.-]$/.test(name)) return null;
    name = name.slice(0, -1);
  }
  return null;
}

/** Text with the @mentions of known people marked (mine apart). */
function withMentions(text, people) {
  if (!people || !text.includes('@')) return [text];
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(MENTION_PATTERN)) {
    const name = mentioned(match[2], people.usernames);
    if (!name) continue;
    const start = match.index + match[1].length;
    const end = start + 1 + name.length;
    parts.push(text.slice(last, start));
    parts.push(h('span', { class: name === people.me ? 'mention mention-me' : 'mention' }, text.slice(start, end)));
    last = end;
  }
  parts.push(text.slice(last));
  return parts;
}

/**
 * Message text as text nodes, with web addresses as links and, given `people`
 * ({usernames: Set, me}: lower case), mentions marked. Never parsed as HTML.
 */
export function renderBody(text, people = null) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let url = match[0];
    const trailing = /[.,;:!?)\]}'"]+$/.exec(url);
    if (trailing) url = url.slice(0, -trailing[0].length);
    let href = null;
    try {
      const parsed = new URL(url);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') href = parsed.href;
    } catch {
      href = null;
    }
    if (!href) continue;
    parts.push(...withMentions(text.slice(last, match.index), people));
    parts.push(h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' }, url));
    last = match.index + url.length;
  }
  parts.push(...withMentions(text.slice(last), people));
  return parts.filter((part) => part !== '');
}

function timeEl(date, className) {
  const d = parseTime(date);
  return h('time', { class: className, datetime: d.toISOString(), title: formatFull(d) }, formatTime(d));
}

export class MessageList {
  constructor({ room, onEdit, onDelete, onRetry, onDiscard, onLoadOlder, canDelete, onEditDone }) {
    this.room = room; // its `me` can change (a new display name), so it is read each time
    this.onEdit = onEdit;
    this.onDelete = onDelete;
    this.onRetry = onRetry;
    this.onDiscard = onDiscard;
    this.onLoadOlder = onLoadOlder;
    this.canDelete = canDelete;
    this.onEditDone = onEditDone;
    this.nodes = new Map(); // key -> {el, sig}
    this.editing = null; // seq being edited
    this.atBottom = true;
    this.unseen = 0;
    this.revealPending = true; // scroll to "New messages" once, when the room opens
    this.people = null;
    this.peopleKey = '';

    this.list = h('ol', { class: 'messages', id: 'messages' });
    this.top = h('div', { class: 'timeline-top' });
    this.scroller = h(
      'div',
      { class: 'timeline', id: 'timeline', role: 'log', tabindex: '0', 'aria-label': 'Messages', 'aria-live': 'polite', 'aria-relevant': 'additions' },
      h('div', { class: 'timeline-inner' }, this.top, this.list),
    );
    this.jump = h(
      'button',
      { type: 'button', class: 'jump-latest', hidden: true, onclick: () => this.scrollToBottom(true) },
      icon('down', { size: 14 }),
      h('span', { class: 'jump-text' }, 'Jump to latest'),
    );
    this.el = h('div', { class: 'timeline-wrap' }, this.scroller, this.jump);

    this.scroller.addEventListener('scroll', () => this.#onScroll(), { passive: true });
    // The reader moving on their own: no more jumping to where unread messages start.
    for (const type of ['wheel', 'touchstart', 'keydown', 'pointerdown']) {
      this.scroller.addEventListener(type, () => {
        this.revealPending = false;
      }, { passive: true });
    }
    this.resizer = new ResizeObserver(() => {
      if (this.atBottom) this.scrollToBottom();
    });
    this.resizer.observe(this.scroller);
  }

  destroy() {
    this.resizer.disconnect();
  }

  focus() {
    this.scroller.focus();
  }

  setLabel(text) {
    this.scroller.setAttribute('aria-label', text);
  }

  scrollToBottom(smooth = false) {
    this.scroller.scrollTo({ top: this.scroller.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    this.atBottom = true;
    this.unseen = 0;
    this.jump.hidden = true;
  }

  /** Draw the timeline again; `reason` (reset, append, prepend, update) says how to scroll. */
  render(reason = 'update') {
    const wasAtBottom = this.atBottom;
    const beforeHeight = this.scroller.scrollHeight;
    const beforeTop = this.scroller.scrollTop;
    const newestBefore = this.list.lastElementChild?.dataset.key;

    const bulk = reason === 'reset' || reason === 'prepend';
    if (bulk) this.scroller.setAttribute('aria-busy', 'true'); // not news: don't read it all out
    const entries = this.room.timeline.entries();
    this.#renderTop();
    this.#updatePeople();
    const desired = [];
    const keep = new Set();
    let previous = null;
    let previousDay = null;
    const dividerSeq = this.room.dividerSeq;
    const timeline = this.room.timeline;
    // Not above the oldest loaded message while the ones before it are still coming.
    const dividerWaits = this.room.dividerLoading && timeline.hasOlder && (timeline.oldestSeq ?? 0) > dividerSeq + 1;
    let dividerPlaced = dividerSeq === null || dividerWaits;
    for (const entry of entries) {
      const date = this.#dateOf(entry);
      const day = dayKey(date);
      if (day !== previousDay) {
        desired.push(this.#cached(`d${day}`, day + dayLabel(date), () => this.#dayNode(date), keep));
        previousDay = day;
        previous = null;
      }
      if (!dividerPlaced && entry.kind === 'message' && entry.message.seq > dividerSeq) {
        desired.push(this.#cached('new-divider', '', () => this.#newDividerNode(), keep));
        dividerPlaced = true;
        previous = null;
      }
      const node = this.#nodeFor(entry, keep);
      node.classList.toggle('continued', this.#continues(previous, entry, date));
      desired.push(node);
      previous = { entry, date };
    }
    let cursor = this.list.firstChild;
    for (const node of desired) {
      if (node === cursor) cursor = cursor.nextSibling;
      else this.list.insertBefore(node, cursor);
    }
    while (cursor) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
    for (const key of this.nodes.keys()) if (!keep.has(key)) this.nodes.delete(key);

    if (reason === 'reset') {
      this.scrollToBottom();
    } else if (reason === 'prepend') {
      this.scroller.scrollTop = beforeTop + (this.scroller.scrollHeight - beforeHeight);
    } else if (wasAtBottom) {
      this.scrollToBottom();
    } else if (reason === 'append') {
      const newest = this.list.lastElementChild;
      if (newest?.dataset.key !== newestBefore && newest?.classList.contains('mine')) this.scrollToBottom();
      else if (newest?.dataset.key !== newestBefore && newest.classList.contains('msg')) {
        this.unseen += 1;
        this.jump.hidden = false;
        this.jump.querySelector('.jump-text').textContent =
          this.unseen === 1 ? '1 new message' : `${this.unseen} new messages`;
      }
    }
    this.#reveal();
    this.#fillViewport();
    if (bulk) requestAnimationFrame(() => this.scroller.setAttribute('aria-busy', 'false'));
  }

  /** The newest message whose top is on screen (null when none is): what has been seen. */
  newestVisibleSeq() {
    const view = this.scroller.getBoundingClientRect();
    if (!view.height) return null;
    const nodes = this.list.querySelectorAll('.msg[data-seq]');
    for (let i = nodes.length - 1; i >= 0; i -= 1) {
      const rect = nodes[i].getBoundingClientRect();
      if (rect.top < view.bottom - 8 && rect.bottom > view.top) return Number(nodes[i].dataset.seq);
      if (rect.bottom <= view.top) return null;
    }
    return null;
  }

  /** Opening the room: show where unread messages start, with a little of what came before. */
  #reveal() {
    if (!this.revealPending) return;
    const node = this.nodes.get('new-divider')?.el;
    if (node?.isConnected) {
      const offset = node.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top;
      this.scroller.scrollTop += offset - REVEAL_MARGIN_PX;
      this.revealPending = false;
      this.#onScroll();
    } else if (this.room.dividerSeq === null && this.room.historyLastSeq !== null) {
      this.revealPending = false; // nothing unread: the newest messages, at the bottom
    }
  }

  /** The room's usernames, for marking mentions (drawn again when they change). */
  #updatePeople() {
    const me = this.room.me.username.toLowerCase();
    const usernames = new Set(this.room.members.map((m) => m.user.username.toLowerCase()));
    usernames.add(me);
    const key = [...usernames].sort().join(' ');
    if (key === this.peopleKey) return;
    this.peopleKey = key;
    this.people = { usernames, me };
  }

  /** Start editing my newest message (arrow up in an empty composer). */
  editLast() {
    const mine = [...this.list.querySelectorAll('.msg.mine[data-seq]:not(.deleted)')].pop();
    if (mine) this.#startEdit(Number(mine.dataset.seq));
    return Boolean(mine);
  }

  // --- nodes ---------------------------------------------------------------

  #dateOf(entry) {
    if (entry.kind === 'message') return parseTime(entry.message.created_at);
    if (entry.kind === 'pending') return entry.pending.createdAt;
    return entry.notice.at;
  }

  #authorOf(entry) {
    if (entry.kind === 'message') return entry.message.author.id;
    if (entry.kind === 'pending') return this.room.me.id;
    return null;
  }

  #continues(previous, entry, date) {
    if (!previous || entry.kind === 'notice' || previous.entry.kind === 'notice') return false;
    if (this.#authorOf(previous.entry) !== this.#authorOf(entry)) return false;
    if (entry.kind === 'message' && entry.message.seq === this.editing) return false;
    return date - previous.date < GROUP_WITHIN_MS;
  }

  #cached(key, sig, build, keep) {
    keep.add(key);
    const hit = this.nodes.get(key);
    if (hit && hit.sig === sig) return hit.el;
    const el = build();
    el.dataset.key = key;
    if (hit) hit.el.replaceWith(el);
    this.nodes.set(key, { el, sig });
    return el;
  }

  #nodeFor(entry, keep) {
    if (entry.kind === 'notice') {
      return this.#cached(entry.key, '', () => this.#noticeNode(entry.notice), keep);
    }
    if (entry.kind === 'pending') {
      const p = entry.pending;
      const sig = [p.failed, p.error, this.room.connected, displayName(this.room.me)].join('|');
      return this.#cached(entry.key, sig, () => this.#pendingNode(p), keep);
    }
    const m = entry.message;
    const editing = this.editing === m.seq;
    const sig = [m.body, m.edited_at, m.deleted, displayName(m.author), (m.mentions ?? []).join(','), this.peopleKey, editing].join('\u0000');
    if (editing && this.nodes.get(entry.key)?.sig.endsWith('\u0000true')) {
      keep.add(entry.key);
      return this.nodes.get(entry.key).el; // keep the edit box as the person left it
    }
    return this.#cached(entry.key, sig, () => this.#messageNode(m), keep);
  }

  #dayNode(date) {
    return h('li', { class: 'day-divider', role: 'separator' }, h('span', {}, dayLabel(date)));
  }

  #newDividerNode() {
    return h('li', { class: 'new-divider', id: 'new-messages', role: 'separator', 'aria-label': 'New messages start here' }, h('span', { 'aria-hidden': 'true' }, 'New messages'));
  }

  #noticeNode(notice) {
    return h('li', { class: 'notice' }, h('span', { class: 'notice-text' }, notice.text), timeEl(notice.at, 'notice-time'));
  }

  #shell({ author, date, mine, classes, body, status, actions, dataset, note = null }) {
    return h(
      'li',
      { class: ['msg', mine ? 'mine' : '', ...classes.split(' ')].filter(Boolean).join(' '), dataset },
      h('div', { class: 'msg-gutter' }, avatar(author), timeEl(date, 'msg-gutter-time')),
      h(
        'div',
        { class: 'msg-content' },
        h('div', { class: 'msg-meta' }, h('span', { class: 'msg-author', dir: 'auto' }, displayName(author)), timeEl(date, 'msg-time'), note),
        body,
        status,
      ),
      actions,
    );
  }

  #messageNode(m) {
    const mine = m.author.id === this.room.me.id;
    const editing = this.editing === m.seq;
    const mentionsMe = !mine && !m.deleted && Array.isArray(m.mentions) && m.mentions.includes(this.room.me.id);
    let body;
    if (m.deleted) body = h('div', { class: 'msg-body' }, h('em', { class: 'msg-deleted' }, 'This message was deleted.'));
    else if (editing) body = this.#editForm(m);
    else {
      // dir=auto: Hebrew or Arabic reads right to left, whatever the page's direction.
      body = h(
        'div',
        { class: 'msg-body', dir: 'auto' },
        h('span', { class: 'msg-text' }, renderBody(m.body, this.people)),
        m.edited_at ? h('span', { class: 'msg-edited', title: `Edited ${formatFull(m.edited_at)}` }, ' (edited)') : null,
      );
    }
    const buttons = [];
    if (!m.deleted && !editing) {
      if (mine) {
        buttons.push(
          h('button', { type: 'button', class: 'icon-button small', 'aria-label': 'Edit message', title: 'Edit', onclick: () => this.#startEdit(m.seq) }, icon('edit', { size: 15 })),
        );
      }
      if (mine || this.canDelete()) {
        buttons.push(
          h('button', { type: 'button', class: 'icon-button small', 'aria-label': 'Delete message', title: 'Delete', onclick: () => this.onDelete(m.seq) }, icon('trash', { size: 15 })),
        );
      }
    }
    return this.#shell({
      author: m.author,
      date: m.created_at,
      mine,
      classes: `${m.deleted ? 'deleted' : ''} ${editing ? 'editing' : ''} ${mentionsMe ? 'mentioned' : ''}`,
      dataset: { seq: String(m.seq), authorId: String(m.author.id) },
      note: mentionsMe ? h('span', { class: 'msg-mention-note' }, icon('at', { size: 12 }), 'mentions you') : null,
      body,
      status: null,
      actions: buttons.length ? h('div', { class: 'msg-actions', role: 'group', 'aria-label': 'Message actions' }, buttons) : null,
    });
  }

  #pendingNode(p) {
    const status = p.failed
      ? h(
          'div',
          { class: 'msg-status failed', role: 'alert' },
          h('span', {}, p.error || 'Not sent.'),
          h('button', { type: 'button', class: 'link-button', onclick: () => this.onRetry(p.nonce) }, 'Retry'),
          h('button', { type: 'button', class: 'link-button', onclick: () => this.onDiscard(p.nonce) }, 'Discard'),
        )
      : this.room.connected
        ? h('div', { class: 'msg-status' }, h('span', { class: 'sending' }, 'Sending…'))
        : h('div', { class: 'msg-status waiting' }, h('span', { class: 'waiting-text' }, 'Waiting for connection'));
    return this.#shell({
      author: this.room.me,
      date: p.createdAt,
      mine: true,
      classes: `pending${p.failed ? ' failed' : ''}`,
      dataset: { nonce: p.nonce, state: p.failed ? 'failed' : 'pending' },
      body: h('div', { class: 'msg-body', dir: 'auto' }, h('span', { class: 'msg-text' }, renderBody(p.body))),
      status,
      actions: null,
    });
  }

  #editForm(m) {
    const id = uniqueId('edit');
    const input = h('textarea', { id, class: 'edit-input', rows: 1, maxlength: 4000 * 2, dir: 'auto' });
    input.value = m.body;
    const error = h('p', { class: 'field-error', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'button primary small' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'button small', onclick: () => this.#stopEdit() }, 'Cancel');
    const form = h(
      'form',
      { class: 'edit-form' },
      h('label', { for: id, class: 'sr-only' }, 'Edit message'),
      input,
      error,
      h('div', { class: 'edit-actions' }, h('span', { class: 'hint' }, 'Enter to save · Esc to cancel'), cancel, save),
    );
    const grow = () => {
      input.style.height = 'auto';
      input.style.height = `${input.scrollHeight + 2}px`;
    };
    input.addEventListener('input', grow);
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.#stopEdit();
      } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = input.value.trim();
      if (!body) {
        error.textContent = "A message can't be empty. Delete it instead.";
        return;
      }
      if (body === m.body) {
        this.#stopEdit();
        return;
      }
      save.disabled = true;
      const problem = await this.onEdit(m.seq, body);
      save.disabled = false;
      if (problem) error.textContent = problem;
      else this.#stopEdit();
    });
    requestAnimationFrame(() => {
      grow();
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    });
    return form;
  }

  #startEdit(seq) {
    this.editing = seq;
    this.render('update');
    const el = this.nodes.get(`m${seq}`)?.el;
    el?.scrollIntoView({ block: 'nearest' });
  }

  #stopEdit() {
    const seq = this.editing;
    this.editing = null;
    this.render('update');
    this.onEditDone?.(seq);
  }

  // --- scrolling -------------------------------------------------------------

  #renderTop() {
    const timeline = this.room.timeline;
    if (this.room.loadingOlder) {
      replace(this.top, h('p', { class: 'timeline-loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading older messages…'));
    } else if (timeline.hasOlder) {
      replace(
        this.top,
        h('button', { type: 'button', class: 'button small load-older', onclick: () => this.onLoadOlder() }, 'Load older messages'),
      );
    } else if (this.room.historyLastSeq !== null || timeline.size > 0) {
      const { room, me } = this.room;
      const label = roomLabel(room, me) || 'this room';
      const direct = isDirect(room);
      replace(
        this.top,
        h(
          'div',
          { class: 'room-intro' },
          h('div', { class: 'room-intro-icon', 'aria-hidden': 'true' }, icon(roomIcon(room), { size: 22 })),
          h('h2', { dir: 'auto' }, direct ? label : `Welcome to ${label}`),
          h('p', {}, direct ? `This is the beginning of your conversation with ${label}.` : room.description || 'This is the very beginning of the conversation.'),
        ),
      );
    } else {
      replace(this.top);
    }
  }

  #onScroll() {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    this.atBottom = scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
    if (this.atBottom && !this.jump.hidden) {
      this.jump.hidden = true;
      this.unseen = 0;
    }
    if (scrollTop < LOAD_OLDER_PX && this.room.timeline.hasOlder && !this.room.loadingOlder) this.onLoadOlder();
  }

  /** Too few messages to scroll: fetch older ones until the view is full. */
  #fillViewport() {
    const { scrollHeight, clientHeight } = this.scroller;
    if (clientHeight && scrollHeight <= clientHeight + 40 && this.room.timeline.hasOlder && !this.room.loadingOlder) {
      queueMicrotask(() => this.onLoadOlder());
    }
  }
}

