// The scrolling list of messages: renders the room's timeline (reusing a node per
// message), groups runs by one author, marks days and where unread messages start,
// keeps the reading position, pages older messages in at the top (and newer ones at the
// bottom of a window onto older messages), and edits in place. Every message is drawn by
// #messageNode, in this one place: what it answers, its reactions, its actions.
//
// The keyboard: Tab (or Shift+Tab from the message box) reaches one message, the newest;
// the arrow keys, Home and End move between messages; on a message, R replies, + reacts,
// E edits one's own, Delete deletes it, Escape goes back to the message box, and Tab
// reaches that message's buttons.

import { h, replace, srOnly, uniqueId } from '../dom.js';
import { dayKey, dayLabel, displayName, formatFull, formatTime, isDirect, oneLine, parseTime, roomIcon, roomLabel } from '../format.js';
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
const HIGHLIGHT_MS = 2600;
const NAMES_IN_LABEL = 8;
// Controls inside a message: only the message one is on is reachable with Tab.
const MESSAGE_CONTROLS = '.msg-actions button, .msg-quote, .reactions button';

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

/** What of a reply's original is drawn (so the reply is drawn again when it changes). */
function quoteSig(original) {
  if (!original) return 'loading';
  if (original.missing) return 'missing';
  return [original.deleted, original.body, displayName(original.author)].join('\u0001');
}

function timeEl(date, className) {
  const d = parseTime(date);
  return h('time', { class: className, datetime: d.toISOString(), title: formatFull(d) }, formatTime(d));
}

