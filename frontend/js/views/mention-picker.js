// `@` in the composer: a list of the room's members that match what follows it, to pick
// with the arrow keys and Enter or Tab (or a click). The message box is the combobox
// (ARIA 1.2): it keeps the focus, and aria-activedescendant names the option in view.

import { h, replace, uniqueId } from '../dom.js';
import { displayName } from '../format.js';
import { avatar } from './avatar.js';

const MAX_SHOWN = 8;
// An `@` at the start or after a character no username has, then what is typed so far.
const TOKEN_BEFORE_CARET = /(^|[^A-Za-z0-9_.-])@([A-Za-z0-9_.-]{0,32})$/;

export class MentionPicker {
  /** input: the textarea; getMembers(): the people who may be mentioned ({id, username, display_name}). */
  constructor({ input, getMembers }) {
    this.input = input;
    this.getMembers = getMembers;
    this.options = [];
    this.active = 0;
    this.token = null; // {start, end}: the `@...` being written
    this.listId = uniqueId('mentions');
    this.list = h('ul', { class: 'mention-list', id: this.listId, role: 'listbox', 'aria-label': 'People to mention', hidden: true });
    this.status = h('span', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
    this.el = h('div', { class: 'mention-picker' }, this.list, this.status);
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-haspopup', 'listbox');
    input.setAttribute('aria-controls', this.listId);
    input.setAttribute('aria-expanded', 'false');
    this.onInput = () => this.update();
    this.onBlur = () => this.close();
    this.onSelection = () => {
      if (document.activeElement === input && this.isOpen) this.update();
    };
    input.addEventListener('input', this.onInput);
    input.addEventListener('blur', this.onBlur);
    input.addEventListener('click', this.onInput);
    document.addEventListener('selectionchange', this.onSelection);
  }

  get isOpen() {
    return !this.list.hidden;
  }

  destroy() {
    document.removeEventListener('selectionchange', this.onSelection);
  }

  /** Keys while the list is open; true when the key was the picker's. */
  onKeyDown(event) {
    if (!this.isOpen || event.isComposing) return false;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const step = event.key === 'ArrowDown' ? 1 : -1;
      this.#setActive((this.active + step + this.options.length) % this.options.length);
    } else if (event.key === 'Home' || event.key === 'End') {
      this.#setActive(event.key === 'Home' ? 0 : this.options.length - 1);
    } else if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey) {
      this.choose(this.active);
    } else if (event.key === 'Escape') {
      this.close();
    } else {
      return false;
    }
    event.preventDefault();
    event.stopPropagation();
    return true;
  }

  /** Look at what is before the caret: a mention being written opens the list. */
  update() {
    const { value, selectionStart, selectionEnd } = this.input;
    if (selectionStart !== selectionEnd) {
      this.close();
      return;
    }
    const match = TOKEN_BEFORE_CARET.exec(value.slice(0, selectionStart));
    if (!match) {
      this.close();
      return;
    }
    const query = match[2].toLowerCase();
    const start = selectionStart - match[2].length - 1;
    const people = this.#matches(query);
    if (!people.length) {
      this.close();
      return;
    }
    const previous = this.options[this.active]?.id;
    this.token = { start, end: selectionStart };
    this.options = people;
    const keep = people.findIndex((user) => user.id === previous);
    this.#render(keep >= 0 ? keep : 0);
  }

  choose(index) {
    const user = this.options[index];
    if (!user || !this.token) return;
    const { value } = this.input;
    const after = value.slice(this.token.end);
    const insert = `@${user.username}${/^\s/.test(after) ? '' : ' '}`;
    this.input.value = value.slice(0, this.token.start) + insert + after;
    const caret = this.token.start + insert.length;
    this.input.setSelectionRange(caret, caret);
    this.close();
    this.input.dispatchEvent(new Event('input', { bubbles: true })); // the box grows, the count updates
    this.status.textContent = `${displayName(user)} mentioned`;
  }

  close() {
    if (!this.isOpen) return;
    this.list.hidden = true;
    this.options = [];
    this.token = null;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  #matches(query) {
    const scored = [];
    for (const user of this.getMembers()) {
      const username = user.username.toLowerCase();
      const words = displayName(user).toLowerCase().split(/\s+/);
      let score = null;
      if (username.startsWith(query)) score = 0;
      else if (words.some((word) => word.startsWith(query))) score = 1;
      else if (query && username.includes(query)) score = 2;
      if (score !== null) scored.push([score, user]);
    }
    scored.sort((a, b) => a[0] - b[0] || displayName(a[1]).localeCompare(displayName(b[1])));
    return scored.slice(0, MAX_SHOWN).map(([, user]) => user);
  }

  #render(active) {
    replace(
      this.list,
      this.options.map((user, index) =>
        h(
          'li',
          {
            id: `${this.listId}-${index}`,
            class: 'mention-option',
            role: 'option',
            'aria-selected': 'false',
            dataset: { username: user.username },
            // Keep the focus (and the caret) in the message box.
            onmousedown: (event) => event.preventDefault(),
            onclick: () => this.choose(index),
          },
          avatar(user, { size: 'xs' }),
          h('span', { class: 'mention-name', dir: 'auto' }, displayName(user)),
          h('span', { class: 'mention-handle' }, `@${user.username}`),
        ),
      ),
    );
    const wasOpen = this.isOpen;
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    this.#setActive(active);
    if (!wasOpen) {
      const count = this.options.length;
      this.status.textContent = `${count} ${count === 1 ? 'person' : 'people'} to mention. Up and down to choose, Enter to pick.`;
    }
  }

  #setActive(index) {
    this.active = index;
    for (const [i, option] of [...this.list.children].entries()) {
      option.setAttribute('aria-selected', String(i === index));
      option.classList.toggle('active', i === index);
    }
    const option = this.list.children[index];
    if (option) {
      this.input.setAttribute('aria-activedescendant', option.id);
      option.scrollIntoView({ block: 'nearest' });
    }
  }
}
