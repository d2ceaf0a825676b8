// The right column: who is in the room and who is online now (unknown while this page
// is not connected), bots marked; a direct message to anyone listed starts here; owners
// and room admins invite by username, change roles, remove and ban people here.

import { h, replace, srOnly, uniqueId } from '../dom.js';
import { describeError } from '../errors.js';
import { displayName, ROLE_LABELS } from '../format.js';
import { icon } from '../icons.js';
import { confirmDialog } from './dialogs.js';
import { avatar } from './avatar.js';
import { toast } from './toasts.js';

const ROLE_ORDER = { owner: 0, admin: 1, member: 2 };

export class MembersPanel {
  /** onDirect(user): open (or start) the direct conversation with that person. */
  constructor({ onClose, onDirect }) {
    this.room = null;
    this.onDirect = onDirect;
    this.count = h('span', { class: 'count' });
    this.body = h('div', { class: 'members-body' });
    this.el = h(
      'aside',
      { class: 'members', id: 'members', 'aria-labelledby': 'members-title' },
      h(
        'div',
        { class: 'members-head' },
        h('h2', { id: 'members-title' }, 'Members ', this.count),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close members', title: 'Close', onclick: onClose }, icon('close')),
      ),
      this.body,
    );
    this.inviteForm = this.#buildInvite();
  }

  setRoom(room) {
    this.room = room;
    this.render();
  }

