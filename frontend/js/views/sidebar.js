// The left column: the rooms I can see, a filter, creating a room, and me (my account).

import { h, replace, srOnly } from '../dom.js';
import { displayName } from '../format.js';
import { icon } from '../icons.js';
import { avatar } from './avatar.js';

export class Sidebar {
  constructor({ me, onCreateRoom, onLogout, onNavigate, onAccount }) {
    this.rooms = [];
    this.activeId = null;
    this.unread = new Set();
    this.onNavigate = onNavigate;

    this.filter = h('input', {
      type: 'search',
      id: 'room-filter',
      placeholder: 'Find a room',
      'aria-keyshortcuts': 'Control+K',
      autocomplete: 'off',
      spellcheck: 'false',
    });
    this.filter.addEventListener('input', () => this.#renderList());
    this.filter.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this.list.querySelector('a')?.click();
        this.filter.value = '';
        this.#renderList();
      } else if (event.key === 'Escape' && this.filter.value) {
        event.stopPropagation();
        this.filter.value = '';
        this.#renderList();
      }
    });
    this.list = h('ul', { class: 'room-list', id: 'room-list' });
    this.status = h('p', { class: 'sidebar-status', role: 'status' });
    this.meName = h('span', { class: 'me-name', dir: 'auto' });
    this.meHandle = h('span', { class: 'me-handle' });
    this.meAvatar = h('span');

    this.el = h(
      'aside',
      { class: 'sidebar', id: 'sidebar', 'aria-label': 'Rooms' },
      h(
        'div',
        { class: 'sidebar-head' },
        h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, icon('chat', { size: 16 })), h('span', { class: 'brand-name' }, 'Hubbub')),
        h(
          'button',
          { type: 'button', class: 'icon-button', 'aria-label': 'Create a room', title: 'Create a room', onclick: onCreateRoom, id: 'new-room' },
          icon('plus'),
        ),
      ),
      h(
        'div',
        { class: 'sidebar-search' },
        h('label', { for: 'room-filter', class: 'sr-only' }, 'Find a room'),
        icon('search', { size: 15 }),
        this.filter,
        h('kbd', { class: 'search-shortcut', 'aria-hidden': 'true' }, /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘K' : 'Ctrl K'),
      ),
      h('nav', { class: 'room-nav', 'aria-label': 'Room list' }, h('h2', { class: 'section-label' }, 'Rooms'), this.list, this.status),
      h(
        'div',
        { class: 'sidebar-foot' },
        (this.meButton = h(
          'button',
          { type: 'button', class: 'me-button', id: 'account-button', title: 'Your account: name, password, devices', onclick: onAccount },
          this.meAvatar,
          h('span', { class: 'me-text' }, this.meName, this.meHandle),
        )),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Log out', title: 'Log out', onclick: onLogout, id: 'logout' }, icon('logout')),
      ),
    );
    this.setMe(me);
  }

  setMe(me) {
    this.meButton.setAttribute('aria-label', `Your account: ${displayName(me)}`);
    this.meName.textContent = displayName(me);
    this.meHandle.textContent = `@${me.username}`;
    this.meAvatar.replaceWith((this.meAvatar = avatar(me, { size: 'sm' })));
  }

  setRooms(rooms) {
    this.rooms = [...rooms].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
    this.status.textContent = '';
    this.#renderList();
  }

  setActive(roomId) {
    this.activeId = roomId === null ? null : String(roomId);
    this.#renderList();
  }

  setUnread(unread) {
    this.unread = unread;
    this.#renderList();
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  #renderList() {
    const query = this.filter.value.trim().toLowerCase();
    const rooms = query ? this.rooms.filter((room) => room.name.toLowerCase().includes(query)) : this.rooms;
    const items = rooms.map((room) => {
      const active = String(room.id) === this.activeId;
      const unread = !active && this.unread.has(String(room.id));
      return h(
        'li',
        {},
        h(
          'a',
          {
            href: `#/rooms/${encodeURIComponent(room.id)}`,
            class: `room-link${active ? ' active' : ''}${unread ? ' unread' : ''}`,
            'aria-current': active ? 'page' : null,
            dataset: { roomId: String(room.id) },
            onclick: () => this.onNavigate?.(),
          },
          icon(room.is_private ? 'lock' : 'hash', { size: 15 }),
          srOnly(room.is_private ? 'Private room ' : 'Room '),
          h('span', { class: 'room-link-name' }, room.name),
          unread ? h('span', { class: 'unread-dot' }, srOnly(', new messages')) : null,
        ),
      );
    });
    if (!items.length) {
      items.push(h('li', { class: 'room-list-empty' }, query ? 'No room matches.' : 'No rooms yet.'));
    }
    replace(this.list, items);
  }
}
