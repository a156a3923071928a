// The JSON API of `runbook serve`, as the signed-in person (the HttpOnly session cookie). A change
// (POST, PUT, DELETE) also sends the session's CSRF token, which only a page of this origin can
// read (GET /api/session): a page of another site cannot forge one.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let csrf = "";
/** Called with no argument when a request finds the session gone (401). */
let onSignedOut = () => {};

export function whenSignedOut(f) {
  onSignedOut = f;
}

export async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = csrf;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(res.status, `the server answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const message = data?.error ?? `the server answered ${res.status}`;
    if (res.status === 401 && path !== "/api/session") onSignedOut();
    throw new ApiError(res.status, message);
  }
  return data;
}

/** The session: {name, role, csrf}, or null when not signed in. */
export async function session() {
  try {
    const s = await api("GET", "/api/session");
    csrf = s.csrf;
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function signIn(token) {
  const s = await api("POST", "/api/session", { token });
  csrf = s.csrf;
  return s;
}

export async function signOut() {
  await api("DELETE", "/api/session");
  csrf = "";
}

const ROLES = ["viewer", "operator", "admin"];
/** Whether `role` may do what `needed` may. */
export function allows(role, needed) {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
