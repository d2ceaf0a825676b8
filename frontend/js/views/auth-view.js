// The sign-in page: log in or create an account, with a clear message for every refusal.
// Who may sign up is the server's setting (GET /api/auth/config): anyone, people with an
// invite code (a link `/#invite=CODE` fills it in), or nobody (an administrator makes
// the accounts).

import { h, replace, uniqueId } from '../dom.js';
import { USERNAME, USERNAME_RULE, describeError, describeField } from '../errors.js';
import { formatClock } from '../format.js';
import { request } from '../http.js';
import { icon } from '../icons.js';
import { session } from '../session.js';

const INVITE_IN_LINK = /[#&?]invite=([^&#\s]+)/;

/** The code in an invite link (`…/#invite=CODE`), or what was typed, as it is. */
export function inviteCode(text) {
  const trimmed = String(text ?? '').trim();
  const match = INVITE_IN_LINK.exec(trimmed);
  if (!match) return trimmed;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

function field({ label, name, type = 'text', autocomplete, hint, required = true, maxlength, hidden = false }) {
  const id = uniqueId(`f-${name}`);
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', {
    id,
    name,
    type,
    autocomplete,
    maxlength,
    required,
    spellcheck: 'false',
    autocapitalize: 'off',
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
  });
  const error = h('p', { class: 'field-error', id: errorId });
  const wrap = h(
    'div',
    { class: 'field', hidden },
    h('label', { for: id }, label, required ? null : h('span', { class: 'optional' }, ' (optional)')),
    input,
    hint ? h('p', { class: 'field-hint', id: hintId }, hint) : null,
    error,
  );
  return { wrap, input, error, name };
}

function setFieldError(f, message) {
  f.error.textContent = message || '';
  if (message) f.input.setAttribute('aria-invalid', 'true');
  else f.input.removeAttribute('aria-invalid');
}

