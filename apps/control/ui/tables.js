// The host summary, the domain table and the image table, updated in place
// from /v1/host, /v1/domains and /v1/images so focus and armed buttons
// survive a refresh.

import { $, el, confirmButton } from "./dom.js";
import { bytes, duration } from "./format.js";

export function renderHost(h) {
  $("host-version").textContent = `${h.version} (API ${h.api_version}, ABI ${h.abi_version})`;
  const found = h.cpus_found !== h.cpus_started ? `, ${h.cpus_found} found` : "";
  $("host-cpus").textContent = `${h.cpus_started} started${found}`;
  $("host-uptime").textContent = duration(h.uptime_seconds);
  $("host-domains").textContent = `${h.domains_live} live of ${h.domains_max} at most`;
  $("host-images").textContent =
    `${h.images} (${bytes(h.image_store_bytes)} of ${bytes(h.image_store_limit)})`;
  const used = h.memory_total - h.memory_free;
  const pct = h.memory_total > 0 ? (100 * used) / h.memory_total : 0;
  $("host-memory").textContent = `${bytes(used)} used of ${bytes(h.memory_total)}, ` +
    `${bytes(h.memory_free)} free (${pct.toFixed(0)}% used)`;
  $("host-memory-bar").style.width = pct.toFixed(1) + "%";
}

// CPU % of one CPU from cpu_seconds deltas over the domain's own uptime
// (the server's clock), between two refreshes at least MIN_DT apart.
const MIN_DT = 0.5;

class CpuMeter {
  constructor() {
    this.prev = new Map();          // id -> {cpu, up, pct}
  }

  percent(d) {
    const p = this.prev.get(d.id);
    if (!p) {
      this.prev.set(d.id, { cpu: d.cpu_seconds, up: d.uptime_seconds, pct: null });
      return null;
    }
    const dt = d.uptime_seconds - p.up;
    if (dt < MIN_DT) return p.pct;
    const pct = Math.max(0, (100 * (d.cpu_seconds - p.cpu)) / dt);
    this.prev.set(d.id, { cpu: d.cpu_seconds, up: d.uptime_seconds, pct });
    return pct;
  }

  keep(ids) {
    for (const id of this.prev.keys()) if (!ids.has(id)) this.prev.delete(id);
  }
}

export class DomainTable {
  // actions: {console(d), pause(d), resume(d), destroy(d)}
  constructor(body, actions) {
    this.body = body;
    this.actions = actions;
    this.rows = new Map();          // id -> {tr, cells, buttons}
    this.cpu = new CpuMeter();
    this.controlId = null;
  }

  render(domains) {
    const ids = new Set(domains.map((d) => d.id));
    for (const [id, row] of this.rows) {
      if (!ids.has(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    for (const d of domains) this.update(this.rows.get(d.id) || this.add(d), d);
    this.cpu.keep(ids);
  }

  clear() {
    this.body.textContent = "";
    this.rows.clear();
    this.cpu = new CpuMeter();
  }

  add(d) {
    const cells = {};
    for (const k of ["id", "state", "cpu", "memory", "uptime"]) cells[k] = el("td");
    for (const k of ["cpu", "memory", "uptime"]) cells[k].className = "num";
    const name = el("th", { scope: "row", text: d.name });
    const acts = el("td", { class: "actions" });
    const tr = el("tr", { "data-testid": "domain-row-" + d.name, "data-id": String(d.id),
                          "data-name": d.name },
                  cells.id, name, cells.state, cells.cpu, cells.memory, cells.uptime, acts);
    const row = { tr, cells, buttons: this.buttons(d, acts) };
    this.rows.set(d.id, row);
    this.body.append(tr);             // ids only grow: appending keeps id order
    return row;
  }

  buttons(d, acts) {
    const a = this.actions;
    const b = (what, label, fn) => {
      const btn = el("button", { type: "button", text: label, "data-testid": `${what}-${d.name}`,
                                 "aria-label": `${label} ${d.name}` });
      btn.addEventListener("click", () => fn(d));
      return btn;
    };
    const buttons = { console: b("console", "Console", a.console) };
    acts.append(buttons.console);
    if (d.id === this.controlId || d.privileged) {
      acts.append(el("span", { class: "hint", text: "control domain" }));
      return buttons;
    }
    buttons.pause = b("pause", "Pause", a.pause);
    buttons.resume = b("resume", "Resume", a.resume);
    buttons.destroy = confirmButton("Destroy", "Confirm destroy",
                                    { "data-testid": "destroy-" + d.name,
                                      "aria-label": "Destroy " + d.name },
                                    () => a.destroy(d));
    acts.append(buttons.pause, buttons.resume, buttons.destroy);
    return buttons;
  }

  update(row, d) {
    const c = row.cells;
    c.id.textContent = String(d.id);
    c.state.textContent = d.state;
    c.state.className = "state state-" + d.state.replace(/[^a-z]/g, "");
    row.tr.dataset.state = d.state;
    const pct = this.cpu.percent(d);
    c.cpu.textContent = pct === null ? "-" : pct.toFixed(1);
    c.memory.textContent = bytes(d.memory);
    c.memory.title = `${bytes(d.memory_private)} private, ${bytes(d.memory_overhead)} overhead`;
    c.uptime.textContent = duration(d.uptime_seconds);
    const bt = row.buttons;
    if (bt.pause) {
      bt.pause.hidden = d.state === "paused" || d.state === "ending";
      bt.resume.hidden = d.state !== "paused";
      bt.destroy.disabled = d.state === "ending";
    }
  }
}

export class ImageTable {
  constructor(body, select, onDelete) {
    this.body = body;
    this.select = select;
    this.onDelete = onDelete;
    this.key = null;
    this.users = new Map();
  }

  // Rows are rebuilt only when the store's names or bytes change, so an
  // armed Delete button survives the periodic refresh.
  render(images) {
    const key = images.map((i) => i.name + ":" + i.sha256).join(" ");
    if (key !== this.key) {
      this.key = key;
      this.body.textContent = "";
      this.users = new Map();
      for (const img of images) this.body.append(this.row(img));
      this.options(images);
    }
    for (const img of images) this.users.get(img.name).textContent = String(img.users);
  }

  clear() {
    this.key = null;
    this.render([]);
  }

  row(img) {
    const sha = el("td", { class: "mono", title: img.sha256, text: img.sha256.slice(0, 12) + "…" });
    const del = confirmButton("Delete", "Confirm delete",
                              { "data-testid": "delete-image-" + img.name,
                                "aria-label": "Delete image " + img.name },
                              () => this.onDelete(img));
    return el("tr", { "data-testid": "image-row-" + img.name },
              el("th", { scope: "row", text: img.name }),
              el("td", { class: "num", text: bytes(img.size) }), sha,
              this.usersCell(img), el("td", { class: "actions" }, del));
  }

  usersCell(img) {
    const td = el("td", { class: "num" });
    this.users.set(img.name, td);
    return td;
  }

  // The create form's image choice keeps its selection across refreshes.
  options(images) {
    const keep = this.select.value;
    this.select.textContent = "";
    if (images.length === 0) this.select.append(el("option", { value: "", text: "(upload an image first)" }));
    for (const img of images) this.select.append(el("option", { value: img.name, text: img.name }));
    if (images.some((i) => i.name === keep)) this.select.value = keep;
  }
}
