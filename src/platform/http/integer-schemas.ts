import { Type, type IntegerOptions, type TInteger } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ValidationError } from "elysia";
import { DECIMAL_INTEGER_FORMAT } from "./formats.ts";

// Elysia's `t.Integer` is not an integer: it is a union of a number and a string of format "integer", decoded
// with unary plus, and that format is `Number.isInteger(+value)`. So a JSON body's `"quantity": "2"` counted as 2,
// and "1e2", " 10", "0x10" or "10.0" were integers too, in bodies and query strings alike. These two replace it.

/**
 * An integer field of a JSON body: a JSON number and nothing else (a string, even "2", is a 422 naming the
 * field). Elysia coerces a JSON body only at its root (a body that is a bare number), so a plain TypeBox integer
 * inside an object is taken as it is sent.
 */
export function JsonInteger(options: IntegerOptions = {}): TInteger {
  return Type.Integer(options);
}

/**
 * An integer query parameter. On the wire it is text, so it is the text of a decimal integer ("10"; not
 * "1e2", "10.5", " 10", "", "0x10" or "010"), decoded to a number and then held to `options`' bounds. A bound
 * broken by the decoded number is a ValidationError of type "property", which the error handler locates
 * (`locateDecodeFailure`) so that the 422 still names the parameter. Documented like Elysia's own: a string
 * of this format or an integer with these bounds. The format is registered by `registerFormats()` (createHttpApp).
 */
export function QueryInteger(options: IntegerOptions = {}): TInteger {
  const bounds = TypeCompiler.Compile(Type.Integer(options));
  // Typed as what the handler receives (Elysia types its own t.Integer the same way): Elysia infers a route's
  // input with Static, which for a transform would be the wire type.
  const schema = Type.Transform(Type.Union([Type.String({ format: DECIMAL_INTEGER_FORMAT }), Type.Integer(options)], options))
    .Decode((value) => {
      const number = typeof value === "string" ? Number(value) : value;
      if (!bounds.Check(number)) throw new ValidationError("property", bounds, number);
      return number;
    })
    .Encode((value) => value);
  return schema as unknown as TInteger;
}
