// The signed-in app: the three columns, the one live connection, my rooms and their
// unread counts (kept current by it), which room is open (from the address, so a
// reload comes back to it; `#/rooms/ID/messages/SEQ` opens it at a message),
// notifications for mentions, announcements, searching, mentions, direct messages,
// invitations, phone-sized drawers, and messages left unsent in rooms that are not open.
//
// Keys: Ctrl/Cmd+K finds a room; `/` (outside a text field) and Ctrl/Cmd+F (anywhere,
// while no dialog is open) search messages. In the search dialog, or any other, Ctrl/Cmd+F
// is the browser's own find again: pressing it twice always reaches it.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { describeError } from '../errors.js';
import { directPartner, displayName, isDirect, oneLine, roomIcon, roomLabel, roomName } from '../format.js';
import { icon } from '../icons.js';
import { MyRooms } from '../my-rooms.js';
import { notifications } from '../notify.js';
import { Outbox } from '../outbox.js';
import { loadPrefs, savePrefs } from '../prefs.js';
import { RoomSession } from '../room.js';
import { session } from '../session.js';
import { LiveConnection, State } from '../socket.js';
import { accountDialog } from './account-dialog.js';
import { Announcements } from './announcements.js';
import { browseRoomsDialog, createRoomDialog } from './dialogs.js';
import { directDialog } from './direct-dialog.js';
import { invitesDialog } from './invites-dialog.js';
import { MembersPanel } from './members-panel.js';
import { mentionsDialog } from './mentions-dialog.js';
import { RoomView } from './room-view.js';
import { searchDialog } from './search-dialog.js';
import { Sidebar } from './sidebar.js';
import { toast } from './toasts.js';

const NARROW = window.matchMedia('(max-width: 760px)');
const WIDE = window.matchMedia('(min-width: 1100px)');
const WELCOME_ROOMS = 6;
const NOTIFY_BODY_CHARS = 180;

const REMOVED_NOTICES = {
  removed: (label) => `You were removed from ${label}.`,
  banned: (label) => `You were banned from ${label}.`,
  room_deleted: (label) => `${label} was deleted.`,
  left: (label) => `You left ${label}.`,
};

