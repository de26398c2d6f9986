/** What a caller may do: a customer acts on their own orders, an admin on everything. */
export type Role = "customer" | "admin";

/** Who is calling, as proven by a valid bearer token (shop-signed or from the identity provider). */
export type Principal = { sub: string; email: string; role: Role };

/** The e-mail shape both kinds of token must carry: orders e-mail the customer at it. */
export const EMAIL_PATTERN = "^[^@\\s]+@[^@\\s]+$";
