// The console speaks only the public HTTP API. Credentials: the HttpOnly session cookie, which the page can neither
// read nor store; changes carry the session's CSRF token, held in memory only (a reload asks GET /api/session).

let csrf = null;

/** An API answer other than 2xx, with the server's own message. */
export class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function setCsrf(token) {
  csrf = token;
}

/** The session's CSRF token, for requests that do not go through send() (an upload with progress). */
export function csrfToken() {
  return csrf;
}

/** Sends a request; returns the Response (any status). */
export function send(method, path, body, signal) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  return fetch(path, {
    method, headers, signal, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Sends a request and parses its JSON; throws ApiFailure on a non-2xx answer. */
export async function call(method, path, body) {
  const res = await send(method, path, body);
  return { data: await parse(res), res };
}

export async function get(path) {
  return (await call('GET', path)).data;
}

export async function parse(res) {
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    const err = data && data.error;
    const message = typeof err === 'string' ? err : (err && err.message) || text || res.statusText;
    throw new ApiFailure(res.status, message);
  }
  return data;
}
