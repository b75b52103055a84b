// The /v1/ API client: the bearer token lives in this tab's sessionStorage
// and goes with every request; every failure becomes an ApiError carrying
// the API's own error object (code, message, field, ...).

const TOKEN_KEY = "paravane.token";
let onUnauthorized = () => {};

export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (t) => sessionStorage.setItem(TOKEN_KEY, t);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

// Called with the ApiError of any 401: the token is wrong or was rotated.
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export class ApiError extends Error {
  constructor(status, err) {
    super(err.message || "HTTP " + status);
    this.status = status;
    this.code = err.code || "http_" + status;
    this.field = err.field;
    this.detail = err;
  }

  // What the user reads: the API's message, then its code and field.
  describe() {
    const where = this.field ? ", field " + this.field : "";
    return `${this.message} (${this.code}${where})`;
  }
}

// A non-2xx answer's error object; a proxy's HTML page gets a plain one.
async function errorOf(resp) {
  let body = null;
  try {
    body = await resp.json();
  } catch (e) {
    // not JSON: fall through
  }
  if (body && body.error && typeof body.error.message === "string") return body.error;
  return { code: "http_" + resp.status, message: `HTTP ${resp.status} ${resp.statusText}` };
}

// fetch() with the token; resolves to the Response (2xx only).
export async function request(method, path, opts = {}) {
  const headers = Object.assign({ Authorization: "Bearer " + (token() || "") }, opts.headers);
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: opts.body, signal: opts.signal,
                               cache: "no-store", credentials: "omit" });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, { code: "unreachable", message: "cannot reach the API: " + e.message });
  }
  if (resp.ok) return resp;
  const err = new ApiError(resp.status, await errorOf(resp));
  if (resp.status === 401) onUnauthorized(err);
  throw err;
}

// A JSON route: the parsed answer.
export async function call(method, path, json) {
  const opts = {};
  if (json !== undefined) {
    opts.body = JSON.stringify(json);
    opts.headers = { "Content-Type": "application/json" };
  }
  const resp = await request(method, path, opts);
  return resp.json();
}

// Path segments are names or ids; encode anyway.
export const seg = (s) => encodeURIComponent(String(s));
