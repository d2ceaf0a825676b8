// Choosing a reaction: the common emoji as buttons (the ones I have already are
// pressed: choosing one takes it back), and a field for any other emoji or short word,
// checked as the server checks it.

import { h, uniqueId } from '../dom.js';
import { displayName } from '../format.js';
import { icon } from '../icons.js';
import { emojiProblem } from '../words.js';
import { openDialog } from './dialogs.js';

const COMMON_EMOJI = [
  ['👍', 'thumbs up'],
  ['❤️', 'heart'],
  ['😂', 'tears of joy'],
  ['🎉', 'party popper'],
  ['😮', 'surprised'],
  ['😢', 'sad'],
  ['🙏', 'thank you'],
  ['👀', 'eyes'],
  ['🚀', 'rocket'],
  ['✅', 'done'],
  ['🔥', 'fire'],
  ['👏', 'clapping'],
];

/**
 * `message`: the one reacted to; `mine(emoji)`: whether I reacted with it already;
 * `onPick(emoji)`: chosen (the dialog is closed by then). Returns the dialog.
 */
export function reactionPicker({ message, mine, onPick }) {
  const titleId = uniqueId('dialog-title');
  const fieldId = uniqueId('reaction-field');
  const input = h('input', { id: fieldId, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', placeholder: 'e.g. 🦄 or +1', 'aria-describedby': `${fieldId}-error` });
  const error = h('p', { class: 'field-error', id: `${fieldId}-error`, role: 'alert' });
  const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', title: 'Close' }, icon('close'));
  let chosen = null;
  const grid = h(
    'div',
    { class: 'emoji-grid', role: 'group', 'aria-label': 'Common reactions' },
    COMMON_EMOJI.map(([emoji, name]) => {
      const pressed = mine(emoji);
      return h(
        'button',
        {
          type: 'button',
          class: `emoji-choice${pressed ? ' mine' : ''}`,
          'aria-label': pressed ? `${name} (yours: choose to take it back)` : name,
          'aria-pressed': String(pressed),
          title: name,
          dataset: { emoji },
          onclick: () => pick(emoji),
        },
        emoji,
      );
    }),
  );
  const form = h(
    'form',
    { class: 'reaction-form', novalidate: true },
    h('label', { for: fieldId }, 'Another emoji or a short word'),
    h('div', { class: 'reaction-form-row' }, input, h('button', { type: 'submit', class: 'button primary' }, 'React')),
    error,
  );
  const dialog = h(
    'dialog',
    { class: 'dialog reaction-dialog', 'aria-labelledby': titleId },
    h(
      'div',
      { class: 'dialog-head plain' },
      h('div', {}, h('h2', { class: 'dialog-title', id: titleId }, 'Add a reaction'), h('p', { class: 'dialog-subtitle', dir: 'auto' }, `To ${displayName(message.author)}'s message`)),
      close,
    ),
    grid,
    form,
  );

  function pick(emoji) {
    chosen = emoji;
    dialog.close();
  }

  close.addEventListener('click', () => dialog.close());
  input.addEventListener('input', () => {
    error.textContent = '';
    input.removeAttribute('aria-invalid');
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const emoji = input.value.trim();
    const problem = emojiProblem(emoji);
    if (problem) {
      error.textContent = problem;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    pick(emoji);
  });
  // Arrow keys move between the emoji, as in a toolbar.
  grid.addEventListener('keydown', (event) => {
    const buttons = [...grid.querySelectorAll('button')];
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    const columns = 6;
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
    if (!(event.key in moves)) return;
    event.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, index + moves[event.key]))].focus();
  });
  dialog.addEventListener('close', () => {
    if (chosen !== null) onPick(chosen);
  });
  openDialog(dialog);
  grid.querySelector('button').focus();
  return dialog;
}
