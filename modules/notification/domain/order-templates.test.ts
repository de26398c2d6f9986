import { describe, expect, test } from "bun:test";
import { renderOrderCancelled, renderOrderConfirmed, renderOrderRejected, renderOrderShipped } from "./order-templates.ts";
import type { OrderSnapshot } from "./rendered-email.ts";

function order(overrides: Partial<OrderSnapshot> = {}): OrderSnapshot {
  return {
    orderId: "0192f0c4-7a6e-7cc1-9f3a-1b2c3d4e5f60",
    customerId: "alice",
    customerEmail: "alice@example.com",
    items: [
      { sku: "MUG-1", name: "Mug <Deluxe> & \"Co\"", quantity: 2, unitPriceCents: 1250, lineTotalCents: 2500 },
      { sku: "TEE-2", name: "T-shirt", quantity: 1, unitPriceCents: 1999, lineTotalCents: 1999 },
    ],
    totalCents: 4499,
    currency: "EUR",
    ...overrides,
  };
}

describe("renderOrderConfirmed", () => {
  test("when an order is confirmed, then the e-mail goes to the customer and names the order", () => {
    const email = renderOrderConfirmed(order());
    expect(email.to).toBe("alice@example.com");
    expect(email.subject).toBe("Your order 0192f0c4-7a6e-7cc1-9f3a-1b2c3d4e5f60 is confirmed");
    expect(email.text).toContain("Order 0192f0c4-7a6e-7cc1-9f3a-1b2c3d4e5f60");
  });

  test("when it is rendered, then every line shows quantity, unit price and line total as money, and the total", () => {
    const { text, html } = renderOrderConfirmed(order());
    expect(text).toContain('2 × Mug <Deluxe> & "Co" (MUG-1) at €12.50 = €25.00');
    expect(text).toContain("1 × T-shirt (TEE-2) at €19.99 = €19.99");
    expect(text).toContain("Total: €44.99");
    expect(html).toContain("<td style=\"padding:4px 8px;border-bottom:1px solid #ddd;text-align:right\">€12.50</td>");
    expect(html).toContain("€25.00");
    expect(html).toContain("<strong>€44.99</strong>");
  });

  test("when a value holds markup, then the HTML part escapes it and the text part keeps it as written", () => {
    const { html, text } = renderOrderConfirmed(order({ items: [{ sku: "<i>S</i>", name: "Mug <Deluxe> & \"Co\"", quantity: 1, unitPriceCents: 1, lineTotalCents: 1 }], totalCents: 1 }));
    expect(html).toContain("Mug &lt;Deluxe&gt; &amp; &quot;Co&quot;");
    expect(html).toContain("&lt;i&gt;S&lt;/i&gt;");
    expect(html).not.toContain("<Deluxe>");
    expect(html).not.toContain("<i>");
    expect(text).toContain('Mug <Deluxe> & "Co" (<i>S</i>)');
  });

  test("when the currency has no minor unit, then amounts are not divided by 100", () => {
    const { text } = renderOrderConfirmed(
      order({ currency: "JPY", items: [{ sku: "A", name: "A", quantity: 3, unitPriceCents: 500, lineTotalCents: 1500 }], totalCents: 1500 }),
    );
    expect(text).toContain("3 × A (A) at ¥500 = ¥1,500");
    expect(text).toContain("Total: ¥1,500");
  });
});

describe("renderOrderRejected", () => {
  test("when an order is rejected, then the e-mail gives the reason and each shortage by name", () => {
    const email = renderOrderRejected({
      ...order(),
      reason: "insufficient <stock>",
      shortages: [{ sku: "MUG-1", requested: 2, available: 0 }],
    });
    expect(email.subject).toBe("Your order 0192f0c4-7a6e-7cc1-9f3a-1b2c3d4e5f60 could not be accepted");
    expect(email.text).toContain("Reason: insufficient <stock>");
    expect(email.text).toContain('Mug <Deluxe> & "Co" (MUG-1): you asked for 2, we have 0');
    expect(email.html).toContain("Reason: <strong>insufficient &lt;stock&gt;</strong>");
    expect(email.html).toContain("<li>Mug &lt;Deluxe&gt; &amp; &quot;Co&quot; (MUG-1): you asked for 2, we have 0</li>");
  });

  test("when there are no shortages, then no shortage list is shown", () => {
    const email = renderOrderRejected({ ...order(), reason: "unknown sku", shortages: [] });
    expect(email.text).not.toContain("Not enough stock");
    expect(email.html).not.toContain("<ul>");
  });
});

describe("renderOrderCancelled and renderOrderShipped", () => {
  test("when a cancel gives a reason, then the e-mail shows it; without one, no reason line", () => {
    expect(renderOrderCancelled({ ...order(), reason: "changed my mind" }).text).toContain("Reason: changed my mind");
    const withoutReason = renderOrderCancelled(order());
    expect(withoutReason.subject).toBe("Your order 0192f0c4-7a6e-7cc1-9f3a-1b2c3d4e5f60 has been cancelled");
    expect(withoutReason.text).not.toContain("Reason:");
  });

  test("when an order ships, then the subject says so and the lines are listed", () => {
    const email = renderOrderShipped(order());
    expect(email.subject).toBe("Your order 0192f0c4-7a6e-7cc1-9f3a-1b2c3d4e5f60 has shipped");
    expect(email.text).toContain("Total: €44.99");
  });
});