export class MessageList {
  constructor({ room, onEdit, onDelete, onRetry, onDiscard, onLoadOlder, onLoadNewer, onShowNewest, canDelete, onEditDone, onReply, onReact, onToggleReaction, onGoTo, onEscape }) {
    this.room = room; // its `me` can change (a new display name), so it is read each time
    this.onLoadNewer = onLoadNewer;
    this.onShowNewest = onShowNewest;
    this.onReply = onReply; // (message)
    this.onReact = onReact; // (message): the reaction picker
    this.onToggleReaction = onToggleReaction; // (seq, emoji)
    this.onGoTo = onGoTo; // (seq): show that message (the original of a reply)
    this.onEscape = onEscape;
    this.highlighted = null; // the seq just jumped to
    this.highlightTimer = null;
    this.currentSeq = null; // the message Tab reaches
    this.tabStop = null;
    this.controlsOn = null; // the message whose buttons Tab reaches
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
    this.bottom = h('div', { class: 'timeline-bottom' });
    this.scroller = h(
      'div',
      { class: 'timeline', id: 'timeline', role: 'log', tabindex: '0', 'aria-label': 'Messages', 'aria-live': 'polite', 'aria-relevant': 'additions' },
      h('div', { class: 'timeline-inner' }, this.top, this.list, this.bottom),
    );
    this.jump = h(
      'button',
      { type: 'button', class: 'jump-latest', hidden: true, onclick: () => this.#jumpToLatest() },
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
      if (this.atBottom && !this.room.timeline.hasNewer) this.scrollToBottom();
    });
    this.resizer.observe(this.scroller);
    this.list.addEventListener('keydown', (event) => this.#onMessageKey(event));
    this.list.addEventListener('focusin', (event) => this.#onFocusIn(event));
    this.list.addEventListener('focusout', (event) => {
      if (this.list.contains(event.relatedTarget)) return;
      // Left the list: coming back (Shift+Tab from the message box) lands on the newest.
      for (const control of this.controlsOn?.querySelectorAll(MESSAGE_CONTROLS) ?? []) control.tabIndex = -1;
      this.controlsOn = null;
      this.currentSeq = null;
      this.#applyTabStop();
    });
  }

  destroy() {
    this.resizer.disconnect();
    clearTimeout(this.highlightTimer);
  }

  /** The message `seq` is shown: bring it into view, highlight it a moment, focus it. */
  highlight(seq, { focus = true } = {}) {
    this.revealPending = false;
    this.highlighted = seq;
    const node = this.nodes.get(`m${seq}`)?.el;
    if (!node) return;
    node.classList.remove('highlight');
    void node.offsetWidth; // start the animation again when it was running
    node.classList.add('highlight');
    node.scrollIntoView({ block: 'center' });
    this.#onScroll();
    clearTimeout(this.highlightTimer);
    this.highlightTimer = setTimeout(() => {
      this.highlighted = null;
      this.nodes.get(`m${seq}`)?.el.classList.remove('highlight');
    }, HIGHLIGHT_MS);
    if (focus) this.focusMessage(seq);
  }

  /** Put the keyboard on a message (a screen reader then reads it). */
  focusMessage(seq) {
    const node = this.nodes.get(`m${seq}`)?.el;
    if (!node?.isConnected) return;
    this.currentSeq = seq;
    this.#applyTabStop();
    node.focus({ preventScroll: true });
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
    this.jump.hidden = !this.room.timeline.hasNewer;
  }

  #jumpToLatest() {
    if (this.room.timeline.hasNewer) this.onShowNewest();
    else this.scrollToBottom(true);
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
    this.#renderBottom();
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
      if (entry.kind === 'message') node.classList.toggle('highlight', entry.message.seq === this.highlighted);
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

    const windowed = timeline.hasNewer;
    if (reason === 'reset') {
      this.scrollToBottom();
    } else if (reason === 'prepend') {
      this.scroller.scrollTop = beforeTop + (this.scroller.scrollHeight - beforeHeight);
    } else if (reason === 'window' || reason === 'newer' || windowed) {
      // A window onto older messages: the reader's place stays (a jump says where to look).
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
    if (windowed) {
      this.jump.hidden = false;
      this.jump.querySelector('.jump-text').textContent = 'Jump to latest';
    }
    this.#applyTabStop();
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
    // Drawn again under the keyboard (a reaction toggled, say): the focus stays on it.
    const focused = hit?.el.contains(document.activeElement) ? document.activeElement : null;
    if (hit) hit.el.replaceWith(el);
    this.nodes.set(key, { el, sig });
    if (focused && el.isConnected) {
      const focusKey = focused === hit.el ? null : focused.dataset.focusKey;
      const same = focusKey ? el.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`) : null;
      if (this.tabStop === hit.el) this.tabStop = null;
      (same ?? (el.hasAttribute('tabindex') ? el : null))?.focus({ preventScroll: true });
    }
    return el;
  }

  #nodeFor(entry, keep) {
    if (entry.kind === 'notice') {
      return this.#cached(entry.key, '', () => this.#noticeNode(entry.notice), keep);
    }
    if (entry.kind === 'pending') {
      const p = entry.pending;
      const quote = p.replyTo ? quoteSig(this.room.original(p.replyTo)) : '';
      const sig = [p.failed, p.error, this.room.connected, displayName(this.room.me), quote].join('|');
      return this.#cached(entry.key, sig, () => this.#pendingNode(p), keep);
    }
    const m = entry.message;
    const editing = this.editing === m.seq;
    const original = m.reply_to ? this.room.original(m.reply_to) : null;
    // What the members decide is in it only where it matters, so that the members' list
    // arriving does not draw every message again.
    const sig = [
      m.body,
      m.edited_at,
      m.deleted,
      displayName(m.author),
      (m.mentions ?? []).join(','),
      m.body.includes('@') ? this.peopleKey : '',
      this.room.isBot(m.author.id),
      (m.reactions ?? []).map((r) => `${r.emoji}\u0001${r.users.map((id) => this.room.nameOf(id) ?? '').join('\u0001')}`).join('\u0002'),
      m.reply_to ? quoteSig(original) : '',
      this.canDelete(),
      editing,
    ].join('\u0000');
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

  #shell({ author, date, mine, classes, body, status, actions, dataset, note = null, quote = null, reactions = null, focusable = false }) {
    const bot = !mine && this.room.isBot(author.id);
    return h(
      'li',
      {
        class: ['msg', mine ? 'mine' : '', ...classes.split(' ')].filter(Boolean).join(' '),
        dataset,
        tabindex: focusable ? '-1' : null,
        'aria-keyshortcuts': focusable ? 'R Plus E Delete ArrowUp ArrowDown Home End Escape' : null,
      },
      h('div', { class: 'msg-gutter' }, avatar(author), timeEl(date, 'msg-gutter-time')),
      h(
        'div',
        { class: 'msg-content' },
        h(
          'div',
          { class: 'msg-meta' },
          h('span', { class: 'msg-author', dir: 'auto' }, displayName(author)),
          bot ? h('span', { class: 'bot-badge', title: 'A program, not a person' }, 'bot') : null,
          timeEl(date, 'msg-time'),
          note,
        ),
        quote,
        body,
        reactions,
        status,
      ),
      actions,
    );
  }

  /** The compact quote of the message a reply answers: a button that goes to it. */
  #quoteNode(seq, original, { interactive = true } = {}) {
    let who = null;
    let text;
    if (!original) text = 'Loading the message it answers…';
    else if (original.missing) text = 'The message it answers is not there any more.';
    else {
      who = displayName(original.author);
      text = original.deleted ? 'This message was deleted.' : oneLine(original.body, 120);
    }
    const content = [
      icon('reply', { size: 13 }),
      who ? h('span', { class: 'quote-author', dir: 'auto' }, who) : null,
      h('span', { class: `quote-text${original?.deleted || original?.missing ? ' quote-gone' : ''}`, dir: 'auto' }, text),
    ];
    if (!interactive || original?.missing) return h('div', { class: 'msg-quote static' }, srOnly('In reply to: '), content);
    return h(
      'button',
      {
        type: 'button',
        class: 'msg-quote',
        tabindex: '-1',
        dataset: { focusKey: 'quote' },
        'aria-label': who ? `In reply to ${who}: ${text} Go to that message.` : `In reply to an earlier message. Go to it.`,
        onclick: () => this.onGoTo(seq),
      },
      content,
    );
  }

  /** The chips under a message: each emoji, how many, whether I am among them. */
  #reactionsNode(m) {
    const reactions = m.reactions ?? [];
    if (!reactions.length || m.deleted) return null;
    const chips = reactions.map((reaction) => {
      const mine = reaction.users.includes(this.room.me.id);
      const who = this.#whoReacted(reaction);
      return h(
        'button',
        {
          type: 'button',
          class: `reaction${mine ? ' mine' : ''}`,
          tabindex: '-1',
          'aria-pressed': String(mine),
          'aria-label': `${reaction.emoji} ${reaction.count}: ${who}`,
          title: `${who[0].toUpperCase()}${who.slice(1)} reacted with ${reaction.emoji}`,
          dataset: { focusKey: `reaction:${reaction.emoji}`, emoji: reaction.emoji },
          onclick: () => this.onToggleReaction(m.seq, reaction.emoji),
        },
        h('span', { class: 'reaction-emoji', 'aria-hidden': 'true' }, reaction.emoji),
        h('span', { class: 'reaction-count', 'aria-hidden': 'true' }, String(reaction.count)),
      );
    });
    const add = h(
      'button',
      { type: 'button', class: 'reaction reaction-add', tabindex: '-1', 'aria-label': 'Add a reaction', title: 'Add a reaction', 'aria-haspopup': 'dialog', dataset: { focusKey: 'add-reaction' }, onclick: () => this.onReact(m) },
      icon('smile', { size: 15 }),
      h('span', { 'aria-hidden': 'true' }, '+'),
    );
    return h('div', { class: 'reactions', role: 'group', 'aria-label': 'Reactions' }, chips, add);
  }

  /** "Grace Hopper, Linus and you": who reacted, as far as the room's members say. */
  #whoReacted(reaction) {
    const named = [];
    let others = 0;
    let me = false;
    for (const id of reaction.users) {
      if (id === this.room.me.id) me = true;
      else {
        const name = this.room.nameOf(id);
        if (name && named.length < NAMES_IN_LABEL) named.push(name);
        else others += 1;
      }
    }
    if (others) named.push(others === 1 ? '1 other' : `${others} others`);
    if (me) named.push('you');
    if (!named.length) return 'nobody';
    return named.length === 1 ? named[0] : `${named.slice(0, -1).join(', ')} and ${named[named.length - 1]}`;
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
    const action = (key, label, title, name, onclick, extra = {}) =>
      h('button', { type: 'button', class: 'icon-button small', tabindex: '-1', 'aria-label': label, title, dataset: { focusKey: key }, onclick, ...extra }, icon(name, { size: 15 }));
    if (!m.deleted && !editing) {
      buttons.push(action('reply', 'Reply', 'Reply (R)', 'reply', () => this.onReply(m)));
      buttons.push(action('react', 'Add a reaction', 'React (+)', 'smile', () => this.onReact(m), { 'aria-haspopup': 'dialog' }));
      if (mine) buttons.push(action('edit', 'Edit message', 'Edit (E)', 'edit', () => this.#startEdit(m.seq)));
      if (mine || this.canDelete()) buttons.push(action('delete', 'Delete message', 'Delete', 'trash', () => this.onDelete(m.seq)));
    }
    return this.#shell({
      author: m.author,
      date: m.created_at,
      mine,
      classes: `${m.deleted ? 'deleted' : ''} ${editing ? 'editing' : ''} ${mentionsMe ? 'mentioned' : ''}`,
      dataset: { seq: String(m.seq), authorId: String(m.author.id) },
      note: mentionsMe ? h('span', { class: 'msg-mention-note' }, icon('at', { size: 12 }), 'mentions you') : null,
      quote: m.reply_to ? this.#quoteNode(m.reply_to, this.room.original(m.reply_to)) : null,
      reactions: this.#reactionsNode(m),
      focusable: true,
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
      quote: p.replyTo ? this.#quoteNode(p.replyTo, this.room.original(p.replyTo), { interactive: false }) : null,
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

  /** Below a window onto older messages: the newer ones are on their way, or a button. */
  #renderBottom() {
    const timeline = this.room.timeline;
    if (!timeline.hasNewer) replace(this.bottom);
    else if (this.room.loadingNewer) {
      replace(this.bottom, h('p', { class: 'timeline-loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading newer messages…'));
    } else if (!this.bottom.querySelector('.load-newer')) {
      replace(this.bottom, h('button', { type: 'button', class: 'button small load-newer', onclick: () => this.onLoadNewer() }, 'Load newer messages'));
    }
  }

  /** Only one message is a Tab stop: the one the keyboard is on, else the newest. */
  #applyTabStop() {
    let node = this.currentSeq === null ? null : this.nodes.get(`m${this.currentSeq}`)?.el;
    if (!node?.isConnected) node = [...this.list.querySelectorAll('.msg[data-seq][tabindex]')].pop() ?? null;
    if (node === this.tabStop) return;
    if (this.tabStop?.isConnected) this.tabStop.tabIndex = -1;
    if (node) node.tabIndex = 0;
    this.tabStop = node;
  }

  #onFocusIn(event) {
    const node = event.target.closest?.('.msg[data-seq][tabindex]');
    if (!node || !this.list.contains(node)) return;
    this.currentSeq = Number(node.dataset.seq);
    this.#applyTabStop();
    if (this.controlsOn === node) return;
    for (const control of this.controlsOn?.querySelectorAll(MESSAGE_CONTROLS) ?? []) control.tabIndex = -1;
    for (const control of node.querySelectorAll(MESSAGE_CONTROLS)) control.tabIndex = 0;
    this.controlsOn = node;
  }

  #onMessageKey(event) {
    const node = event.target.closest?.('.msg[data-seq][tabindex]');
    if (!node || event.target !== node || event.altKey || event.ctrlKey || event.metaKey) return;
    const seq = Number(node.dataset.seq);
    const message = this.room.timeline.get(seq);
    const nodes = [...this.list.querySelectorAll('.msg[data-seq][tabindex]')];
    const index = nodes.indexOf(node);
    const move = (to) => {
      const target = nodes[Math.max(0, Math.min(nodes.length - 1, to))];
      if (target) {
        target.scrollIntoView({ block: 'nearest' });
        this.focusMessage(Number(target.dataset.seq));
      }
    };
    const key = event.key;
    if (key === 'ArrowUp') {
      if (index === 0 && this.room.timeline.hasOlder) this.onLoadOlder();
      move(index - 1);
    } else if (key === 'ArrowDown') {
      if (index === nodes.length - 1 && this.room.timeline.hasNewer) this.onLoadNewer();
      move(index + 1);
    } else if (key === 'Home') move(0);
    else if (key === 'End') move(nodes.length - 1);
    else if (key === 'Escape') this.onEscape?.();
    else if (!message || message.deleted) return;
    else if (key === 'r' || key === 'R') this.onReply(message);
    else if (key === '+') this.onReact(message);
    else if ((key === 'e' || key === 'E') && message.author.id === this.room.me.id) this.#startEdit(seq);
    else if (key === 'Delete' && (message.author.id === this.room.me.id || this.canDelete())) this.onDelete(seq);
    else return;
    event.preventDefault();
  }

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
    const timeline = this.room.timeline;
    this.atBottom = scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
    if (this.atBottom && !this.jump.hidden && !timeline.hasNewer) {
      this.jump.hidden = true;
      this.unseen = 0;
    }
    if (scrollTop < LOAD_OLDER_PX && timeline.hasOlder && !this.room.loadingOlder) this.onLoadOlder();
    if (scrollHeight - scrollTop - clientHeight < LOAD_OLDER_PX && timeline.hasNewer && !this.room.loadingNewer) this.onLoadNewer();
  }

  /** Too few messages to scroll: fetch older ones until the view is full. */
  #fillViewport() {
    const { scrollHeight, clientHeight } = this.scroller;
    if (clientHeight && scrollHeight <= clientHeight + 40 && this.room.timeline.hasOlder && !this.room.loadingOlder) {
      queueMicrotask(() => this.onLoadOlder());
    }
    if (clientHeight && scrollHeight <= clientHeight + 40 && this.room.timeline.hasNewer && !this.room.loadingNewer) {
      queueMicrotask(() => this.onLoadNewer());
    }
  }
}

