// Short messages in a corner for things that happened away from any form.

import { h } from '../dom.js';
import { icon } from '../icons.js';

let region = null;

function ensureRegion() {
  if (!region || !region.isConnected) {
    region = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  return region;
}

export function toast(message, { kind = 'error', timeout = 7000 } = {}) {
  const close = h('button', { type: 'button', class: 'icon-button small', 'aria-label': 'Dismiss' }, icon('close', { size: 14 }));
  const el = h('div', { class: `toast toast-${kind}` }, h('span', { class: 'toast-text' }, message), close);
  const dismiss = () => el.remove();
  close.addEventListener('click', dismiss);
  ensureRegion().append(el);
  if (timeout) setTimeout(dismiss, timeout);
  return dismiss;
}
