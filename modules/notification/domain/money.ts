/**
 * Formats integer minor units as money, e.g. (123456, "EUR") → "€1,234.56", (500, "JPY") → "¥500".
 * The amount goes to Intl as an exact decimal string, never through a float, so no cent is ever lost
 * to rounding; the number of minor digits is the currency's own (ISO 4217 via Intl).
 */
export function formatMoney(cents: number, currency: string): string {
  const { format, digits } = formatterOf(currency);
  const magnitude = BigInt(Math.abs(cents)).toString().padStart(digits + 1, "0");
  const major = magnitude.slice(0, magnitude.length - digits);
  const minor = magnitude.slice(magnitude.length - digits);
  const decimal = `${cents < 0 ? "-" : ""}${major}${digits > 0 ? `.${minor}` : ""}`;
  // ECMA-402 (Intl.NumberFormat v3) formats a string as an exact decimal; the lib typings lag behind.
  return format.format(decimal as unknown as number);
}

// Building an Intl.NumberFormat costs far more than formatting with one: one per currency, kept.
const formatters = new Map<string, { format: Intl.NumberFormat; digits: number }>();

function formatterOf(currency: string): { format: Intl.NumberFormat; digits: number } {
  let formatter = formatters.get(currency);
  if (!formatter) {
    const format = new Intl.NumberFormat("en-US", { style: "currency", currency });
    formatter = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 };
    formatters.set(currency, formatter);
  }
  return formatter;
}
