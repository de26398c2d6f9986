import { describe, expect, test } from "bun:test";
import { escapeHtml, html, SafeHtml } from "./html.ts";

describe("html", () => {
  test("when a value holds markup, then it is escaped", () => {
    expect(html`<p>${'<script>alert("x")</script> & \'y\''}</p>`.value).toBe(
      "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;</p>",
    );
  });

  test("when a value is another html fragment or a list of them, then it is embedded as it is", () => {
    const items = ["a<b", "c"].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${items}</ul>`.value).toBe("<ul><li>a&lt;b</li><li>c</li></ul>");
  });

  test("when a value is null, undefined or false, then nothing is embedded", () => {
    expect(html`[${null}${undefined}${false}${0}]`.value).toBe("[0]");
  });

  test("when escapeHtml is given every special character, then none is left", () => {
    expect(escapeHtml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&#39;");
    expect(String(new SafeHtml("<b>"))).toBe("<b>");
  });
});
