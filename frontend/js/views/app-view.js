// The signed-in app: the three columns, which room is open (from the address, so
// a reload comes back to it), the room list kept fresh, phone-sized drawers, and
// messages left unsent in rooms that are not open.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { describeError } from '../errors.js';
import { displayName } from '../format.js';
import { icon } from '../icons.js';
import { Outbox } from '../outbox.js';
import { loadPrefs, savePrefs } from '../prefs.js';
import { RoomSession } from '../room.js';
import { session } from '../session.js';
import { accountDialog } from './account-dialog.js';
import { browseRoomsDialog, createRoomDialog } from './dialogs.js';
import { MembersPanel } from './members-panel.js';
import { RoomView } from './room-view.js';
import { Sidebar } from './sidebar.js';
import { toast } from './toasts.js';

const ROOMS_REFRESH_MS = 20_000;
const NARROW = window.matchMedia('(max-width: 760px)');
const WIDE = window.matchMedia('(min-width: 1100px)');

export class AppView {
  constructor(root, me) {
    this.root = root;
    this.me = me;
    this.prefs = loadPrefs(me.id);
    this.outbox = new Outbox(me.id);
    this.rooms = [];
    this.roomsLoaded = false;
    this.current = null; // {session, view}
    this.welcome = null; // the main area while no room is open
    this.flushing = false;
    this.sidebar = new Sidebar({
      me,
      onCreateRoom: () => this.#createRoom(),
      onLogout: () => session.logout(),
      onNavigate: () => this.#closeDrawers(),
      onAccount: () => this.#openAccount(),
    });
    this.members = new MembersPanel({ onClose: () => this.#toggleMembers(false) });
    this.main = h('div', { class: 'main-slot' });
    this.scrim = h('div', { class: 'scrim', 'aria-hidden': 'true', onclick: () => this.#closeDrawers() });
    this.shell = h(
      'div',
      { class: 'shell' },
      h('a', { class: 'skip-link', href: '#composer' }, 'Skip to the message box'),
      this.sidebar.el,
      this.main,
      this.members.el,
      this.scrim,
    );
    this.onHash = () => this.#route();
    this.onKey = (event) => this.#onKey(event);
    this.onFocus = () => this.refreshRooms();
    this.onLayout = () => this.#applyLayout();
    this.onOnline = () => this.#flushOutbox();
  }

  start() {
    replace(this.root, this.shell);
    window.addEventListener('hashchange', this.onHash);
    window.addEventListener('focus', this.onFocus);
    window.addEventListener('online', this.onOnline);
    document.addEventListener('keydown', this.onKey);
    NARROW.addEventListener('change', this.onLayout);
    WIDE.addEventListener('change', this.onLayout);
    this.timer = setInterval(() => this.refreshRooms().then(() => this.#flushOutbox()), ROOMS_REFRESH_MS);
    this.#applyLayout();
    this.refreshRooms().then(() => {
      this.#route();
      this.#flushOutbox();
    });
    api.me().then((me) => this.#setMe(me)).catch(() => {});
  }

  stop() {
    clearInterval(this.timer);
    window.removeEventListener('hashchange', this.onHash);
    window.removeEventListener('focus', this.onFocus);
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('keydown', this.onKey);
    NARROW.removeEventListener('change', this.onLayout);
    WIDE.removeEventListener('change', this.onLayout);
    this.#closeRoom();
    for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  }

  async refreshRooms() {
    try {
      this.rooms = await api.listRooms();
      this.roomsLoaded = true;
      this.sidebar.setRooms(this.rooms);
      this.#updateUnread();
      const open = this.current && this.rooms.find((room) => String(room.id) === String(this.current.session.room.id));
      if (open) this.current.session.applyRoom(open); // renamed, described or made private by someone
      if (this.welcome) this.#renderWelcome();
    } catch (error) {
      if (error.name !== 'SessionEnded') this.sidebar.setStatus(describeError(error, 'load'));
    }
  }

  // --- rooms ---------------------------------------------------------------

  #route() {
    const match = /^#\/rooms\/([^/]+)$/.exec(window.location.hash);
    const id = match ? decodeURIComponent(match[1]) : null;
    if (id) {
      this.#openRoom(id);
      return;
    }
    // Back to the room last open here; never into a room picked for the person (the
    // newest public room is likely a stranger's).
    const last = this.rooms.find((room) => String(room.id) === String(this.prefs.lastRoom));
    if (last) window.location.replace(`#/rooms/${encodeURIComponent(last.id)}`);
    else this.#showWelcome();
  }

  #openRoom(id) {
    if (this.current && String(this.current.session.room.id) === String(id)) return;
    this.#closeRoom();
    const known = this.rooms.find((room) => String(room.id) === String(id)) ?? { id, name: null, is_private: false };
    const roomSession = new RoomSession({ ...known }, this.me, { outbox: this.outbox });
    const view = new RoomView({
      session: roomSession,
      onToggleMembers: () => this.#toggleMembers(),
      onShowRooms: () => this.#showSidebar(),
      onLeft: (room) => this.#left(room),
      onRead: (roomId, seq) => this.#markRead(roomId, seq),
      onDeleted: (room) => this.#deleted(room),
    });
    this.welcome = null;
    this.shell.classList.remove('no-room');
    this.current = { session: roomSession, view };
    this.members.setRoom(roomSession);
    const renderMembers = () => this.members.render();
    roomSession.addEventListener('members', renderMembers);
    roomSession.addEventListener('room', () => {
      // Renamed or made private here: the sidebar follows without asking the server.
      const index = this.rooms.findIndex((room) => String(room.id) === String(roomSession.room.id));
      if (index < 0 || !roomSession.room.name) return;
      this.rooms[index] = { ...this.rooms[index], ...roomSession.room };
      this.sidebar.setRooms(this.rooms);
    });
    roomSession.addEventListener('access', (event) => {
      renderMembers();
      if (['removed', 'banned', 'gone'].includes(event.detail.status)) this.refreshRooms();
    });
    replace(this.main, view.el);
    this.sidebar.setActive(id);
    this.prefs.lastRoom = id;
    savePrefs(this.me.id, this.prefs);
    view.setMembersExpanded(this.#membersVisible());
    roomSession.start();
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
    document.title = 'Hubbub';
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
    // Drawn again only when something it shows changed, so a refresh every 20 s does not
    // take the keyboard focus away from a link.
    const signature = JSON.stringify([this.roomsLoaded, displayName(this.me), this.rooms.map((r) => [r.id, r.name, r.is_private])]);
    if (this.welcome.dataset.signature === signature) return;
    this.welcome.dataset.signature = signature;
    const focused = this.welcome.contains(document.activeElement) ? document.activeElement.id : null;
    const create = h('button', { type: 'button', class: `button${this.rooms.length ? '' : ' primary'}`, id: 'welcome-create', onclick: () => this.#createRoom() }, icon('plus', { size: 16 }), 'Create a room');
    let card;
    if (!this.roomsLoaded) {
      card = [h('p', { class: 'muted' }, 'Loading rooms…')];
    } else if (!this.rooms.length) {
      card = [
        h('h1', { id: 'welcome-title' }, 'No rooms yet'),
        h('p', {}, 'Create a room and invite people, or wait to be invited to one.'),
        h('div', { class: 'card-actions' }, create),
      ];
    } else {
      // Private rooms in the list are the person's own (invited or created).
      const mine = this.rooms.filter((room) => room.is_private).slice(0, 6);
      card = [
        h('h1', { id: 'welcome-title' }, `Welcome, ${displayName(this.me)}`),
        h('p', {}, `Pick a room to open, browse the ${this.rooms.length === 1 ? 'room' : `${this.rooms.length} rooms`} you can see, or start your own.`),
        mine.length
          ? h(
              'nav',
              { class: 'welcome-rooms', 'aria-label': 'Your private rooms' },
              h('h2', { class: 'section-label' }, 'Your private rooms'),
              h(
                'ul',
                {},
                mine.map((room) =>
                  h('li', {}, h('a', { class: 'welcome-room', href: `#/rooms/${encodeURIComponent(room.id)}` }, icon('lock', { size: 15 }), h('span', { class: 'room-link-name', dir: 'auto' }, room.name))),
                ),
              ),
            )
          : null,
        h(
          'div',
          { class: 'card-actions' },
          h('button', { type: 'button', class: 'button primary', id: 'browse-rooms', 'aria-haspopup': 'dialog', onclick: () => this.#browse() }, icon('search', { size: 16 }), 'Browse rooms'),
          create,
        ),
      ];
    }
    replace(this.welcome, h('div', { class: 'room-state-card welcome-card' }, card));
    if (focused) document.getElementById(focused)?.focus();
  }

  #browse() {
    const dialog = browseRoomsDialog({ rooms: this.rooms, onOpen: () => this.#closeDrawers() });
    dialog.addEventListener('close', () => {
      if (this.welcome) document.getElementById('browse-rooms')?.focus();
    });
  }

  async #createRoom() {
    const room = await createRoomDialog({ create: (values) => api.createRoom(values) });
    if (!room) return;
    this.#closeDrawers(); // created from the phone's Rooms drawer: show the new room
    await this.refreshRooms();
    window.location.hash = `#/rooms/${encodeURIComponent(room.id)}`;
  }

  async #left(room) {
    toast(`You left ${room.is_private ? '' : '#'}${room.name}.`, { kind: 'info', timeout: 4000 });
    await this.#leaveRoomView();
  }

  async #deleted(room) {
    toast(`Deleted ${room.is_private ? '' : '#'}${room.name}.`, { kind: 'info', timeout: 4000 });
    await this.#leaveRoomView();
  }

  /** The open room is no longer ours: back to the welcome (never into someone else's room). */
  async #leaveRoomView() {
    this.#closeRoom();
    this.prefs.lastRoom = null;
    savePrefs(this.me.id, this.prefs);
    window.history.replaceState(null, '', window.location.pathname);
    this.#showWelcome();
    await this.refreshRooms();
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
    if (renamed) this.current?.session.setMe(user);
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
            await api.sendMessage(roomId, entry.body, entry.nonce);
            this.outbox.remove(roomId, entry.nonce);
          } catch (error) {
            if (error.status === 403 || error.status === 404) {
              this.outbox.remove(roomId, entry.nonce); // no longer ours to write in: nowhere to show it
            } else if (error.status === 422) {
              this.outbox.put(roomId, { ...entry, failed: true, error: describeError(error, 'send') });
            } else {
              return; // offline, the server is down, or too fast: the next chance will try again
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  #markRead(roomId, seq) {
    if (seq === null || seq === undefined) return;
    const key = String(roomId);
    if ((this.prefs.read[key] ?? -1) >= seq) return;
    this.prefs.read[key] = seq;
    savePrefs(this.me.id, this.prefs);
    this.#updateUnread();
  }

  #updateUnread() {
    const unread = new Set();
    for (const room of this.rooms) {
      const read = this.prefs.read[String(room.id)];
      if (read !== undefined && room.last_seq > read) unread.add(String(room.id));
    }
    this.sidebar.setUnread(unread);
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