export class AppView {
  constructor(root, me) {
    this.root = root;
    this.me = me;
    this.prefs = loadPrefs(me.id);
    this.outbox = new Outbox(me.id);
    this.myRooms = new MyRooms(me.id);
    this.live = new LiveConnection({ getToken: () => session.accessToken, refreshToken: () => session.refresh() });
    this.current = null; // {session, view}
    this.welcome = null; // the main area while no room is open
    this.anyRooms = null; // while I have none: whether the server has rooms to browse
    this.flushing = false;
    this.endedHere = new Set(); // rooms this page left or deleted (it said so already)
    this.searchState = { q: '', here: false }; // what was searched last, for the next time
    this.sidebar = new Sidebar({
      me,
      rooms: this.myRooms,
      onCreateRoom: () => this.#createRoom(),
      onBrowse: () => this.#browse(),
      onLogout: () => session.logout(),
      onNavigate: () => this.#closeDrawers(),
      onAccount: () => this.#openAccount(),
      onSearch: () => this.#openSearch(),
      onMentions: () => this.#openMentions(),
      onNewDirect: () => this.#newDirect(),
      onInvites: () => this.#openInvites(),
    });
    this.members = new MembersPanel({ onClose: () => this.#toggleMembers(false), onDirect: (user) => this.#openDirect(user.username) });
    this.main = h('div', { class: 'main-room' });
    this.scrim = h('div', { class: 'scrim', 'aria-hidden': 'true', onclick: () => this.#closeDrawers() });
    // Mentions elsewhere, said to screen readers (badges change silently).
    this.announcer = h('div', { class: 'sr-only', role: 'status', 'aria-live': 'polite', id: 'announcer' });
    this.announcements = new Announcements({
      say: (text) => {
        this.announcer.textContent = text;
      },
    });
    this.shell = h(
      'div',
      { class: 'shell' },
      h('a', { class: 'skip-link', href: '#composer' }, 'Skip to the message box'),
      this.sidebar.el,
      h('div', { class: 'main-slot' }, this.announcements.el, this.main),
      this.members.el,
      this.scrim,
      this.announcer,
    );
    this.onHash = () => this.#route();
    this.onKey = (event) => this.#onKey(event);
    this.onLayout = () => this.#applyLayout();
    this.onOnline = () => this.#flushOutbox();
    this.onToken = (event) => this.live.swapToken(event.detail.token);
  }

  start() {
    replace(this.root, this.shell);
    window.addEventListener('hashchange', this.onHash);
    window.addEventListener('online', this.onOnline);
    document.addEventListener('keydown', this.onKey);
    NARROW.addEventListener('change', this.onLayout);
    WIDE.addEventListener('change', this.onLayout);
    session.addEventListener('token', this.onToken);
    this.live.addEventListener('frame', (event) => this.#onFrame(event.detail));
    this.live.addEventListener('ready', (event) => this.#onReady(event.detail));
    this.live.addEventListener('state', (event) => this.#onLiveState(event.detail));
    this.myRooms.addEventListener('change', (event) => this.#onRoomsChange(event.detail));
    this.#applyLayout();
    this.live.start();
    this.#loadRooms().then(() => {
      this.#route();
      this.#flushOutbox();
    });
    api.me().then((me) => this.#setMe(me)).catch(() => {});
  }

  stop() {
    clearTimeout(this.flushRetry);
    window.removeEventListener('hashchange', this.onHash);
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('keydown', this.onKey);
    NARROW.removeEventListener('change', this.onLayout);
    WIDE.removeEventListener('change', this.onLayout);
    session.removeEventListener('token', this.onToken);
    this.#closeRoom();
    this.live.stop();
    this.sidebar.destroy();
    for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  }

  // --- my rooms, live ---------------------------------------------------------

  async #loadRooms() {
    try {
      await this.myRooms.load(() => api.myRooms());
    } catch (error) {
      if (error.name !== 'SessionEnded') this.sidebar.setStatus(describeError(error, 'load'));
    }
  }

  /** Admitted (again): what happened while the page was not connected is read afresh. */
  #onReady({ first }) {
    this.#loadRooms().then(() => {
      if (!first) this.#flushOutbox();
    });
  }

  #onLiveState({ state, reason }) {
    if (state !== State.STOPPED) return;
    if (reason === 'account_disabled') session.end('disabled');
  }

  #onFrame(frame) {
    if (frame.type === 'announcement') {
      this.announcements.add(frame);
      return;
    }
    this.myRooms.apply(frame); // room_added, room_updated, room_removed, read, activity
  }

  #onRoomsChange({ kind, roomId, entry, reason, mention, unread, author, message, seq }) {
    const open = this.current && String(this.current.session.room.id) === String(roomId);
    const shown = kind === 'load' && this.current ? this.myRooms.get(this.current.session.room.id) : null;
    if (shown) {
      this.current.session.applyRoom(shown.room);
      this.current.session.noteRead(shown.read_seq);
    }
    if (kind === 'read' && open) this.current.session.noteRead(entry.read_seq);
    if ((kind === 'updated' || kind === 'added') && open) {
      this.current.session.applyRoom(entry.room);
      this.current.session.noteRead(entry.read_seq);
    }
    if (kind === 'added' && !open) this.#announceAdded(entry);
    if (kind === 'removed' && !open) {
      const notice = this.endedHere.delete(String(roomId)) ? null : REMOVED_NOTICES[reason];
      if (notice) toast(notice(roomLabel(entry.room, this.me)), { kind: 'info', timeout: 6000 });
      if (String(this.prefs.lastRoom) === String(roomId)) this.#forgetLastRoom();
    }
    if (kind === 'activity' && unread && (mention || isDirect(entry.room))) {
      this.#notify(entry, { author, message, seq, mention });
      if (!open) {
        const where = isDirect(entry.room) ? 'wrote to you' : `mentioned you in ${roomLabel(entry.room, this.me)}`;
        this.announcer.textContent = `${displayName(author)} ${where}.`;
      }
    }
    this.#renderTitle();
    if (this.welcome) this.#renderWelcome();
  }

