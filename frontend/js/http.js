// One HTTP request to the API, and the error it can end in.

export class ApiError extends Error {
  /**
   * status: the HTTP status, or 0 when the server could not be reached.
   * detail: the server's `detail` string (or a summary of validation errors).
   * fields: for 422, {fieldName: message}.
   * retryAfter: seconds, from Retry-After, when the server sent one.
   */
  constructor({ status, detail, fields = {}, retryAfter = null }) {
    super(detail || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail || '';
    this.fields = fields;
    this.retryAfter = retryAfter;
  }

  get isNetwork() {
    return this.status === 0;
  }
}

export async function request(method, path, { json, form, token, signal } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = new URLSearchParams(form); // sent as application/x-www-form-urlencoded
  }
  if (token) headers.Authorization = `Bearer ${token}`;

  let response;
  try {
    response = await fetch(path, { method, headers, body, signal, cache: 'no-store', credentials: 'omit' });
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError({ status: 0, detail: 'The server could not be reached' });
  }
  if (response.status === 204) return null;
  const data = await readJson(response);
  if (response.ok) return data;
  throw errorFrom(response, data);
}

async function readJson(response) {
  const text = await response.text().catch(() => '');
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errorFrom(response, data) {
  const detail = data?.detail;
  let message = typeof detail === 'string' ? detail : '';
  const fields = {};
  if (Array.isArray(detail)) {
    // FastAPI validation errors: [{loc: ['body', 'username'], msg: '...'}, ...]
    for (const item of detail) {
      const loc = Array.isArray(item?.loc) ? item.loc : [];
      const field = [...loc].reverse().find((part) => typeof part === 'string' && !['body', 'query', 'path'].includes(part));
      const msg = cleanValidationMessage(String(item?.msg ?? 'is invalid'));
      if (field && !(field in fields)) fields[field] = msg;
      else if (!field) message = message || msg;
    }
    message = message || Object.entries(fields).map(([f, m]) => `${f}: ${m}`).join('; ');
  }
  return new ApiError({
    status: response.status,
    detail: message || response.statusText,
    fields,
    retryAfter: parseRetryAfter(response.headers.get('Retry-After')),
  });
}

function cleanValidationMessage(msg) {
  return msg.replace(/^Value error, /, '');
}

function parseRetryAfter(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
