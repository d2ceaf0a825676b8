// A person's small picture: their initials on a colour of their own.

import { h } from '../dom.js';
import { displayName, hueFor, initials } from '../format.js';

export function avatar(user, { size = 'md' } = {}) {
  const name = displayName(user);
  return h(
    'span',
    { class: `avatar avatar-${size}`, 'aria-hidden': 'true', style: { '--hue': String(hueFor(user?.id ?? name)) } },
    initials(name),
  );
}
