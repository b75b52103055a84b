// Formatting for people: sizes, durations, and guest text made safe to show.

export function bytes(n) {
  if (n === null || n === undefined) return "-";
  const units = [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]];
  for (const [unit, size] of units) {
    if (n >= size) {
      const v = n / size;
      return (n % size === 0 || v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " " + unit;
    }
  }
  return n + " B";
}

export function duration(s) {
  if (s === null || s === undefined) return "-";
  s = Math.floor(s);
  const two = (n) => String(n).padStart(2, "0");
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + two(s % 60) + "s";
  if (s < 86400) return Math.floor(s / 3600) + "h" + two(Math.floor(s % 3600 / 60)) + "m";
  return Math.floor(s / 86400) + "d" + two(Math.floor(s % 86400 / 3600)) + "h";
}

// Control characters (C0 but newline and tab, DEL, C1) and bidi overrides
// are shown as \xNN / \u{NNNN}: a guest must not be able to make its text
// look like something else.  The result goes to textContent, never HTML.
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

export function visible(text) {
  return text.replace(/\r\n/g, "\n").replace(UNSAFE, (c) => {
    const n = c.codePointAt(0);
    return n < 0x100 ? "\\x" + n.toString(16).padStart(2, "0") : "\\u{" + n.toString(16) + "}";
  });
}

// "a 'b c' \"d\"" -> ["a", "b c", "d"]: the args field, split like a shell
// without expansions.  Throws on an unterminated quote.
export function splitArgs(line) {
  const out = [];
  const re = /\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+)|(["']))/gy;
  let m, cur = null;
  while ((m = re.exec(line)) !== null && m[0] !== "") {
    if (m[4]) throw new Error("args: unterminated " + m[4] + " quote");
    const piece = m[1] ?? m[2] ?? m[3];
    const joined = cur !== null && !/^\s/.test(m[0]);
    if (joined) out[out.length - 1] += piece; else out.push(piece);
    cur = piece;
  }
  return out;
}

// A file name made into an image name: "hello.elf" -> "hello".
export function imageName(file) {
  const stem = file.replace(/\.elf$/i, "").replace(/[^A-Za-z0-9_.-]/g, "-");
  const name = stem.replace(/^[^A-Za-z0-9]+/, "").slice(0, 31);
  return /^\d*$/.test(name) ? "image-" + name : name;
}
