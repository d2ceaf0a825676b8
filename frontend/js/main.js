// Start the client: the app when a session is saved, the sign-in page otherwise.

import { api } from './api.js';
import { h, replace } from './dom.js';
import { Outbox } from './outbox.js';
import { session } from './session.js';
import { inviteCode, renderAuth } from './views/auth-view.js';
import { AppView } from './views/app-view.js';
import { toast } from './views/toasts.js';

const root = document.getElementById('app');
let app = null;
let leaveAuth = null;

const ENDED = {
  expired: 'Your session has ended. Please log in again.',
  disabled: 'This account has been deactivated. Ask an administrator to reactivate it.',
  elsewhere: 'You logged out in another tab.',
  everywhere: 'You logged out on every device.',
  logout: '',
};

/** An invite link (`/#invite=CODE`): the code, taken out of the address (it is a secret). */
function takeInvite() {
  if (!/^#invite=/.test(window.location.hash)) return '';
  const code = inviteCode(window.location.hash);
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return code;
}

function showAuth(notice = '', invite = '') {
  app?.stop();
  app = null;
  leaveAuth?.();
  leaveAuth = renderAuth(root, { onSignedIn: showApp, notice, invite });
}

function showApp() {
  leaveAuth?.();
  leaveAuth = null;
  app?.stop();
  app = new AppView(root, session.user);
  app.start();
}

window.addEventListener('hashchange', () => {
  // An invite link opened in a tab that is already here.
  if (!/^#invite=/.test(window.location.hash)) return;
  const invite = takeInvite();
  if (app) toast(`You're signed in as @${session.user?.username}: log out first to create another account with this invitation.`, { kind: 'info', timeout: 10_000 });
  else showAuth('', invite);
});

session.addEventListener('ended', (event) => {
  // Unsent messages wait for a session that merely expired (the same person logs in
  // again); logging out on purpose leaves nothing behind on a shared computer.
  if (app && event.detail.reason !== 'expired') new Outbox(app.me.id).clear();
  showAuth(ENDED[event.detail.reason] ?? '');
});

async function boot() {
  const invite = takeInvite();
  if (!session.restore()) {
    showAuth('', invite);
    return;
  }
  if (invite) toast(`You're signed in as @${session.user?.username ?? 'someone'}: log out first to create another account with this invitation.`, { kind: 'info', timeout: 10_000 });
  if (!session.user) {
    replace(root, h('p', { class: 'boot' }, 'Loading…'));
    try {
      session.setUser(await api.me());
    } catch (error) {
      if (error.name !== 'SessionEnded') showAuth("Can't reach the server. Check your connection and try again.");
      return;
    }
  }
  showApp();
}

boot();
