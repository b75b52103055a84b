// The console view: follows one domain's console through
// GET /v1/domains/{id}/console?offset=N&follow=1, reconnecting from the
// byte offset it reached whenever the server ends the stream, until the
// domain is gone (404).  Guest bytes only ever reach the page as text.

import { request, seg } from "./api.js";
import { readBody, sleep } from "./stream.js";
import { visible } from "./format.js";

const PANE_MAX = 256 * 1024;        // characters kept on screen
const RETRY_MS = 2000;              // after a failed request

export class ConsoleView {
  constructor(pane, status, title) {
    this.pane = pane;
    this.status = status;
    this.title = title;
    this.abort = null;
  }

  // Follow domain {id, name} from its first byte the ring still holds.
  follow(dom) {
    this.stop();
    this.pane.textContent = "";
    this.title.textContent = `${dom.name} (id ${dom.id})`;
    this.abort = new AbortController();
    this.run(dom, this.abort.signal).catch((e) => {
      if (e.name !== "AbortError") this.say("Console stopped: " + e.message);
    });
  }

  stop() {
    if (this.abort) this.abort.abort();
    this.abort = null;
  }

  clear() {
    this.stop();
    this.pane.textContent = "";
    this.title.textContent = "";
  }

  say(text) {
    this.status.textContent = text;
  }

  async run(dom, signal) {
    let offset = 0;
    const decoder = new TextDecoder("utf-8");
    while (!signal.aborted) {
      this.say(`Following ${dom.name} from byte ${offset}.`);
      const got = await this.once(dom, offset, decoder, signal);
      if (got === null) return;
      offset = got;
      await sleep(200, signal);       // the server ended the stream: ask again
    }
  }

  // One follow request; the offset reached, or null when the domain is gone.
  async once(dom, offset, decoder, signal) {
    let resp;
    try {
      resp = await request("GET", `/v1/domains/${seg(dom.id)}/console?offset=${offset}&follow=1`,
                           { signal });
    } catch (e) {
      if (e.name === "AbortError") throw e;
      if (e.status === 404) {
        this.say(`${dom.name} (id ${dom.id}) has ended; its output is above.`);
        return null;
      }
      this.say(`Console: ${e.describe ? e.describe() : e.message}; retrying.`);
      await sleep(RETRY_MS, signal);
      return offset;
    }
    let pos = Number(resp.headers.get("Paravane-Console-Offset") ?? offset);
    const lost = Number(resp.headers.get("Paravane-Console-Lost") ?? 0);
    if (lost > 0) this.append(`\n[${lost} bytes lost: the console ring overwrote them]\n`);
    this.say(`Following ${dom.name} (id ${dom.id}): live.`);
    try {
      await readBody(resp, (chunk) => {
        pos += chunk.length;
        this.append(visible(decoder.decode(chunk, { stream: true })));
      });
    } catch (e) {
      if (e.name === "AbortError") throw e;   // otherwise: reconnect from pos
    }
    return pos;
  }

  // Adds text, keeping the view at the bottom if it was there.
  append(text) {
    if (!text) return;
    const pane = this.pane;
    const atEnd = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 4;
    pane.append(text);
    if (pane.textContent.length > PANE_MAX) {
      pane.textContent = pane.textContent.slice(-PANE_MAX / 2);
    }
    if (atEnd) pane.scrollTop = pane.scrollHeight;
  }
}
