// The event log: GET /v1/events read as Server-Sent Events through fetch(),
// newest record at the top, at most LOG_MAX lines.  After the stream ends
// or fails it resumes with Last-Event-ID, so no record shows twice.

import { request } from "./api.js";
import { readBody, SseParser, sleep } from "./stream.js";
import { visible } from "./format.js";

const LOG_MAX = 300;

export class EventLog {
  // onRecord(name, fields) is told of every record, for live refreshes.
  constructor(list, status, onRecord) {
    this.list = list;
    this.status = status;
    this.onRecord = onRecord;
    this.abort = null;
  }

  start() {
    this.stop();
    this.abort = new AbortController();
    this.run(this.abort.signal).catch((e) => {
      if (e.name !== "AbortError") this.status.textContent = "Events stopped: " + e.message;
    });
  }

  stop() {
    if (this.abort) this.abort.abort();
    this.abort = null;
  }

  clear() {
    this.stop();
    this.list.textContent = "";
    this.status.textContent = "";
  }

  async run(signal) {
    let lastId = null;
    const parser = new SseParser();
    while (!signal.aborted) {
      lastId = await this.once(lastId, parser, signal);
      await sleep(parser.retryMs, signal);
    }
  }

  // One stream; returns the last event id seen.
  async once(lastId, parser, signal) {
    const headers = lastId === null ? {} : { "Last-Event-ID": lastId };
    parser.reset();
    let resp;
    try {
      resp = await request("GET", "/v1/events", { headers, signal });
    } catch (e) {
      if (e.name === "AbortError") throw e;
      this.status.textContent = `Events: ${e.describe ? e.describe() : e.message}; retrying.`;
      return lastId;
    }
    this.status.textContent = "Live.";
    const decoder = new TextDecoder("utf-8");
    try {
      await readBody(resp, (chunk) => {
        for (const ev of parser.push(decoder.decode(chunk, { stream: true }))) {
          lastId = ev.id ?? lastId;
          this.show(ev);
        }
      });
    } catch (e) {
      if (e.name === "AbortError") throw e;
    }
    this.status.textContent = "Reconnecting.";
    return lastId;
  }

  show(ev) {
    const li = document.createElement("li");
    const time = document.createElement("time");
    const now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = now.toLocaleTimeString();
    const text = document.createElement("span");
    text.className = "record";
    text.textContent = visible(ev.data);
    li.append(time, " ", text);
    this.list.prepend(li);
    while (this.list.children.length > LOG_MAX) this.list.lastElementChild.remove();
    this.onRecord(...parse(ev.data));
  }
}

// "domain-started id=7 name=hello cpu=1" -> ["domain-started", {id: "7", ...}]
export function parse(record) {
  const [name, ...pairs] = record.split(" ");
  const fields = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq > 0) fields[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return [name, fields];
}
