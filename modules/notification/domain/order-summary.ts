import { html, SafeHtml } from "./html.ts";
import { formatMoney } from "./money.ts";
import type { OrderSnapshot } from "./rendered-email.ts";

/** The order's lines and total as plain text: one line per item, quantity × name (sku), unit price and line total. */
export function orderSummaryText(order: OrderSnapshot): string {
  const money = (cents: number) => formatMoney(cents, order.currency);
  const lines = order.items.map(
    (item) => `  ${item.quantity} × ${item.name} (${item.sku}) at ${money(item.unitPriceCents)} = ${money(item.lineTotalCents)}`,
  );
  return [`Order ${order.orderId}`, ...lines, `Total: ${money(order.totalCents)}`].join("\n");
}

// Constant attributes written here (never data), hence trusted as they are. Inline styles because
// many mail clients drop <style> blocks.
const CELL = new SafeHtml('style="padding:4px 8px;border-bottom:1px solid #ddd;text-align:left"');
const NUMBER = new SafeHtml('style="padding:4px 8px;border-bottom:1px solid #ddd;text-align:right"');

/** The same summary as an HTML table. */
export function orderSummaryHtml(order: OrderSnapshot): SafeHtml {
  const money = (cents: number) => formatMoney(cents, order.currency);
  const rows = order.items.map(
    (item) => html`<tr>
<td ${CELL}>${item.name}<br><small>${item.sku}</small></td>
<td ${NUMBER}>${item.quantity}</td>
<td ${NUMBER}>${money(item.unitPriceCents)}</td>
<td ${NUMBER}>${money(item.lineTotalCents)}</td>
</tr>
`,
  );
  return html`<p>Order <strong>${order.orderId}</strong></p>
<table style="border-collapse:collapse">
<thead><tr><th ${CELL}>Item</th><th ${NUMBER}>Quantity</th><th ${NUMBER}>Unit price</th><th ${NUMBER}>Line total</th></tr></thead>
<tbody>
${rows}</tbody>
<tfoot><tr><td colspan="3" ${NUMBER}><strong>Total</strong></td><td ${NUMBER}><strong>${money(order.totalCents)}</strong></td></tr></tfoot>
</table>`;
}