  render() {
    const room = this.room;
    if (!room || room.access !== 'member') {
      this.count.textContent = '';
      replace(this.body, room?.access === 'not-member' ? h('p', { class: 'muted pad' }, 'Join the room to see who is here.') : null);
      return;
    }
    if (!room.membersLoaded) {
      replace(this.body, h('p', { class: 'muted pad' }, 'Loading members…'));
      return;
    }
    const members = [...room.members].sort(
      (a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || displayName(a.user).localeCompare(displayName(b.user)),
    );
    const focused = this.body.contains(document.activeElement)
      ? document.activeElement.closest('[data-user-id]')?.dataset.userId
      : null;
    this.count.textContent = String(members.length);
    let sections;
    if (room.presenceKnown) {
      const online = members.filter((m) => room.online.has(m.user.id));
      const offline = members.filter((m) => !room.online.has(m.user.id));
      this.count.setAttribute('aria-label', `${members.length} members, ${online.length} online`);
      sections = [
        this.#section(`Online — ${online.length}`, online, true),
        offline.length ? this.#section(`Offline — ${offline.length}`, offline, false) : null,
      ];
    } else {
      // Disconnected, this page cannot know who is here: showing the last list as
      // "online" would be a guess presented as a fact.
      this.count.setAttribute('aria-label', `${members.length} members`);
      sections = [
        h('p', { class: 'presence-unknown-note', id: 'presence-unknown' }, icon('retry', { size: 14 }), "Who's online shows again once you're reconnected."),
        this.#section(`Members — ${members.length}`, members, null),
      ];
    }
    replace(
      this.body,
      room.canModerate ? this.inviteForm.el : null,
      sections,
      room.canLeave
        ? h(
            'div',
            { class: 'members-foot' },
            h('button', { type: 'button', class: 'button subtle danger-text', id: 'leave-room', onclick: () => this.#leave() }, icon('door', { size: 16 }), 'Leave room'),
          )
        : null,
    );
    if (focused) this.body.querySelector(`[data-user-id="${CSS.escape(focused)}"] :is(summary, .member-direct)`)?.focus();
  }

  #section(title, members, online) {
    const id = uniqueId('members-section');
    return h(
      'section',
      { class: 'member-section', 'aria-labelledby': id },
      h('h3', { class: 'section-label', id }, title),
      h('ul', { class: 'member-list' }, members.map((m) => this.#member(m, online))),
    );
  }

  /** online: true, false, or null when it is not known. */
  #member(member, online) {
    const room = this.room;
    const me = member.user.id === room.me.id;
    const canManage = room.canModerate && !me && (room.role === 'owner' || member.role !== 'owner');
    const presence = online === null ? ' presence-unknown' : online ? ' online' : '';
    const name = displayName(member.user);
    const direct = me || room.isDirect
      ? null
      : h(
          'button',
          {
            type: 'button',
            class: 'icon-button small member-direct',
            'aria-label': `Send ${name} a direct message`,
            title: `Direct message with ${name}`,
            onclick: () => this.onDirect?.(member.user),
          },
          icon('chat', { size: 15 }),
        );
    return h(
      'li',
      { class: `member${presence}`, dataset: { userId: String(member.user.id), username: member.user.username } },
      h('span', { class: 'member-avatar' }, avatar(member.user, { size: 'sm' }), h('span', { class: 'presence-dot', 'aria-hidden': 'true' })),
      h(
        'span',
        { class: 'member-text' },
        h(
          'span',
          { class: 'member-name' },
          h('span', { dir: 'auto' }, name),
          me ? h('span', { class: 'muted' }, ' (you)') : null,
          member.user.is_bot ? h('span', { class: 'bot-badge', title: 'A program, not a person' }, 'bot') : null,
        ),
        h(
          'span',
          { class: 'member-handle' },
          `@${member.user.username}`,
          member.role !== 'member' ? h('span', { class: `role-badge role-${member.role}` }, ROLE_LABELS[member.role]) : null,
        ),
        online === null ? null : srOnly(online ? ', online' : ', offline'),
      ),
      direct,
      canManage ? this.#manage(member) : null,
    );
  }

  #manage(member) {
    const room = this.room;
    const name = displayName(member.user);
    const roles = room.role === 'owner' ? ['member', 'admin', 'owner'] : ['member', 'admin'];
    const selectId = uniqueId('role');
    const select = h(
      'select',
      { id: selectId },
      roles.map((role) => h('option', { value: role, selected: role === member.role }, ROLE_LABELS[role])),
    );
    const status = h('p', { class: 'field-error', role: 'alert' });
    select.addEventListener('change', async () => {
      status.textContent = '';
      select.disabled = true;
      try {
        await room.setRole(member.user.id, select.value);
        toast(`${name} is now ${select.value === 'member' ? 'a member' : `an ${select.value}`}.`, { kind: 'info', timeout: 3000 });
      } catch (error) {
        select.value = member.role;
        status.textContent = describeError(error, 'role');
      } finally {
        select.disabled = false;
      }
    });
    const kick = h(
      'button',
      {
        type: 'button',
        class: 'button small',
        onclick: async () => {
          const ok = await confirmDialog({
            title: `Remove ${name}?`,
            message: room.room.is_private
              ? `${name} will lose access to this private room until invited again.`
              : `${name} will be removed from this room. They can join again.`,
            confirmLabel: 'Remove',
            danger: true,
          });
          if (!ok) return;
          try {
            await room.removeMember(member.user.id);
          } catch (error) {
            status.textContent = describeError(error, 'kick');
          }
        },
      },
      'Remove from room',
    );
    const roomLabel = `${room.room.is_private ? '' : '#'}${room.room.name ?? 'this room'}`;
    const ban = h(
      'button',
      {
        type: 'button',
        class: 'button small danger',
        onclick: async () => {
          const ok = await confirmDialog({
            title: `Ban ${name}?`,
            message: `${name} will be removed from ${roomLabel} and can't join or be invited again until the ban is lifted in the room's settings.`,
            confirmLabel: 'Ban',
            danger: true,
          });
          if (!ok) return;
          try {
            await room.ban(member.user.id);
            toast(`${name} is banned from ${roomLabel}.`, { kind: 'info', timeout: 4000 });
          } catch (error) {
            status.textContent = describeError(error, 'ban');
          }
        },
      },
      'Ban from room',
    );
    return h(
      'details',
      { class: 'member-manage' },
      h('summary', { 'aria-label': `Manage ${name}`, title: `Manage ${name}` }, icon('more', { size: 16 })),
      h(
        'div',
        { class: 'manage-menu' },
        h('label', { for: selectId }, 'Role'),
        select,
        kick,
        ban,
        status,
      ),
    );
  }

  #buildInvite() {
    const inputId = uniqueId('invite');
    const roleId = uniqueId('invite-role');
    const input = h('input', { id: inputId, name: 'username', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', placeholder: 'username', maxlength: 32 });
    const role = h('select', { id: roleId, 'aria-label': 'Role for the invited person' }, h('option', { value: 'member' }, 'Member'), h('option', { value: 'admin' }, 'Admin'));
    const message = h('p', { class: 'form-message', role: 'status', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'button primary small' }, 'Invite');
    const el = h(
      'form',
      { class: 'invite', id: 'invite-form' },
      h('label', { for: inputId, class: 'section-label' }, icon('userPlus', { size: 14 }), ' Invite by username'),
      input,
      h('div', { class: 'invite-row' }, role, submit),
      message,
    );
    el.addEventListener('submit', async (event) => {
      event.preventDefault();
      const username = input.value.trim().replace(/^@/, '');
      message.className = 'form-message';
      if (!username) {
        message.textContent = 'Type the username of the person to invite.';
        message.classList.add('error');
        input.focus();
        return;
      }
      submit.disabled = true;
      try {
        await this.room.invite(username, role.value);
        message.textContent = `Invited @${username}.`;
        message.classList.add('ok');
        input.value = '';
      } catch (error) {
        message.textContent = describeError(error, 'invite');
        message.classList.add('error');
      } finally {
        submit.disabled = false;
        input.focus();
      }
    });
    return { el, input };
  }

  async #leave() {
    const room = this.room;
    const ok = await confirmDialog({
      title: `Leave ${room.room.name ?? 'this room'}?`,
      message: room.room.is_private ? "It's private: you'll need a new invitation to come back." : 'You can join again any time.',
      confirmLabel: 'Leave room',
      danger: true,
    });
    if (!ok) return;
    try {
      await room.leave();
    } catch (error) {
      toast(describeError(error, 'leave'));
    }
  }
}