  /** Invited to a private room, or a conversation opened with me: say so once. */
  #announceAdded(entry) {
    if (entry.role === 'owner' || !this.myRooms.loaded) return;
    if (isDirect(entry.room)) {
      const partner = directPartner(entry.room, this.me); // none in a room with myself
      if (partner) toast(`New conversation with ${partner}.`, { kind: 'info', timeout: 6000 });
    } else if (entry.room.is_private) {
      toast(`You were added to ${roomLabel(entry.room, this.me)}.`, { kind: 'info', timeout: 6000 });
    }
  }

  /** A desktop notification, when the page is not in front of the person. */
  async #notify(entry, { author, message, seq, mention }) {
    if (notifications.permission !== 'granted') return;
    if (document.visibilityState === 'visible' && document.hasFocus()) return;
    const room = entry.room;
    let body = message?.body ?? null;
    if (body === null) {
      try {
        const page = await api.messages(room.id, { after: seq - 1, limit: 1 });
        body = page.messages.find((m) => m.seq === seq)?.body ?? '';
      } catch {
        body = '';
      }
    }
    body = oneLine(body, NOTIFY_BODY_CHARS);
    const who = displayName(author);
    const title = isDirect(room) ? who : mention ? `${who} mentioned you in ${roomLabel(room, this.me)}` : `${who} in ${roomLabel(room, this.me)}`;
    notifications.show({
      title,
      body: body || 'Open the room to read it.',
      tag: `hubbub-${room.id}-${seq}`,
      onClick: () => {
        window.location.hash = `#/rooms/${encodeURIComponent(room.id)}`;
      },
    });
  }

  /** "(3) #design · Hubbub": every unread message of mine, wherever it is. */
  #renderTitle() {
    const total = this.myRooms.totalUnread;
    const room = this.current?.session.room;
    const label = room?.name ? `${roomLabel(room, this.me)} · Hubbub` : 'Hubbub';
    document.title = total > 0 ? `(${total}) ${label}` : label;
  }

  // --- rooms ---------------------------------------------------------------

  #route() {
    const match = /^#\/rooms\/([^/]+)(?:\/messages\/(\d{1,15}))?$/.exec(window.location.hash);
    const id = match ? decodeURIComponent(match[1]) : null;
    if (id) {
      this.#openRoom(id);
      if (match[2]) {
        // The room, at that message: the address goes back to the room's own (a reload
        // comes back to the room; the same link chosen again is a change of address).
        window.history.replaceState(null, '', `#/rooms/${encodeURIComponent(id)}`);
        this.#closeDrawers();
        this.current?.session.goTo(Number(match[2]));
      }
      return;
    }
    // Back to the room last open here; never into a room picked for the person (the
    // newest public room is likely a stranger's).
    const last = this.prefs.lastRoom ?? null;
    // (Before the list could be read, offline say, the last room is still the best guess.)
    if (last !== null && (this.myRooms.has(last) || !this.myRooms.loaded)) window.location.replace(`#/rooms/${encodeURIComponent(last)}`);
    else this.#showWelcome();
  }

  #openRoom(id) {
    if (this.current && String(this.current.session.room.id) === String(id)) return;
    this.#closeRoom();
    const entry = this.myRooms.get(id);
    const known = entry?.room ?? { id, name: null, is_private: false };
    const roomSession = new RoomSession({ ...known }, this.me, {
      channel: this.live.channel(known.id),
      outbox: this.outbox,
      readSeq: entry?.read_seq ?? null,
    });
    const view = new RoomView({
      session: roomSession,
      onToggleMembers: () => this.#toggleMembers(),
      onShowRooms: () => this.#showSidebar(),
      onLeft: (room) => this.#left(room),
      onDeleted: (room) => this.#deleted(room),
      onSearch: () => this.#openSearch(),
    });
    this.welcome = null;
    this.shell.classList.remove('no-room');
    this.current = { session: roomSession, view };
    this.members.setRoom(roomSession);
    const renderMembers = () => this.members.render();
    roomSession.addEventListener('members', renderMembers);
    roomSession.addEventListener('access', renderMembers);
    roomSession.addEventListener('room', () => {
      // Renamed or made private here: the sidebar follows without waiting for the server.
      if (roomSession.room.name) this.myRooms.updateRoom(roomSession.room);
      this.#renderTitle();
    });
    // No `activity` comes for the open room: its new messages count here.
    roomSession.addEventListener('news', (event) => this.myRooms.noteMessage(event.detail.message));
    replace(this.main, view.el);
    this.sidebar.setActive(id);
    this.prefs.lastRoom = id;
    savePrefs(this.me.id, this.prefs);
    view.setMembersExpanded(this.#membersVisible());
    roomSession.start();
    this.#renderTitle();
    if (!NARROW.matches) view.focusComposer();
  }

  #closeRoom() {
    if (!this.current) return;
    this.current.session.stop();
    this.current.view.destroy();
    this.current = null;
    this.members.setRoom(null);
  }

  /** No room open: a welcome that offers what to do next, kept current as rooms come and go. */
  #showWelcome() {
    this.#closeRoom();
    this.sidebar.setActive(null);
    this.shell.classList.add('no-room');
    this.#renderTitle();
    this.welcome = h('div', { class: 'room-state' });
    replace(
      this.main,
      h(
        'main',
        { class: 'room', id: 'main', 'aria-labelledby': 'welcome-title' },
        h(
          'header',
          { class: 'room-header' },
          h('button', { type: 'button', class: 'icon-button only-narrow', id: 'rooms-toggle', 'aria-controls': 'sidebar', 'aria-label': 'Rooms', onclick: () => this.#showSidebar() }, icon('menu')),
          h('div', { class: 'room-heading' }, h('p', { class: 'room-title' }, 'Hubbub')),
        ),
        this.welcome,
      ),
    );
    this.#renderWelcome();
  }

  #renderWelcome() {
    if (!this.welcome) return;
    const mine = this.myRooms.list();
    if (this.myRooms.loaded && !mine.length && this.anyRooms === null) {
      this.anyRooms = 'asking';
      api.listRooms(1).then(
        (rooms) => {
          this.anyRooms = rooms.length > 0;
          this.#renderWelcome();
        },
        () => {
          this.anyRooms = true; // can't tell: offer browsing, which says what it finds
          this.#renderWelcome();
        },
      );
    }
    // Drawn again only when something it shows changed, so live updates do not take the
    // keyboard focus away from a link.
    const shown = mine.slice(0, WELCOME_ROOMS);
    const signature = JSON.stringify([this.myRooms.loaded, this.anyRooms, displayName(this.me), shown.map((e) => [e.room.id, e.room.name, e.room.is_private, e.unread, e.mentions])]);
    if (this.welcome.dataset.signature === signature) return;
    this.welcome.dataset.signature = signature;
    const focused = this.welcome.contains(document.activeElement) ? document.activeElement.id : null;
    const create = h('button', { type: 'button', class: `button${mine.length || this.anyRooms ? '' : ' primary'}`, id: 'welcome-create', onclick: () => this.#createRoom() }, icon('plus', { size: 16 }), 'Create a room');
    const browse = h('button', { type: 'button', class: 'button primary', id: 'browse-rooms', 'aria-haspopup': 'dialog', onclick: () => this.#browse() }, icon('search', { size: 16 }), 'Browse rooms');
    let card;
    if (!this.myRooms.loaded || (!mine.length && (this.anyRooms === null || this.anyRooms === 'asking'))) {
      card = [h('p', { class: 'muted' }, 'Loading rooms…')];
    } else if (!mine.length && !this.anyRooms) {
      card = [
        h('h1', { id: 'welcome-title' }, 'No rooms yet'),
        h('p', {}, 'Create a room and invite people, or wait to be invited to one.'),
        h('div', { class: 'card-actions' }, create),
      ];
    } else if (!mine.length) {
      card = [
        h('h1', { id: 'welcome-title' }, `Welcome, ${displayName(this.me)}`),
        h('p', {}, "You're not in any room yet. Browse the rooms on this server, start your own, or wait to be invited."),
        h('div', { class: 'card-actions' }, browse, create),
      ];
    } else {
      card = [
        h('h1', { id: 'welcome-title' }, `Welcome, ${displayName(this.me)}`),
        h('p', {}, 'Pick up where you left off, browse the other rooms on this server, or start your own.'),
        h(
          'nav',
          { class: 'welcome-rooms', 'aria-label': 'Your rooms' },
          h('h2', { class: 'section-label' }, 'Your rooms'),
          h(
            'ul',
            {},
            shown.map((entry) =>
              h(
                'li',
                {},
                h(
                  'a',
                  { class: `welcome-room${entry.unread ? ' unread' : ''}`, href: `#/rooms/${encodeURIComponent(entry.room.id)}` },
                  icon(roomIcon(entry.room), { size: 15 }),
                  h('span', { class: 'room-link-name', dir: 'auto' }, roomName(entry.room, this.me)),
                  entry.unread ? h('span', { class: 'badge badge-unread' }, String(entry.unread), h('span', { class: 'sr-only' }, ' unread')) : null,
                ),
              ),
            ),
          ),
        ),
        h('div', { class: 'card-actions' }, browse, create),
      ];
    }
    replace(this.welcome, h('div', { class: 'room-state-card welcome-card' }, card));
    if (focused) document.getElementById(focused)?.focus();
  }

  #browse() {
    const opener = document.activeElement;
    const dialog = browseRoomsDialog({
      load: () => api.listRooms(),
      isMine: (room) => this.myRooms.has(room.id),
      onOpen: () => this.#closeDrawers(),
    });
    dialog.addEventListener('close', () => {
      if (opener?.isConnected && !this.current) opener.focus();
    });
  }

  async #createRoom() {
    const room = await createRoomDialog({ create: (values) => api.createRoom(values) });
    if (!room) return;
    this.#closeDrawers(); // created from the phone's Rooms drawer: show the new room
    // Usually here already, by the connection's room_added.
    this.myRooms.apply({ type: 'room_added', room, role: 'owner' }, { replayed: true });
    window.location.hash = `#/rooms/${encodeURIComponent(room.id)}`;
  }

  #left(room) {
    toast(`You left ${roomLabel(room, this.me)}.`, { kind: 'info', timeout: 4000 });
    this.#leaveRoomView(room);
  }

  #deleted(room) {
    toast(`Deleted ${roomLabel(room, this.me)}.`, { kind: 'info', timeout: 4000 });
    this.#leaveRoomView(room);
  }

  /** The open room is no longer ours: back to the welcome (never into someone else's room). */
  #leaveRoomView(room) {
    if (this.myRooms.has(room.id)) this.endedHere.add(String(room.id)); // its room_removed is on its way
    this.#closeRoom();
    this.#forgetLastRoom();
    window.history.replaceState(null, '', window.location.pathname);
    this.#showWelcome();
  }

  #forgetLastRoom() {
    this.prefs.lastRoom = null;
    savePrefs(this.me.id, this.prefs);
  }

  // --- searching, mentions, direct messages, invitations -------------------------

  #openSearch() {
    if (document.getElementById('search-dialog')) return;
    const chosen = this.#chooser();
    searchDialog({ state: this.searchState, rooms: this.myRooms, me: this.me, room: this.current?.session ?? null, onOpen: chosen.onOpen }).addEventListener('close', chosen.onClose);
  }

  #openMentions() {
    const chosen = this.#chooser();
    mentionsDialog({ rooms: this.myRooms, me: this.me, onOpen: chosen.onOpen }).addEventListener('close', chosen.onClose);
  }

  #openInvites() {
    const opener = document.activeElement;
    const dialog = invitesDialog();
    dialog.addEventListener('close', () => {
      if (opener?.isConnected) opener.focus();
    });
  }

  /**
   * For a dialog that leads to a message: its link opens the room there (and the jump
   * takes the keyboard to it); closed without choosing, the keyboard goes back where it was.
   */
  #chooser() {
    this.#closeDrawers();
    const opener = document.activeElement;
    let chosen = false;
    return {
      onOpen: () => {
        chosen = true;
        this.#closeDrawers();
      },
      onClose: () => {
        if (chosen) return;
        if (opener?.isConnected && opener !== document.body) opener.focus();
        else this.current?.view.focusComposer();
      },
    };
  }

  async #newDirect() {
    const opener = document.activeElement;
    // People I may know: the open room's members.
    const people = (this.current?.session.members ?? []).map((m) => m.user).filter((user) => user.id !== this.me.id);
    const room = await directDialog({ open: (username) => api.openDirect(username), people });
    if (room) this.#showDirect(room);
    else if (opener?.isConnected) opener.focus();
  }

  /** The conversation with `username`: made the first time, opened every time. */
  async #openDirect(username) {
    try {
      this.#showDirect(await api.openDirect(username));
    } catch (error) {
      if (error.name !== 'SessionEnded') toast(describeError(error, 'direct'));
    }
  }

  #showDirect(room) {
    this.#closeDrawers();
    // Usually here already, by the connection's room_added (the first time only).
    this.myRooms.apply({ type: 'room_added', room, role: 'member' }, { replayed: true });
    window.location.hash = `#/rooms/${encodeURIComponent(room.id)}`;
  }

  // --- the account ---------------------------------------------------------

  #openAccount() {
    const dialog = accountDialog({ onUser: (user) => this.#setMe(user) });
    dialog.addEventListener('close', () => document.getElementById('account-button')?.focus());
  }

  #setMe(user) {
    const renamed = user.display_name !== this.me.display_name;
    session.setUser(user);
    this.me = user;
    this.sidebar.setMe(user);
    if (renamed) {
      this.current?.session.setMe(user);
      // The server knows a connection's person as they were when it opened.
      this.live.reconnect();
    }
    if (this.welcome) this.#renderWelcome();
  }

  // --- messages left unsent in rooms that are not open -----------------------

  /**
   * The open room sends its own; the others' go over HTTP with their nonces, so a
   * message that the open room (or another tab) sends too is still stored once.
   */
  async #flushOutbox() {
    if (this.flushing || navigator.onLine === false) return;
    this.flushing = true;
    try {
      for (const roomId of this.outbox.rooms()) {
        if (this.current && String(this.current.session.room.id) === roomId) continue;
        for (const entry of this.outbox.list(roomId)) {
          if (entry.failed) continue;
          try {
            await api.sendMessage(roomId, entry.body, entry.nonce, entry.replyTo);
            this.outbox.remove(roomId, entry.nonce);
          } catch (error) {
            if (error.status === 403 || error.status === 404) {
              this.outbox.remove(roomId, entry.nonce); // no longer ours to write in: nowhere to show it
            } else if (error.status === 422) {
              this.outbox.put(roomId, { ...entry, failed: true, error: describeError(error, 'send') });
            } else {
              // Offline, the server is down, or too fast: again later (or when back online).
              clearTimeout(this.flushRetry);
              this.flushRetry = setTimeout(() => this.#flushOutbox(), Math.max(5, error.retryAfter ?? 0) * 1000 * 2);
              return;
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  // --- layout --------------------------------------------------------------

  #membersVisible() {
    if (NARROW.matches || !WIDE.matches) return this.shell.classList.contains('show-members');
    return !this.prefs.membersHidden;
  }

  #applyLayout() {
    this.shell.classList.remove('show-sidebar', 'show-members');
    this.shell.classList.toggle('hide-members', Boolean(this.prefs.membersHidden));
    this.current?.view.setMembersExpanded(this.#membersVisible());
  }

  #toggleMembers(force) {
    if (NARROW.matches || !WIDE.matches) {
      const open = force ?? !this.shell.classList.contains('show-members');
      this.shell.classList.toggle('show-members', open);
      this.shell.classList.remove('show-sidebar');
      if (open) this.members.el.querySelector('button, input, summary')?.focus();
      else this.current?.view.membersButton.focus();
    } else {
      const hidden = force === undefined ? !this.prefs.membersHidden : !force;
      this.prefs.membersHidden = hidden;
      savePrefs(this.me.id, this.prefs);
      this.shell.classList.toggle('hide-members', hidden);
      if (hidden) this.current?.view.membersButton.focus();
    }
    this.current?.view.setMembersExpanded(this.#membersVisible());
  }

  #showSidebar() {
    this.shell.classList.add('show-sidebar');
    this.shell.classList.remove('show-members');
    (this.sidebar.el.querySelector('.room-link.active') ?? this.sidebar.filter).focus();
  }

  #closeDrawers() {
    const wasOpen = this.shell.classList.contains('show-sidebar') || this.shell.classList.contains('show-members');
    this.shell.classList.remove('show-sidebar', 'show-members');
    this.current?.view.setMembersExpanded(this.#membersVisible());
    return wasOpen;
  }

  #onKey(event) {
    const dialogOpen = Boolean(document.querySelector('dialog[open]'));
    const active = document.activeElement;
    const typing = active?.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(active?.tagName);
    if (event.key === '/' && !event.ctrlKey && !event.metaKey && !event.altKey && !typing && !dialogOpen) {
      event.preventDefault();
      this.#openSearch();
      return;
    }
    if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'f' && !dialogOpen) {
      event.preventDefault();
      this.#openSearch();
      return;
    }
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'k') {
      // Ctrl+K / Cmd+K: jump to another room.
      event.preventDefault();
      if (NARROW.matches) this.#showSidebar();
      this.sidebar.filter.focus();
      this.sidebar.filter.select();
      return;
    }
    if (event.key === 'Escape' && !document.querySelector('dialog[open]') && this.#closeDrawers()) {
      event.preventDefault();
      this.current?.view.focusComposer();
    }
  }
}
