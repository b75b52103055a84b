// Streamed answers read with fetch() and a ReadableStream reader (an
// EventSource cannot send the Authorization header): the console follow
// stream as bytes, the event stream as Server-Sent Events.

// Hands each chunk of the body (a Uint8Array) to onBytes until the server
// ends the response; rejects with AbortError when the signal fires.
export async function readBody(resp, onBytes) {
  const reader = resp.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      onBytes(value);
    }
  } finally {
    reader.releaseLock();
  }
}

// Server-Sent Events, incrementally: push() decoded text, get back the
// complete events ({id, data}); "retry:" sets retryMs, comments are dropped.
export class SseParser {
  constructor() {
    this.buf = "";
    this.data = [];
    this.id = null;
    this.retryMs = 3000;
  }

  // A new response: a record the last one cut off is not completed by it.
  reset() {
    this.buf = "";
    this.data = [];
  }

  push(text) {
    this.buf += text;
    const lines = this.buf.split(/\r\n|\r|\n/);
    this.buf = lines.pop();          // an unfinished line waits for more
    const events = [];
    for (const line of lines) {
      const ev = this.line(line);
      if (ev) events.push(ev);
    }
    return events;
  }

  line(line) {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
    return null;
  }

  dispatch() {
    if (this.data.length === 0) return null;
    const ev = { id: this.id, data: this.data.join("\n") };
    this.data = [];
    return ev;
  }
}

// Resolves after ms, or at once when the signal fires.
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    if (signal) signal.addEventListener("abort", () => { clearTimeout(t); resolve(); },
                                        { once: true });
  });
}
