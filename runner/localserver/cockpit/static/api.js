// Requests for the page's data. Every one carries the X-XC-Cockpit header (the
// server lets the page go without a key on loopback only when it is there) and,
// once the user gave it, the API key as `Authorization: bearer`: the key lives
// in this tab's sessionStorage, never in a URL. A request that gets no answer
// fails with an ApiError whose `unreachable` is true and whose message is in
// plain words, never the browser's "Failed to fetch".

const BASE = "/local/api/cockpit/";
const KEY = "xc-cockpit-api-key";
const TIMEOUT_MS = 40000;

export class ApiError extends Error {
  constructor(status, body, message) {
    super(message || (body && body.error) || `the server answered ${status}`);
    this.status = status;
    this.body = body || {};
    this.unreachable = status === 0;
  }
}

export function key() {
  return sessionStorage.getItem(KEY);
}

export function setKey(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

async function call(method, path, body) {
  const headers = { "X-XC-Cockpit": "1", Accept: "application/json" };
  const secret = key();
  if (secret) headers.Authorization = `bearer ${secret}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  let answer;
  try {
    answer = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      signal: abort.signal,
    });
  } catch {
    const why = abort.signal.aborted
      ? `the local server did not answer within ${TIMEOUT_MS / 1000} s`
      : "the local server cannot be reached (it is stopped, or the network is down)";
    throw new ApiError(0, null, why);
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = await answer.json();
  } catch {
    data = null;
  }
  if (!answer.ok) throw new ApiError(answer.status, data);
  return data;
}

export function get(path, query = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return call("GET", text ? `${path}?${text}` : path);
}

export function post(path, body) {
  return call("POST", path, body);
}
