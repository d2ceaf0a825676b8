// The middle column for one room: its header with the connection state, the
// messages, who is typing, and the composer — or why the room can't be shown. It moves
// my read cursor as I read: when the newest messages are on screen and the window has
// the focus.

import { h, replace } from '../dom.js';
import { describeError } from '../errors.js';
import { displayName, roomIcon, roomLabel, roomName } from '../format.js';
import { icon } from '../icons.js';
import { State } from '../socket.js';
import { Composer } from './composer.js';
import { confirmDialog } from './dialogs.js';
import { MessageList } from './message-list.js';
import { reactionPicker } from './reaction-picker.js';
import { roomSettingsDialog } from './room-settings.js';
import { toast } from './toasts.js';

const STATE_LABELS = {
  [State.CONNECTING]: 'Connecting…',
  [State.CONNECTED]: 'Connected',
  [State.RECONNECTING]: 'Reconnecting…',
  [State.OFFLINE]: 'Offline',
  [State.STOPPED]: 'Disconnected',
};

export class RoomView {
  constructor({ session: room, onToggleMembers, onShowRooms, onLeft, onDeleted, onSearch }) {
    this.room = room;
    this.onLeft = onLeft;
    this.onDeleted = onDeleted;
    this.countdown = null;
    this.lookPending = false;

    this.title = h('h1', { class: 'room-title' });
    this.description = h('p', { class: 'room-description', dir: 'auto' });
    this.stateDot = h('span', { class: 'state-dot', 'aria-hidden': 'true' });
    this.stateText = h('span', { class: 'state-text' }, 'Connecting…');
    this.retryButton = h('button', { type: 'button', class: 'link-button', hidden: true, onclick: () => room.retryNow() }, 'Retry now');
    this.connection = h(
      'div',
      { class: 'connection', id: 'connection', role: 'status', dataset: { connectionState: State.CONNECTING } },
      this.stateDot,
      this.stateText,
      this.retryButton,
    );
    this.membersButton = h(
      'button',
      { type: 'button', class: 'icon-button members-toggle', id: 'members-toggle', 'aria-controls': 'members', 'aria-label': 'Members', title: 'Members', onclick: onToggleMembers },
      icon('users'),
      h('span', { class: 'members-count' }),
    );
    this.searchButton = h(
      'button',
      { type: 'button', class: 'icon-button', id: 'search-button', 'aria-label': 'Search messages', title: 'Search messages (/ or Ctrl+F)', 'aria-keyshortcuts': '/ Control+F Meta+F', 'aria-haspopup': 'dialog', onclick: () => onSearch?.() },
      icon('search'),
    );
    this.settingsButton = h(
      'button',
      { type: 'button', class: 'icon-button', id: 'room-settings-button', 'aria-label': 'Room settings', title: 'Room settings', 'aria-haspopup': 'dialog', hidden: true, onclick: () => this.openSettings() },
      icon('settings'),
    );
    this.header = h(
      'header',
      { class: 'room-header' },
      h('button', { type: 'button', class: 'icon-button only-narrow', id: 'rooms-toggle', 'aria-controls': 'sidebar', 'aria-label': 'Rooms', onclick: onShowRooms }, icon('menu')),
      h('div', { class: 'room-heading' }, this.title, this.description),
      this.connection,
      this.searchButton,
      this.settingsButton,
      this.membersButton,
    );

    this.list = new MessageList({
      room,
      onEdit: (seq, body) => this.#edit(seq, body),
      onDelete: (seq) => this.#delete(seq),
      onRetry: (nonce) => room.retrySend(nonce),
      onDiscard: (nonce) => room.discardSend(nonce),
      onLoadOlder: () => room.loadOlder(),
      onLoadNewer: () => room.loadNewer(),
      onShowNewest: () => room.showNewest(),
      canDelete: () => room.canDeleteMessages,
      onEditDone: () => this.composer.focus(),
      onReply: (message) => this.composer.setReply(message),
      onReact: (message) => this.#pickReaction(message),
      onToggleReaction: (seq, emoji) => this.#toggleReaction(seq, emoji),
      onGoTo: (seq) => room.goTo(seq),
      onEscape: () => this.focusComposer(),
    });
    this.typing = h('div', { class: 'typing', id: 'typing', 'aria-live': 'polite' });
    this.banner = h('div', { class: 'banner', hidden: true, role: 'status' });
    this.composer = new Composer({
      onSend: (body, replyTo) => room.send(body, replyTo),
      onTyping: () => room.notifyTyping(),
      onEditLast: () => this.list.editLast(),
      getMembers: () => (room.access === 'member' ? room.members.filter((m) => m.user.id !== room.me.id).map((m) => m.user) : []),
    });
    this.content = h('div', { class: 'room-content' });
    this.el = h('main', { class: 'room', id: 'main', 'aria-labelledby': 'room-title' }, this.header, this.content);
    this.title.id = 'room-title';

    room.addEventListener('timeline', (event) => {
      this.list.render(event.detail.reason);
      this.#look();
    });
    room.addEventListener('news', (event) => {
      // Arrived while I was away (another tab, another window, scrolled up): mark where
      // the unseen ones start, as opening the room would.
      if (event.detail.message.author.id !== room.me.id && !this.#seeingNewest()) room.markUnseenStart();
    });
    room.addEventListener('older', () => this.list.render('prepend'));
    room.addEventListener('newer', () => this.list.render('newer'));
    room.addEventListener('jump', (event) => this.list.highlight(event.detail.seq));
    room.addEventListener('connection', () => {
      this.#renderConnection();
      this.list.render('update'); // pending messages say whether they can go out now
    });
    room.addEventListener('typing', () => this.#renderTyping());
    room.addEventListener('members', () => {
      this.#renderCount();
      this.#renderSettingsButton();
      // Names, bots and @mentions on the messages come from the members (drawn again only
      // where they changed).
      if (this.content.contains(this.list.el)) this.list.render('update');
    });
    room.addEventListener('access', () => {
      this.#renderAccess();
      this.#renderSettingsButton();
    });
    room.addEventListener('room', () => {
      this.#renderTitle();
      if (['not-member', 'gone', 'removed', 'banned', 'error'].includes(room.access)) this.#renderAccess(); // its card names the room
      this.list.render('update'); // the intro at the top names the room
    });
    room.addEventListener('problem', (event) => toast(event.detail.message));
    this.onLook = () => this.#look();
    document.addEventListener('visibilitychange', this.onLook);
    window.addEventListener('focus', this.onLook);
    this.list.scroller.addEventListener('scroll', this.onLook, { passive: true });

    this.#renderTitle();
    this.#renderAccess();
    this.#renderConnection();
    this.#renderSettingsButton();
  }

  openSettings() {
    const dialog = roomSettingsDialog({ room: this.room, onDeleted: (room) => this.onDeleted?.(room) });
    dialog.addEventListener('close', () => {
      if (this.settingsButton.isConnected && !this.settingsButton.hidden) this.settingsButton.focus();
    });
  }

  destroy() {
    clearInterval(this.countdown);
    document.removeEventListener('visibilitychange', this.onLook);
    window.removeEventListener('focus', this.onLook);
    this.list.destroy();
    this.composer.destroy();
  }

  focusComposer() {
    if (!this.composer.input.disabled && this.composer.el.isConnected) this.composer.focus();
  }

  setMembersExpanded(expanded) {
    this.membersButton.setAttribute('aria-expanded', String(expanded));
  }

  #renderTitle() {
    const { room, me } = this.room;
    replace(this.title, icon(roomIcon(room), { size: 18 }), h('span', { class: 'room-name', dir: 'auto' }, roomName(room, me)));
    this.description.textContent = room.description ?? '';
    this.description.hidden = !room.description;
    const label = roomLabel(room, me);
    this.composer.setRoomName(label);
    this.list.setLabel(`Messages in ${label}`);
  }

  #renderSettingsButton() {
    const { access } = this.room;
    const present = access === 'member' || access === 'not-member' || access === 'unknown';
    this.settingsButton.hidden = !(present && this.room.canEditRoom);
  }

