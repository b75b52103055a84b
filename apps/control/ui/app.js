// The Paravane dashboard: signs in with the API token, then keeps the host
// summary, domain and image tables fresh (polling, and at once on domain
// events), follows one console and the event stream.  Plain ES modules, no
// build step; every byte from the API is shown as text.

import * as api from "./api.js";
import { $, show } from "./dom.js";
import { ConsoleView } from "./console.js";
import { EventLog } from "./events.js";
import { DomainTable, ImageTable, renderHost } from "./tables.js";
import { preferImage, resetForms, setupForms } from "./forms.js";

const POLL_MS = 1500;
const IMAGES_EVERY = 4;             // image list on every 4th poll (and on demand)

// Runs fn now or soon, one at a time, and every period while started.
class Refresher {
  constructor(fn, period) {
    this.fn = fn;
    this.period = period;
    this.timer = null;
    this.running = false;
    this.again = false;
    this.on = false;
  }

  start() {
    this.on = true;
    this.now();
  }

  stop() {
    this.on = false;
    clearTimeout(this.timer);
  }

  async now() {
    if (!this.on) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = true;
    try {
      await this.fn();
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      return this.now();
    }
    if (this.on) this.timer = setTimeout(() => this.now(), this.period);
  }
}

const ui = {};
let ticks = 0;
let imagesWanted = true;

function setStatus(text) {
  if ($("status").textContent !== text) $("status").textContent = text;
}

function actionError(e) {
  show($("action-error"), e ? (e.describe ? e.describe() : e.message) : "");
}

async function refresh() {
  try {
    const [host, list] = await Promise.all([api.call("GET", "/v1/host"),
                                            api.call("GET", "/v1/domains")]);
    renderHost(host);
    ui.domains.controlId = host.control_id;
    ui.domains.render(list.domains);
    if (imagesWanted || ++ticks % IMAGES_EVERY === 0) await refreshImages();
    setStatus("Signed in: live");
  } catch (e) {
    if (e.status !== 401) setStatus("Connection problem: " + (e.describe ? e.describe() : e.message));
  }
}

async function refreshImages() {
  imagesWanted = false;
  ui.images.render((await api.call("GET", "/v1/images")).images);
}

// A domain action; the table shows its effect on the refresh right after.
async function act(method, path) {
  try {
    await api.call(method, path);
    actionError(null);
  } catch (e) {
    actionError(e);
  }
  imagesWanted = true;
  ui.refresher.now();
}

const domainActions = {
  console: (d) => ui.console.follow(d),
  pause: (d) => act("POST", `/v1/domains/${api.seg(d.id)}/pause`),
  resume: (d) => act("POST", `/v1/domains/${api.seg(d.id)}/resume`),
  destroy: (d) => act("DELETE", `/v1/domains/${api.seg(d.id)}`),
};

function onRecord(name) {
  if (name.startsWith("domain-") || name === "events-lost") {
    imagesWanted = true;            // image "users" follow the domains
    ui.refresher.now();
  }
}

// ---- signing in and out -------------------------------------------------------------

function enter() {
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  setStatus("Signed in");
  imagesWanted = true;
  ui.refresher.start();
  ui.events.start();
}

// Leaves nothing of the API's data on the page.
function leave(message, error) {
  ui.refresher.stop();
  ui.events.clear();
  ui.console.clear();
  ui.domains.clear();
  ui.images.clear();
  resetForms();
  actionError(null);
  $("app").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  setStatus(message);
  show($("login-error"), error || "");
  $("token").value = "";
  $("token").focus();
}

async function login(ev) {
  ev.preventDefault();
  const t = $("token").value.trim();
  show($("login-error"), "");
  api.setToken(t);
  try {
    await api.call("GET", "/v1/host");
  } catch (e) {
    api.clearToken();
    const why = e.status === 401 ? "The API refused this token: " : "Cannot sign in: ";
    show($("login-error"), why + e.describe());
    return;
  }
  enter();
}

function main() {
  ui.console = new ConsoleView($("console-pane"), $("console-status"), $("console-name"));
  ui.events = new EventLog($("event-log"), $("events-status"), onRecord);
  ui.domains = new DomainTable($("domain-rows"), domainActions);
  ui.images = new ImageTable($("image-rows"), $("create-image"),
                             (img) => act("DELETE", "/v1/images/" + api.seg(img.name)));
  ui.refresher = new Refresher(refresh, POLL_MS);
  api.setUnauthorizedHandler((e) => {
    if ($("app").hidden) return;    // the sign-in form reports its own
    api.clearToken();
    leave("Signed out", "The API no longer accepts the token: " + e.describe());
  });
  setupForms({
    uploaded: async (img) => {
      await refreshImages().catch(actionError);
      preferImage(img);
    },
    created: (dom) => {
      ui.console.follow(dom);
      ui.refresher.now();
    },
  });
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => {
    api.clearToken();
    leave("Signed out");
  });
  if (api.token()) enter();
  else leave("Not signed in");
}

main();
