// The left column: searching messages and my mentions; my rooms, most recently active
// first, with unread counts and mention badges, direct messages apart (and starting one);
// a filter, browsing and creating rooms, invitations for site admins, the offer of
// desktop notifications, and me (my account).

import { h, replace, srOnly } from '../dom.js';
import { directPartner, displayName, isDirect, roomIcon, roomName } from '../format.js';
import { icon } from '../icons.js';
import { notifications } from '../notify.js';
import { avatar } from './avatar.js';

const PROMPT_KEY = 'hubbub.notify-prompt-dismissed';
const RENDER_BATCH_MS = 40;

function promptDismissed() {
  try {
    return localStorage.getItem(PROMPT_KEY) === '1';
  } catch {
    return false;
  }
}

/** ", 3 unread messages, 1 mention": what the badges say, for a screen reader. */
function badgeText(entry) {
  const parts = [];
  if (entry.unread) parts.push(`${entry.unread} unread ${entry.unread === 1 ? 'message' : 'messages'}`);
  if (entry.mentions) parts.push(`${entry.mentions} ${entry.mentions === 1 ? 'mention' : 'mentions'}`);
  return parts.length ? `, ${parts.join(', ')}` : '';
}

export class Sidebar {
  /** rooms: a MyRooms (the sidebar draws itself again when it changes). */
  constructor({ me, rooms, onCreateRoom, onBrowse, onLogout, onNavigate, onAccount, onSearch, onMentions, onNewDirect, onInvites }) {
    this.me = me;
    this.rooms = rooms;
    this.activeId = null;
    this.onNavigate = onNavigate;

    this.filter = h('input', {
      type: 'search',
      id: 'room-filter',
      placeholder: 'Find a room',
      'aria-keyshortcuts': 'Control+K',
      'aria-controls': 'room-list',
      autocomplete: 'off',
      spellcheck: 'false',
    });
    this.filter.addEventListener('input', () => this.render());
    this.filter.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this.nav.querySelector('.room-link')?.click();
        this.filter.value = '';
        this.render();
      } else if (event.key === 'Escape' && this.filter.value) {
        event.stopPropagation();
        this.filter.value = '';
        this.render();
      }
    });
    this.list = h('ul', { class: 'room-list', id: 'room-list', 'aria-labelledby': 'rooms-heading' });
    this.directList = h('ul', { class: 'room-list', id: 'direct-list', 'aria-labelledby': 'direct-heading' });
    this.directSection = h(
      'div',
      { class: 'room-section' },
      h('h2', { class: 'section-label', id: 'direct-heading' }, 'Direct messages'),
      this.directList,
      h('button', { type: 'button', class: 'browse-link', id: 'new-direct', 'aria-haspopup': 'dialog', onclick: onNewDirect }, icon('plus', { size: 15 }), h('span', { class: 'room-link-name' }, 'New direct message')),
    );
    // Site admins only (the server answers 403 to anyone else).
    this.adminSection = h(
      'div',
      { class: 'room-section', hidden: true },
      h('h2', { class: 'section-label', id: 'admin-heading' }, 'This server'),
      h('button', { type: 'button', class: 'browse-link', id: 'invites-button', 'aria-haspopup': 'dialog', onclick: onInvites }, icon('mail', { size: 15 }), h('span', { class: 'room-link-name' }, 'Invitations')),
    );
    this.status = h('p', { class: 'sidebar-status', role: 'status' });
    this.prompt = h('div', { class: 'notify-prompt', hidden: true });
    this.meName = h('span', { class: 'me-name', dir: 'auto' });
    this.meHandle = h('span', { class: 'me-handle' });
    this.meAvatar = h('span');

    const shortcut = /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘F' : 'Ctrl F';
    this.nav = h(
      'nav',
      { class: 'room-nav', 'aria-label': 'Room list' },
      h(
        'div',
        { class: 'room-section quick-links' },
        h(
          'button',
          { type: 'button', class: 'browse-link', id: 'search-messages', 'aria-haspopup': 'dialog', 'aria-keyshortcuts': '/ Control+F Meta+F', onclick: onSearch },
          icon('search', { size: 15 }),
          h('span', { class: 'room-link-name' }, 'Search messages'),
          h('kbd', { class: 'quick-shortcut', 'aria-hidden': 'true', title: `/ or ${shortcut}` }, '/'),
        ),
        h('button', { type: 'button', class: 'browse-link', id: 'mentions-button', 'aria-haspopup': 'dialog', onclick: onMentions }, icon('at', { size: 15 }), h('span', { class: 'room-link-name' }, 'Mentions')),
      ),
      h(
        'div',
        { class: 'room-section' },
        h('h2', { class: 'section-label', id: 'rooms-heading' }, 'Rooms'),
        this.list,
        // Rooms one is not in are found here, not mixed into one's own.
        h('button', { type: 'button', class: 'browse-link', id: 'browse-rooms-side', 'aria-haspopup': 'dialog', onclick: onBrowse }, icon('compass', { size: 15 }), h('span', { class: 'room-link-name' }, 'Browse rooms')),
      ),
      this.directSection,
      this.adminSection,
      this.status,
    );
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
        { class: 'sidebar-search', role: 'search' },
        h('label', { for: 'room-filter', class: 'sr-only' }, 'Find a room'),
        icon('search', { size: 15 }),
        this.filter,
        h('kbd', { class: 'search-shortcut', 'aria-hidden': 'true' }, /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘K' : 'Ctrl K'),
      ),
      this.nav,
      this.prompt,
      h(
        'div',
        { class: 'sidebar-foot' },
        (this.meButton = h(
          'button',
          { type: 'button', class: 'me-button', id: 'account-button', title: 'Your account: name, password, notifications, devices, API tokens', onclick: onAccount },
          this.meAvatar,
          h('span', { class: 'me-text' }, this.meName, this.meHandle),
        )),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Log out', title: 'Log out', onclick: onLogout, id: 'logout' }, icon('logout')),
      ),
    );
    this.setMe(me);
    // Busy rooms send many frames: a burst of them is drawn once.
    this.renderQueued = false;
    rooms.addEventListener('change', () => {
      if (this.renderQueued) return;
      this.renderQueued = true;
      setTimeout(() => {
        this.renderQueued = false;
        this.render();
      }, RENDER_BATCH_MS);
    });
    // `notifications` outlives this sidebar (a new one is made at each login): see destroy().
    this.onNotifications = () => this.#renderPrompt();
    notifications.addEventListener('change', this.onNotifications);
    this.#renderPrompt();
    this.render();
  }

  destroy() {
    notifications.removeEventListener('change', this.onNotifications);
  }

  setMe(me) {
    this.me = me;
    this.meButton.setAttribute('aria-label', `Your account: ${displayName(me)}`);
    this.meName.textContent = displayName(me);
    this.meHandle.textContent = `@${me.username}`;
    this.meAvatar.replaceWith((this.meAvatar = avatar(me, { size: 'sm' })));
    this.adminSection.hidden = !me.is_admin;
    this.render();
  }

  setActive(roomId) {
    this.activeId = roomId === null ? null : String(roomId);
    this.render();
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  render() {
    if (this.rooms.loaded) this.status.textContent = '';
    const query = this.filter.value.trim().toLowerCase();
    const entries = this.rooms.list().filter((entry) => !query || this.#name(entry).toLowerCase().includes(query));
    const focused = this.nav.contains(document.activeElement) ? document.activeElement.dataset.roomId : null;
    const rooms = entries.filter((entry) => !isDirect(entry.room));
    const direct = entries.filter((entry) => isDirect(entry.room));
    const items = rooms.map((entry) => this.#item(entry));
    if (!items.length) {
      let empty = 'Loading…';
      if (this.rooms.loaded) empty = query ? 'No room matches.' : "You're not in any room yet.";
      items.push(h('li', { class: 'room-list-empty' }, empty));
    }
    replace(this.list, items);
    replace(this.directList, direct.map((entry) => this.#item(entry)));
    if (focused) this.nav.querySelector(`a[data-room-id="${CSS.escape(focused)}"]`)?.focus();
  }

  #name(entry) {
    return roomName(entry.room, this.me);
  }

  #item(entry) {
    const { room } = entry;
    const id = String(room.id);
    const active = id === this.activeId;
    const unread = !active && entry.unread > 0;
    const mentions = !active && entry.mentions > 0;
    const direct = isDirect(room);
    const name = this.#name(entry);
    const kind = direct ? 'Direct message with ' : room.is_private ? 'Private room ' : 'Room ';
    return h(
      'li',
      {},
      h(
        'a',
        {
          href: `#/rooms/${encodeURIComponent(room.id)}`,
          class: `room-link${active ? ' active' : ''}${unread ? ' unread' : ''}${mentions ? ' has-mention' : ''}`,
          'aria-current': active ? 'page' : null,
          // One name for screen readers: "Private room launch-plans, 3 unread messages, 1 mention".
          'aria-label': `${kind}${name}${active ? '' : badgeText(entry)}`,
          dataset: { roomId: id, unread: String(active ? 0 : entry.unread), mentions: String(active ? 0 : entry.mentions) },
          onclick: () => this.onNavigate?.(),
        },
        direct ? this.#partnerAvatar(room) : icon(roomIcon(room), { size: 15 }),
        srOnly(kind),
        h('span', { class: 'room-link-name', dir: 'auto' }, name),
        mentions ? h('span', { class: 'badge badge-mention', 'aria-hidden': 'true', title: `${entry.mentions} ${entry.mentions === 1 ? 'mention' : 'mentions'}` }, `@${entry.mentions > 99 ? '99+' : entry.mentions}`) : null,
        unread ? h('span', { class: 'badge badge-unread', 'aria-hidden': 'true' }, entry.unread > 99 ? '99+' : String(entry.unread)) : null,
      ),
    );
  }

  /** The other person's initials (mine, in a room with myself). */
  #partnerAvatar(room) {
    const partner = directPartner(room, this.me);
    return partner ? avatar({ id: partner.toLowerCase(), username: partner }, { size: 'xs' }) : avatar(this.me, { size: 'xs' });
  }

  /** The offer of desktop notifications, while the browser has not been asked. */
  #renderPrompt() {
    const show = notifications.permission === 'default' && !promptDismissed();
    this.prompt.hidden = !show;
    if (!show) {
      replace(this.prompt);
      return;
    }
    const turnOn = h('button', { type: 'button', class: 'button small primary', id: 'enable-notifications' }, 'Turn on');
    turnOn.addEventListener('click', () => notifications.ask());
    const dismiss = h('button', { type: 'button', class: 'icon-button small', 'aria-label': 'Not now', title: 'Not now' }, icon('close', { size: 14 }));
    dismiss.addEventListener('click', () => {
      try {
        localStorage.setItem(PROMPT_KEY, '1');
      } catch {
        /* storage unavailable: hidden for this page only */
      }
      this.#renderPrompt();
      this.filter.focus();
    });
    replace(
      this.prompt,
      h('span', { class: 'notify-icon', 'aria-hidden': 'true' }, icon('bell', { size: 16 })),
      h('p', { class: 'notify-text', id: 'notify-text' }, 'Get a desktop notification when someone mentions you.'),
      h('div', { class: 'notify-actions' }, turnOn, dismiss),
    );
    turnOn.setAttribute('aria-describedby', 'notify-text');
  }
}
