// The two forms of "New domain": upload an image (PUT /v1/images/{name}
// with the file's raw bytes), then create a domain from it
// (POST /v1/domains).  The API's errors are shown as it words them, and
// the field it names is marked invalid and focused.

import { call, request, seg } from "./api.js";
import { $, show } from "./dom.js";
import { bytes, imageName, splitArgs } from "./format.js";

const UPLOAD_MAX = 64 * 1024 * 1024;     // PV_DOMCTL_IMAGE_MAX
const FIELD_INPUT = { name: "create-name", image: "create-image", memory: "create-memory",
                      args: "create-args" };

function errorText(e) {
  return e.describe ? e.describe() : e.message;
}

// hooks: {uploaded(img), created(dom)}
export function setupForms(hooks) {
  const file = $("upload-file");
  const name = $("upload-name");
  let autoName = "";
  file.addEventListener("change", () => {
    const f = file.files[0];
    if (f && (name.value === "" || name.value === autoName)) name.value = autoName = imageName(f.name);
  });
  $("upload-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    upload(file.files[0], name.value.trim(), hooks).catch((e) => show($("upload-error"), errorText(e)));
  });
  $("create-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    create(hooks).catch((e) => createFailed(e));
  });
}

async function upload(f, name, hooks) {
  show($("upload-error"), "");
  $("upload-result").textContent = "";
  if (!f) throw new Error("choose a file first");
  if (f.size > UPLOAD_MAX) throw new Error(`${f.name} is ${bytes(f.size)}; images are at most 64 MiB`);
  $("upload-result").textContent = `Uploading ${f.name} (${bytes(f.size)})…`;
  const resp = await request("PUT", "/v1/images/" + seg(name), {
    body: await f.arrayBuffer(), headers: { "Content-Type": "application/octet-stream" } })
    .catch((e) => { $("upload-result").textContent = ""; throw e; });
  const img = await resp.json();
  const how = resp.status === 201 ? "uploaded" : "already in the store with these bytes";
  $("upload-result").textContent =
    `Image ${img.name} ${how}: ${bytes(img.size)}, sha256 ${img.sha256.slice(0, 16)}…`;
  hooks.uploaded(img);
}

function markInvalid(field) {
  for (const [f, id] of Object.entries(FIELD_INPUT)) {
    const input = $(id);
    if (f === field) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  if (FIELD_INPUT[field]) $(FIELD_INPUT[field]).focus();
}

function createFailed(e) {
  $("create-result").textContent = "";
  show($("create-error"), errorText(e));
  markInvalid(e.field);
}

// The create request from the form; local checks only for what JSON needs.
function createRequest() {
  const mib = Number($("create-memory").value);
  if (!Number.isInteger(mib) || mib < 1) {
    throw Object.assign(new Error("memory: give a whole number of MiB, 1 or more"),
                        { field: "memory" });
  }
  let args;
  try {
    args = splitArgs($("create-args").value);
  } catch (e) {
    throw Object.assign(e, { field: "args" });
  }
  return { name: $("create-name").value.trim(), image: $("create-image").value,
           memory: mib * 1024 * 1024, args };
}

async function create(hooks) {
  show($("create-error"), "");
  const req = createRequest();
  $("create-result").textContent = `Creating ${req.name}…`;
  const dom = await call("POST", "/v1/domains", req);
  markInvalid(null);
  $("create-result").textContent = `Created domain ${dom.name} (id ${dom.id}), ${dom.state}.`;
  hooks.created(dom);
}

// A fresh image becomes the create form's choice, and its name the
// domain's if none was typed.
export function preferImage(img) {
  $("create-image").value = img.name;
  if ($("create-name").value === "") $("create-name").value = img.name;
}

export function resetForms() {
  for (const id of ["upload-form", "create-form"]) $(id).reset();
  for (const id of ["upload-result", "create-result"]) $(id).textContent = "";
  for (const id of ["upload-error", "create-error"]) show($(id), "");
  markInvalid(null);
}
