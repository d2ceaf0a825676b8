// Writing a message: Enter sends, Shift+Enter starts a new line, the box grows with
// the text, `@` offers the room's members, and typing is announced to the room (at
// most every few seconds). A reply shows the message it answers above the box until it
// is sent or cancelled (Escape).

import { h, replace, uniqueId } from '../dom.js';
import { codePoints, displayName, oneLine } from '../format.js';
import { icon } from '../icons.js';
import { MentionPicker } from './mention-picker.js';

const MAX_BODY = 4000;
const WARN_AT = 3600;

export class Composer {
  /** onSend(body, replyTo): replyTo is the seq of the message answered, or null. */
  constructor({ onSend, onTyping, onEditLast, getMembers = () => [] }) {
    this.onSend = onSend;
    this.replyTo = null; // the message answered: {seq, author, body, deleted}
    this.onTyping = onTyping;
    this.onEditLast = onEditLast;
    const id = uniqueId('composer');
    this.label = h('label', { for: id, class: 'sr-only' }, 'Message');
    this.input = h('textarea', {
      id,
      class: 'composer-input',
      rows: 1,
      placeholder: 'Message',
      autocomplete: 'off',
      dir: 'auto', // follows the text: right to left for Hebrew or Arabic
      'aria-describedby': `${id}-hint ${id}-count`,
    });
    this.count = h('span', { class: 'composer-count', id: `${id}-count`, 'aria-live': 'polite' });
    this.send = h('button', { type: 'submit', class: 'send-button', 'aria-label': 'Send message', title: 'Send (Enter)' }, icon('send', { size: 18 }));
    this.replyBar = h('div', { class: 'composer-reply', id: `${id}-reply`, hidden: true });
    this.el = h(
      'form',
      { class: 'composer', id: 'composer' },
      this.label,
      this.replyBar,
      h('div', { class: 'composer-box' }, this.input, this.send, (this.picker = new MentionPicker({ input: this.input, getMembers })).el),
      h(
        'div',
        { class: 'composer-foot' },
        h('span', { class: 'composer-hint', id: `${id}-hint` }, h('kbd', {}, 'Enter'), ' to send · ', h('kbd', {}, 'Shift'), '+', h('kbd', {}, 'Enter'), ' for a new line'),
        this.count,
      ),
    );

    this.input.addEventListener('keydown', (event) => this.#onKey(event));
    this.input.addEventListener('input', () => {
      this.#grow();
      this.#updateCount();
      if (this.input.value.trim()) this.onTyping();
    });
    this.el.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#submit();
    });
    this.#updateCount();
  }

  setRoomName(name) {
    const text = `Message ${name}`;
    this.input.placeholder = text;
    this.label.textContent = text;
  }

  setDisabled(disabled, placeholder) {
    this.input.disabled = disabled;
    this.send.disabled = disabled;
    if (placeholder) this.input.placeholder = placeholder;
  }

  focus() {
    this.input.focus();
  }

  /** Answer `message` (null: no longer a reply). */
  setReply(message) {
    this.replyTo = message ? { seq: message.seq, author: message.author, body: message.body, deleted: message.deleted } : null;
    this.replyBar.hidden = !message;
    const describedBy = [`${this.replyBar.id}-text`, `${this.input.id}-hint`, `${this.input.id}-count`];
    if (!message) {
      replace(this.replyBar);
      this.input.setAttribute('aria-describedby', describedBy.slice(1).join(' '));
      return;
    }
    const name = displayName(message.author);
    const cancel = h('button', { type: 'button', class: 'icon-button small', 'aria-label': 'Cancel the reply', title: 'Cancel (Esc)', onclick: () => this.cancelReply() }, icon('close', { size: 14 }));
    replace(
      this.replyBar,
      icon('reply', { size: 15 }),
      h(
        'p',
        { class: 'composer-reply-text', id: `${this.replyBar.id}-text` },
        h('span', { class: 'composer-reply-label' }, 'Replying to ', h('strong', { dir: 'auto' }, name)),
        h('span', { class: 'composer-reply-quote', dir: 'auto' }, message.deleted ? 'a deleted message' : oneLine(message.body)),
      ),
      cancel,
    );
    this.input.setAttribute('aria-describedby', describedBy.join(' '));
    this.input.focus();
  }

  cancelReply() {
    if (!this.replyTo) return;
    this.setReply(null);
    this.input.focus();
  }

  destroy() {
    this.picker.destroy();
  }

  #onKey(event) {
    if (this.picker.onKeyDown(event)) return;
    if (event.key === 'Escape' && this.replyTo) {
      event.preventDefault();
      event.stopPropagation();
      this.cancelReply();
      return;
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && !event.isComposing) {
      event.preventDefault();
      this.#submit();
    } else if (event.key === 'ArrowUp' && this.input.value === '' && this.onEditLast()) {
      event.preventDefault();
    }
  }

  #submit() {
    const body = this.input.value.trim();
    if (!body || codePoints(body) > MAX_BODY) return;
    this.onSend(body, this.replyTo?.seq ?? null);
    this.setReply(null);
    this.input.value = '';
    this.#grow();
    this.#updateCount();
    this.input.focus();
  }

  #grow() {
    this.input.style.height = 'auto';
    this.input.style.height = `${this.input.scrollHeight}px`;
  }

  #updateCount() {
    const length = codePoints(this.input.value.trim());
    const left = MAX_BODY - length;
    this.count.textContent = length >= WARN_AT ? (left >= 0 ? `${left} left` : `${-left} too many`) : '';
    this.count.classList.toggle('over', left < 0);
    this.send.disabled = this.input.disabled || length === 0 || left < 0;
  }
}
