// The backend's read API (and the use intake). Every failure becomes an ApiError whose message a person can read.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

export const BASE = "/api/v1"; // the API under this site (images link to it directly)

/** `body` goes as JSON; `upload` (a File or FormData: images) goes as it is, a File with its own content type. */
export async function api(path, { method = "GET", body, query, upload } = {}) {
  let url = path.startsWith("/") && !path.startsWith(BASE) && !path.startsWith("/health") ? BASE + path : path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === "") continue;
      params.set(key, String(value));
    }
    const text = params.toString();
    if (text) url += (url.includes("?") ? "&" : "?") + text;
  }
  let response;
  try {
    const headers = { Accept: "application/json" };
    if (body) headers["Content-Type"] = "application/json";
    else if (upload instanceof Blob) headers["Content-Type"] = upload.type || "application/octet-stream";
    response = await fetch(url, {
      method,
      headers,
      body: body ? JSON.stringify(body, (_, v) => (typeof v === "bigint" ? v.toString() : v)) : upload,
    });
  } catch {
    throw new ApiError(0, "The Twin Licence server cannot be reached. Check your connection and try again.");
  }
  let data = null;
  const text = await response.text();
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, messageOf(response.status, data), data);
  return data;
}

/** The human sentence in an error body: the API's `detail`, shown as it is (a list of field errors: their messages,
 * without the field paths, which are the developer's words), as a sentence: capital first, full stop last. */
export function messageOf(status, data) {
  const detail = data?.detail ?? data?.error ?? data?.message;
  if (typeof detail === "string" && detail.trim()) return sentence(detail);
  if (detail && typeof detail === "object" && !Array.isArray(detail)) {
    if (typeof detail.message === "string") return sentence(detail.message);
    if (typeof detail.reason === "string") return sentence(detail.reason);
  }
  if (Array.isArray(detail) && detail.length) {
    return detail.map((item) => sentence(String(item?.msg ?? "").replace(/^Value error, /, ""))).filter((m) => m !== ".").join(" ");
  }
  if (status === 404) return "Not found.";
  if (status === 413) return "The request is too large.";
  if (status === 429) return "Too many requests: wait a moment and try again.";
  if (status >= 500) return "The server had a problem. Try again in a moment.";
  return "The server refused the request. Reload the page and try again.";
}

export function sentence(text) {
  const trimmed = String(text).trim();
  if (!trimmed) return trimmed;
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

/** How long a page waits for the index to show a transaction it has just sent (it returns as soon as it does). A
 * busy machine indexes a block in seconds, not milliseconds: a shorter wait showed the old state after success. */
export const INDEX_WAIT_MS = 60000;

/** Polls `fn` until it returns a truthy value (or `timeoutMs` passes, then returns null). */
export async function poll(fn, { intervalMs = 400, timeoutMs = 30000, onTick } = {}) {
  const until = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    let value = null;
    try {
      value = await fn();
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
    }
    if (value) return value;
    if (Date.now() > until) return null;
    onTick?.(i);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
