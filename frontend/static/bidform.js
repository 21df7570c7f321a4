// The bid form's rules, as the bid panel applies them before sealing: the same rules as
// src/tenders/bid_form.rs (`check`), which the opening applies to every decrypted form and
// which decides. Both are held to the cases of tests/vectors/bid-form-cases.json; the rules and
// codes are listed in docs/envelope.md ("The bid form").

/** The largest number of days a days item takes. */
export const MAX_DAYS = 36500n;
/** The longest text item, in characters (Unicode code points). */
export const MAX_TEXT = 500;
/** The largest amount, in fen (Money::MAX). */
const MAX_FEN = 10n ** 15n;

// White space as Rust's `str::trim` sees it (Unicode White_Space), which is not quite JavaScript's.
const SPACE = "[\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const EDGES = new RegExp(`^${SPACE}+|${SPACE}+$`, "gu");
const trim = (s) => s.replace(EDGES, "");
const DIGITS = /^[0-9]*$/;

/** What is wrong with a filled-in (trimmed, not blank) value of `item`, or null. */
export function checkValue(item, value) {
  switch (item.kind) {
    case "money": {
      // As Money::parse_yuan: commas may group the digits; a sign, a unit or words may not.
      const cleaned = value.replace(/[,，]/g, "");
      if (cleaned.startsWith("-")) return "money_negative";
      const point = cleaned.indexOf(".");
      const int = point < 0 ? cleaned : cleaned.slice(0, point);
      const frac = point < 0 ? "" : cleaned.slice(point + 1);
      if (int === "" && frac === "") return "money_malformed";
      if (!DIGITS.test(int) || !DIGITS.test(frac)) return "money_malformed";
      if (frac.length > 2) return "money_too_precise";
      const fen = BigInt(int || "0") * 100n + BigInt(frac.padEnd(2, "0"));
      if (fen > MAX_FEN) return "money_too_large";
      if (fen === 0n && item.required) return "money_zero";
      return null;
    }
    case "days":
      if (!/^[0-9]+$/.test(value)) return "days_malformed";
      if (BigInt(value) > MAX_DAYS) return "days_too_large";
      return null;
    default:
      return [...value].length > MAX_TEXT ? "text_too_long" : null;
  }
}

/**
 * Checks a bid form (values by item key) against the tender's items ({key, kind, required}).
 * Returns the form to seal (trimmed text, blank optional items left out) and the problems as
 * {item, code}: the items in the form's order, then keys that are no item, in key order.
 */
export function checkForm(items, form) {
  const problems = [];
  const read = {};
  for (const item of items) {
    const raw = Object.hasOwn(form, item.key) ? form[item.key] : undefined;
    if (raw !== undefined && typeof raw !== "string") {
      problems.push({ item: item.key, code: "not_text" });
      continue;
    }
    const value = raw === undefined ? "" : trim(raw);
    if (value === "") {
      if (item.required) problems.push({ item: item.key, code: "missing_item" });
      continue;
    }
    const code = checkValue(item, value);
    if (code) problems.push({ item: item.key, code });
    else read[item.key] = value;
  }
  // Key order as Rust's BTreeMap: by UTF-8 bytes, which for strings is code point order.
  const byCodePoint = (a, b) => {
    const [x, y] = [[...a].map((c) => c.codePointAt(0)), [...b].map((c) => c.codePointAt(0))];
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  };
  for (const key of Object.keys(form).sort(byCodePoint)) {
    if (!items.some((i) => i.key === key)) problems.push({ item: key, code: "unknown_item" });
  }
  return { form: read, problems };
}
