import { html, type SafeHtml } from "./html.ts";
import { orderSummaryHtml, orderSummaryText } from "./order-summary.ts";
import type { CancelledOrder, ConfirmedOrder, RejectedOrder, RenderedEmail, ShippedOrder } from "./rendered-email.ts";

const SIGNATURE = "The Shop team";

/** "We have your order": every line is reserved and will ship. */
export function renderOrderConfirmed(order: ConfirmedOrder): RenderedEmail {
  return compose(order.customerEmail, `Your order ${order.orderId} is confirmed`, {
    intro: "Thank you for your order. Every item is reserved for you and we will ship it soon.",
    text: orderSummaryText(order),
    html: orderSummaryHtml(order),
  });
}

/** "We could not take your order": the reason and, per sku, how many were asked for and how many there are. */
export function renderOrderRejected(order: RejectedOrder): RenderedEmail {
  const nameOf = (sku: string) => order.items.find((item) => item.sku === sku)?.name ?? sku;
  const shortageText = order.shortages.map(
    (s) => `  ${nameOf(s.sku)} (${s.sku}): you asked for ${s.requested}, we have ${s.available}`,
  );
  const shortageHtml = order.shortages.map(
    (s) => html`<li>${nameOf(s.sku)} (${s.sku}): you asked for ${s.requested}, we have ${s.available}</li>`,
  );
  const text = [`Reason: ${order.reason}`, ...(shortageText.length > 0 ? ["Not enough stock:", ...shortageText] : []), "", orderSummaryText(order)];
  return compose(order.customerEmail, `Your order ${order.orderId} could not be accepted`, {
    intro: "We are sorry: we could not accept your order.",
    text: text.join("\n"),
    html: html`<p>Reason: <strong>${order.reason}</strong></p>
${shortageHtml.length > 0 ? html`<p>Not enough stock:</p>\n<ul>${shortageHtml}</ul>\n` : ""}${orderSummaryHtml(order)}`,
  });
}

/** "Your order is cancelled", with the reason when the cancel gave one. */
export function renderOrderCancelled(order: CancelledOrder): RenderedEmail {
  const reason = order.reason?.trim();
  return compose(order.customerEmail, `Your order ${order.orderId} has been cancelled`, {
    intro: "Your order has been cancelled; nothing will be shipped.",
    text: [...(reason ? [`Reason: ${reason}`, ""] : []), orderSummaryText(order)].join("\n"),
    html: html`${reason ? html`<p>Reason: <strong>${reason}</strong></p>\n` : ""}${orderSummaryHtml(order)}`,
  });
}

/** "Your order is on its way". */
export function renderOrderShipped(order: ShippedOrder): RenderedEmail {
  return compose(order.customerEmail, `Your order ${order.orderId} has shipped`, {
    intro: "Good news: your order is on its way.",
    text: orderSummaryText(order),
    html: orderSummaryHtml(order),
  });
}

function compose(to: string, subject: string, body: { intro: string; text: string; html: SafeHtml }): RenderedEmail {
  const text = `Hello,\n\n${body.intro}\n\n${body.text}\n\n${SIGNATURE}\n`;
  const page = html`<!doctype html>
<html>
<head><meta charset="utf-8"><title>${subject}</title></head>
<body style="font-family:sans-serif;color:#222">
<p>Hello,</p>
<p>${body.intro}</p>
${body.html}
<p>${SIGNATURE}</p>
</body>
</html>
`;
  return { to, subject, text, html: page.value };
}
