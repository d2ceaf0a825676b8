// The signed-in app: the three columns, which room is open (from the address, so
// a reload comes back to it), the room list kept fresh, and phone-sized drawers.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { describeError } from '../errors.js';
import { icon } from '../icons.js';
import { loadPrefs, savePrefs } from '../prefs.js';
import { RoomSession } from '../room.js';
import { session } from '../session.js';
import { createRoomDialog } from './dialogs.js';
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
    this.rooms = [];
    this.current = null; // {session, view}
    this.sidebar = new Sidebar({
      me,
      onCreateRoom: () => this.#createRoom(),
      onLogout: () => session.logout(),
      onNavigate: () => this.#closeDrawers(),
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
  }

  start() {
    replace(this.root, this.shell);
    window.addEventListener('hashchange', this.onHash);
    window.addEventListener('focus', this.onFocus);
    document.addEventListener('keydown', this.onKey);
    NARROW.addEventListener('change', this.onLayout);
    WIDE.addEventListener('change', this.onLayout);
    this.timer = setInterval(() => this.refreshRooms(), ROOMS_REFRESH_MS);
    this.#applyLayout();
    this.refreshRooms().then(() => this.#route());
    api.me().then((me) => session.setUser(me)).catch(() => {});
  }

  stop() {
    clearInterval(this.timer);
    window.removeEventListener('hashchange', this.onHash);
    window.removeEventListener('focus', this.onFocus);
    document.removeEventListener('keydown', this.onKey);
    NARROW.removeEventListener('change', this.onLayout);
    WIDE.removeEventListener('change', this.onLayout);
    this.#closeRoom();
  }

  async refreshRooms() {
    try {
      this.rooms = await api.listRooms();
      this.sidebar.setRooms(this.rooms);
      this.#updateUnread();
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
    const fallback = this.rooms.find((room) => String(room.id) === String(this.prefs.lastRoom)) ?? this.rooms[0];
    if (fallback) window.location.replace(`#/rooms/${encodeURIComponent(fallback.id)}`);
    else this.#showEmpty();
  }

  #openRoom(id) {
    if (this.current && String(this.current.session.room.id) === String(id)) return;
    this.#closeRoom();
    const known = this.rooms.find((room) => String(room.id) === String(id)) ?? { id, name: null, is_private: false };
    const roomSession = new RoomSession({ ...known }, this.me);
    const view = new RoomView({
      session: roomSession,
      onToggleMembers: () => this.#toggleMembers(),
      onShowRooms: () => this.#showSidebar(),
      onLeft: (room) => this.#left(room),
      onRead: (roomId, seq) => this.#markRead(roomId, seq),
    });
    this.current = { session: roomSession, view };
    this.members.setRoom(roomSession);
    const renderMembers = () => this.members.render();
    roomSession.addEventListener('members', renderMembers);
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

  #showEmpty() {
    this.#closeRoom();
    this.sidebar.setActive(null);
    document.title = 'Hubbub';
    replace(
      this.main,
      h(
        'main',
        { class: 'room', id: 'main' },
        h(
          'header',
          { class: 'room-header' },
          h('button', { type: 'button', class: 'icon-button only-narrow', 'aria-label': 'Rooms', onclick: () => this.#showSidebar() }, icon('menu')),
          h('div', { class: 'room-heading' }, h('h1', { class: 'room-title' }, 'Hubbub')),
        ),
        h(
          'div',
          { class: 'room-state' },
          h(
            'div',
            { class: 'room-state-card' },
            h('h2', {}, 'No rooms yet'),
            h('p', {}, 'Create a room and invite people, or wait to be invited to one.'),
            h('button', { type: 'button', class: 'button primary', onclick: () => this.#createRoom() }, icon('plus', { size: 16 }), 'Create a room'),
          ),
        ),
      ),
    );
  }

  async #createRoom() {
    const room = await createRoomDialog({ create: (values) => api.createRoom(values) });
    if (!room) return;
    await this.refreshRooms();
    window.location.hash = `#/rooms/${encodeURIComponent(room.id)}`;
  }

  async #left(room) {
    toast(`You left ${room.is_private ? '' : '#'}${room.name}.`, { kind: 'info', timeout: 4000 });
    this.#closeRoom();
    await this.refreshRooms();
    const next = this.rooms.find((r) => String(r.id) !== String(room.id) && !r.is_private) ?? null;
    this.prefs.lastRoom = null;
    if (next) window.location.hash = `#/rooms/${encodeURIComponent(next.id)}`;
    else {
      window.history.replaceState(null, '', window.location.pathname);
      this.#showEmpty();
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
