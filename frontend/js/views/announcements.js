// Announcements from a site admin (SPEC: the `announcement` frame): a banner above the
// room that stays until the person dismisses it, newest first, a few at most. They are
// not stored by the server: a page opened later never sees them.

import { h, replace } from '../dom.js';
import { displayName, formatFull, formatTime, parseTime } from '../format.js';
import { icon } from '../icons.js';

const KEEP = 3;

export class Announcements {
  /** `say(text)`: tell screen readers (the app's polite live region). */
  constructor({ say }) {
    this.say = say;
    this.items = []; // {key, body, from, at}
    this.count = 0;
    this.el = h('section', { class: 'announcements', id: 'announcements', 'aria-label': 'Announcements', hidden: true });
  }

  /** An `announcement` frame. */
  add(frame) {
    this.count += 1;
    const at = parseTime(frame.created_at ?? new Date());
    const item = { key: `a${this.count}`, body: String(frame.body ?? ''), from: frame.from ?? null, at: Number.isNaN(at.getTime()) ? new Date() : at };
    this.items = [item, ...this.items].slice(0, KEEP);
    this.#render();
    this.say(`Announcement${item.from ? ` from ${displayName(item.from)}` : ''}: ${item.body}`);
  }

  #dismiss(key) {
    const index = this.items.findIndex((item) => item.key === key);
    this.items = this.items.filter((item) => item.key !== key);
    this.#render();
    // The keyboard goes to the next one, or back to what the page was doing.
    const next = this.el.querySelectorAll('.announcement-dismiss')[Math.min(index, this.items.length - 1)];
    if (next) next.focus();
    else document.getElementById('composer')?.querySelector('textarea')?.focus();
  }

  #render() {
    this.el.hidden = this.items.length === 0;
    replace(
      this.el,
      this.items.map((item) => {
        const from = item.from ? displayName(item.from) : 'An administrator';
        const headingId = `${item.key}-title`;
        return h(
          'article',
          { class: 'announcement', 'aria-labelledby': headingId, dataset: { key: item.key } },
          h('span', { class: 'announcement-icon', 'aria-hidden': 'true' }, icon('megaphone', { size: 18 })),
          h(
            'div',
            { class: 'announcement-text' },
            h(
              'h2',
              { class: 'announcement-title', id: headingId },
              'Announcement from ',
              h('span', { dir: 'auto' }, from),
              h('time', { class: 'announcement-time', datetime: item.at.toISOString(), title: formatFull(item.at) }, formatTime(item.at)),
            ),
            h('p', { class: 'announcement-body', dir: 'auto' }, item.body),
          ),
          h(
            'button',
            { type: 'button', class: 'icon-button small announcement-dismiss', 'aria-label': `Dismiss the announcement from ${from}`, title: 'Dismiss', onclick: () => this.#dismiss(item.key) },
            icon('close', { size: 15 }),
          ),
        );
      }),
    );
  }
}