  #renderCount() {
    const count = this.room.membersLoaded ? this.room.members.length : '';
    this.membersButton.querySelector('.members-count').textContent = String(count);
    this.membersButton.setAttribute('aria-label', count ? `Members (${count})` : 'Members');
  }

  #renderAccess() {
    const { access } = this.room;
    const name = roomName(this.room.room, this.room.me) || 'this room';
    this.connection.hidden = access !== 'member' && access !== 'unknown';
    if (access === 'member' || access === 'unknown') {
      if (!this.content.contains(this.list.el)) {
        replace(this.content, this.list.el, this.banner, this.typing, this.composer.el);
        this.list.render('reset');
      }
      return;
    }
    if (access === 'left') {
      this.onLeft?.(this.room.room, 'left');
      return;
    }
    const joinButton = (label) => {
      const join = h('button', { type: 'button', class: 'button primary', id: 'join-room' }, label);
      const error = h('p', { class: 'form-error', role: 'alert' });
      join.addEventListener('click', async () => {
        join.disabled = true;
        error.textContent = '';
        try {
          await this.room.join();
        } catch (err) {
          error.textContent = describeError(err, 'join');
          join.disabled = false;
        }
      });
      queueMicrotask(() => join.focus());
      return [join, error];
    };
    const isPublic = this.room.room.is_private === false;
    const cards = {
      'not-member': () => [
        `You're not in #${name} yet`,
        this.room.room.description || 'Join to read the conversation and take part.',
        ...joinButton('Join room'),
      ],
      gone: () => [`${name === 'this room' ? 'This room' : name} is gone`, 'It was deleted, or you no longer have access to it.'],
      removed: () => [
        `You were removed from ${isPublic ? '#' : ''}${name}`,
        isPublic ? 'An owner or admin removed you. You can join again.' : 'An owner or admin removed you.',
        ...(isPublic ? joinButton('Join again') : []),
      ],
      banned: () => [`You are banned from ${name}`, 'An owner or admin of the room banned you.'],
      error: () => ["Can't open this room", 'The server refused the connection.'],
    };
    const [heading, text, ...extra] = (cards[access] ?? cards.error)();
    replace(
      this.content,
      h('div', { class: 'room-state' }, h('div', { class: 'room-state-card' }, h('h2', {}, heading), h('p', {}, text), ...extra)),
    );
  }

  #renderConnection() {
    const { state, retryAt } = this.room.connection;
    this.connection.dataset.connectionState = state;
    clearInterval(this.countdown);
    const update = () => {
      let text = STATE_LABELS[state] ?? state;
      if (state === State.RECONNECTING && retryAt && retryAt > Date.now()) {
        text = `Reconnecting in ${Math.ceil((retryAt - Date.now()) / 1000)} s`;
      }
      this.stateText.textContent = text;
    };
    update();
    if (state === State.RECONNECTING && retryAt) this.countdown = setInterval(update, 500);
    this.retryButton.hidden = state !== State.RECONNECTING;

    const troubled = state === State.RECONNECTING || state === State.OFFLINE;
    this.banner.hidden = !troubled;
    if (troubled) {
      replace(
        this.banner,
        icon(state === State.OFFLINE ? 'close' : 'retry', { size: 15 }),
        h(
          'span',
          {},
          state === State.OFFLINE
            ? "You're offline. Messages you write will be sent when the connection is back."
            : 'Connection lost — reconnecting. Messages you write will be sent when it is back.',
        ),
      );
    }
    if (state === State.CONNECTED) this.#look();
  }

  #renderTyping() {
    const names = [...this.room.typing.values()].map(({ user }) => displayName(user));
    if (!names.length) {
      replace(this.typing);
      return;
    }
    let text;
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else text = 'Several people are typing…';
    replace(this.typing, h('span', { class: 'typing-dots', 'aria-hidden': 'true' }, h('span'), h('span'), h('span')), h('span', { class: 'typing-text' }, text));
  }

  /** Someone reading here: the page is shown and the window has the focus. */
  #attending() {
    return document.visibilityState === 'visible' && document.hasFocus();
  }

  #seeingNewest() {
    return this.#attending() && this.list.atBottom;
  }

  /** Move my read cursor to the newest message on screen (once per frame at most). */
  #look() {
    if (this.lookPending) return;
    this.lookPending = true;
    requestAnimationFrame(() => {
      this.lookPending = false;
      if (!this.#attending() || this.room.access !== 'member' || !this.el.isConnected) return;
      // Still on its way to where reading stopped: what is on screen now was not read.
      if (this.list.revealPending && this.room.dividerSeq !== null) return;
      this.room.markRead(this.list.newestVisibleSeq());
    });
  }

  async #edit(seq, body) {
    try {
      await this.room.edit(seq, body);
      return null;
    } catch (error) {
      return describeError(error, 'edit');
    }
  }

  #pickReaction(message) {
    reactionPicker({
      message,
      mine: (emoji) => this.room.reacted(this.room.timeline.get(message.seq), emoji),
      onPick: (emoji) => {
        this.list.focusMessage(message.seq);
        this.#toggleReaction(message.seq, emoji);
      },
    });
  }

  async #toggleReaction(seq, emoji) {
    try {
      await this.room.toggleReaction(seq, emoji);
    } catch (error) {
      if (error.name !== 'SessionEnded') toast(describeError(error, 'react'));
    }
  }

  async #delete(seq) {
    const ok = await confirmDialog({
      title: 'Delete this message?',
      message: "Everyone in the room will see that it was deleted. This can't be undone.",
      confirmLabel: 'Delete',
      danger: true,
    });
    if (!ok) return;
    try {
      await this.room.remove(seq);
    } catch (error) {
      toast(describeError(error, 'delete'));
    }
    this.focusComposer();
  }
}
