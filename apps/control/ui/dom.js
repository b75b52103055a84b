// Small DOM helpers: elements are built with textContent only, so nothing
// from the API or a guest is ever parsed as HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

export function show(node, text) {
  node.textContent = text || "";
  node.hidden = !text;
}

// A button that asks for a second click before it acts (destroy, delete):
// the first click changes its label for a few seconds.
export function confirmButton(label, confirmLabel, attrs, act) {
  const b = el("button", Object.assign({ type: "button", text: label }, attrs));
  let timer = null;
  const disarm = () => {
    clearTimeout(timer);
    timer = null;
    b.textContent = label;
    b.classList.remove("armed");
  };
  b.addEventListener("click", () => {
    if (timer === null) {
      b.textContent = confirmLabel;
      b.classList.add("armed");
      timer = setTimeout(disarm, 5000);
      return;
    }
    disarm();
    act();
  });
  return b;
}