/** `invite`: a code from an invite link, filled in (and the sign-up form shown). */
export function renderAuth(root, { onSignedIn, notice = '', invite = '' }) {
  let throttleTimer = null;
  // Until the server says otherwise: the open form, with the invite field if a link gave one.
  let mode = invite ? 'invite' : 'open';

  const loginFields = {
    username: field({ label: 'Username', name: 'username', autocomplete: 'username', maxlength: 64 }),
    password: field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password' }),
  };
  const signupFields = {
    invite: field({
      label: 'Invite code',
      name: 'invite',
      autocomplete: 'off',
      hint: 'Signing up here needs an invitation: paste its code or link.',
      maxlength: 512,
      hidden: true,
    }),
    username: field({
      label: 'Username',
      name: 'username',
      autocomplete: 'username',
      hint: '3–32 letters, digits, dots, dashes or underscores.',
      maxlength: 32,
    }),
    display_name: field({
      label: 'Display name',
      name: 'display_name',
      autocomplete: 'name',
      required: false,
      hint: 'How people see you. You can use spaces.',
      maxlength: 64,
    }),
    password: field({
      label: 'Password',
      name: 'password',
      type: 'password',
      autocomplete: 'new-password',
      hint: 'At least 8 characters.',
      maxlength: 128,
    }),
  };
  signupFields.invite.input.value = invite;

  const loginError = h('p', { class: 'form-error', role: 'alert', 'aria-live': 'assertive' });
  const signupError = h('p', { class: 'form-error', role: 'alert', 'aria-live': 'assertive' });
  const loginButton = h('button', { class: 'button primary wide', type: 'submit' }, 'Log in');
  const signupButton = h('button', { class: 'button primary wide', type: 'submit' }, 'Create account');

  const loginForm = h(
    'form',
    { class: 'auth-form', novalidate: true, 'aria-label': 'Log in', id: 'login-panel', role: 'tabpanel' },
    Object.values(loginFields).map((f) => f.wrap),
    loginError,
    loginButton,
  );
  const signupBody = h('div', { class: 'signup-body' }, Object.values(signupFields).map((f) => f.wrap), signupError, signupButton);
  const closedNote = h(
    'div',
    { class: 'auth-closed', id: 'signup-closed', hidden: true },
    h('span', { class: 'auth-closed-icon', 'aria-hidden': 'true' }, icon('lock', { size: 18 })),
    h(
      'div',
      {},
      h('p', { class: 'auth-closed-title' }, 'Sign-up is closed on this server'),
      h('p', {}, 'Ask an administrator to create an account for you, then log in.'),
    ),
  );
  const signupForm = h(
    'form',
    { class: 'auth-form', novalidate: true, 'aria-label': 'Create account', id: 'signup-panel', role: 'tabpanel', hidden: true },
    closedNote,
    signupBody,
  );

  /** Show the form the server's signup setting asks for. */
  function applyMode(next) {
    mode = next;
    closedNote.hidden = mode !== 'closed';
    signupBody.hidden = mode === 'closed';
    signupFields.invite.wrap.hidden = mode !== 'invite';
    signupFields.invite.input.required = mode === 'invite';
  }
  applyMode(mode);

  const loginTab = h('button', { type: 'button', role: 'tab', id: 'login-tab', 'aria-controls': 'login-panel' }, 'Log in');
  const signupTab = h('button', { type: 'button', role: 'tab', id: 'signup-tab', 'aria-controls': 'signup-panel' }, 'Create account');
  loginForm.setAttribute('aria-labelledby', 'login-tab');
  signupForm.setAttribute('aria-labelledby', 'signup-tab');

  const title = h('h1', { class: 'auth-title' }, 'Welcome back');

  function select(which, { focus = true } = {}) {
    const login = which === 'login';
    title.textContent = login ? 'Welcome back' : 'Create your account';
    loginTab.setAttribute('aria-selected', String(login));
    signupTab.setAttribute('aria-selected', String(!login));
    loginTab.tabIndex = login ? 0 : -1;
    signupTab.tabIndex = login ? -1 : 0;
    loginForm.hidden = !login;
    signupForm.hidden = login;
    if (focus) (login ? loginFields.username : signupFields.username).input.focus();
  }
  loginTab.addEventListener('click', () => select('login'));
  signupTab.addEventListener('click', () => select('signup'));
  for (const tab of [loginTab, signupTab]) {
    tab.addEventListener('keydown', (event) => {
      if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) {
        event.preventDefault();
        const next = tab === loginTab ? signupTab : loginTab;
        const target = event.key === 'Home' ? loginTab : event.key === 'End' ? signupTab : next;
        select(target === loginTab ? 'login' : 'signup', { focus: false });
        target.focus();
      }
    });
  }

  function busy(button, on, label) {
    button.disabled = on;
    button.setAttribute('aria-busy', String(on));
    button.textContent = label;
  }

  function showThrottle(seconds) {
    clearInterval(throttleTimer);
    const until = Date.now() + seconds * 1000;
    const username = loginFields.username.input.value;
    const tick = () => {
      const left = (until - Date.now()) / 1000;
      if (left <= 0 || loginFields.username.input.value !== username) {
        clearInterval(throttleTimer);
        throttleTimer = null;
        loginError.textContent = '';
        loginButton.disabled = false;
        return;
      }
      loginButton.disabled = true;
      loginError.textContent = `Too many failed attempts for this username. Try again in ${formatClock(left)}.`;
    };
    tick();
    throttleTimer = setInterval(tick, 1000);
  }
  // The wait is per username: another username may try at once.
  loginFields.username.input.addEventListener('input', () => {
    if (throttleTimer) {
      clearInterval(throttleTimer);
      throttleTimer = null;
      loginError.textContent = '';
      loginButton.disabled = false;
    }
  });

  loginForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = loginFields.username.input.value.trim();
    const password = loginFields.password.input.value;
    setFieldError(loginFields.username, username ? '' : 'Enter your username.');
    setFieldError(loginFields.password, password ? '' : 'Enter your password.');
    loginError.textContent = '';
    if (!username || !password) {
      (username ? loginFields.password : loginFields.username).input.focus();
      return;
    }
    busy(loginButton, true, 'Logging in…');
    try {
      await session.login(username, password);
      clearInterval(throttleTimer);
      onSignedIn();
    } catch (error) {
      busy(loginButton, false, 'Log in');
      if (error.status === 429 && error.retryAfter) {
        showThrottle(error.retryAfter);
      } else {
        loginError.textContent = describeError(error, 'login');
      }
      if (error.status === 401) {
        loginFields.password.input.select();
        loginFields.password.input.focus();
      }
    }
  });

  signupForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (mode === 'closed') return;
    const values = {
      username: signupFields.username.input.value.trim(),
      display_name: signupFields.display_name.input.value.trim(),
      password: signupFields.password.input.value,
      invite: mode === 'invite' ? inviteCode(signupFields.invite.input.value) : '',
    };
    const problems = {
      invite: mode === 'invite' && !values.invite ? 'Paste the invite code (or link) you were given.' : '',
      username: !values.username
        ? 'Choose a username.'
        : USERNAME.test(values.username)
          ? ''
          : USERNAME_RULE,
      display_name: '',
      password: values.password.length < 8
        ? 'Use at least 8 characters.'
        : values.password.length > 128
          ? 'Use at most 128 characters.'
          : '',
    };
    for (const [name, message] of Object.entries(problems)) setFieldError(signupFields[name], message);
    signupError.textContent = '';
    const firstProblem = Object.keys(problems).find((name) => problems[name]);
    if (firstProblem) {
      signupFields[firstProblem].input.focus();
      return;
    }
    busy(signupButton, true, 'Creating account…');
    try {
      await session.signup({ username: values.username, password: values.password, displayName: values.display_name, invite: values.invite });
      onSignedIn();
    } catch (error) {
      busy(signupButton, false, 'Create account');
      if (error.status === 403 && /closed/i.test(error.detail)) {
        applyMode('closed'); // the setting changed since this page loaded
      } else if (error.status === 403) {
        applyMode('invite');
        setFieldError(signupFields.invite, describeError(error, 'invite-code'));
        signupFields.invite.input.focus();
      } else if (error.status === 422 && Object.keys(error.fields).length) {
        for (const [name, message] of Object.entries(error.fields)) {
          if (signupFields[name]) setFieldError(signupFields[name], describeField(name, message));
        }
        signupError.textContent = 'Please fix the highlighted fields.';
      } else if (error.status === 409) {
        setFieldError(signupFields.username, describeError(error, 'signup'));
        signupFields.username.input.focus();
      } else {
        signupError.textContent = describeError(error, 'signup');
      }
    }
  });

  const card = h(
    'main',
    { class: 'auth', id: 'main' },
    h(
      'div',
      { class: 'auth-card' },
      h('div', { class: 'auth-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, icon('chat', { size: 20 })), h('span', {}, 'Hubbub')),
      title,
      h('p', { class: 'auth-tagline' }, 'Rooms, people and conversations — on your own server.'),
      notice ? h('p', { class: 'auth-notice', role: 'status' }, notice) : null,
      h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Log in or create an account' }, loginTab, signupTab),
      loginForm,
      signupForm,
    ),
  );
  replace(root, card);
  document.title = 'Hubbub — log in';
  select(invite ? 'signup' : 'login');
  request('GET', '/api/auth/config').then(
    (config) => {
      if (['open', 'invite', 'closed'].includes(config?.signup)) applyMode(config.signup);
    },
    () => {}, // unreachable: the form as it is; the server says no when it must
  );
  return () => clearInterval(throttleTimer);
}
