/** A piece of HTML that is already safe to embed (built by `html`), as opposed to text that must be escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * Tagged template that escapes every interpolated value unless it is SafeHtml (the result of another
 * `html` template); arrays are joined. Escaping is the default, so a forgotten call cannot inject markup.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += embed(value) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

function embed(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(embed).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}
