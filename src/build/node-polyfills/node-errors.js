/**
 * Node's error shapes for the polyfills verge writes itself (crypto.js and its
 * parts): the same class, `code` and message text as Node 24's
 * lib/internal/errors.js builds them, so code that checks `err.code` or prints
 * the message sees what it would on Node. Bundled into a function only when a
 * polyfill that needs it is imported.
 */

/** An error of class `Ctor` with Node's `code` (an own property, as Node's errors have it). */
export function nodeError(Ctor, code, message) {
  const err = new Ctor(message);
  if (code !== undefined) Object.defineProperty(err, "code", { value: code, enumerable: true, writable: true, configurable: true });
  return err;
}

/** What Node's `determineSpecificType` says about a value after "Received". */
export function describeValue(value) {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  switch (typeof value) {
    case "bigint":
      return `type bigint (${value}n)`;
    case "number":
      if (value === 0) return 1 / value === -Infinity ? "type number (-0)" : "type number (0)";
      return `type number (${value})`;
    case "boolean":
      return `type boolean (${value})`;
    case "symbol":
      return `type symbol (${String(value)})`;
    case "function":
      return `function ${value.name}`;
    case "string": {
      const s = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return s.includes("'") ? `type string (${JSON.stringify(s)})` : `type string ('${s}')`;
    }
    default:
      return value.constructor && "name" in value.constructor ? `an instance of ${value.constructor.name}` : "an object";
  }
}

/** Node's `inspect` of a primitive, as its error messages quote one. */
function quote(value) {
  if (typeof value === "string") return value.includes("'") ? JSON.stringify(value) : `'${value}'`;
  if (typeof value === "bigint") return `${value}n`;
  return String(value);
}

/** 281474976710657 → 281_474_976_710_657, as Node prints large integers in ERR_OUT_OF_RANGE. */
function withSeparators(text) {
  let out = "";
  let i = text.length;
  const start = text[0] === "-" ? 1 : 0;
  for (; i >= start + 4; i -= 3) out = `_${text.slice(i - 3, i)}${out}`;
  return `${text.slice(0, i)}${out}`;
}

/** `The "name" argument must be <what>. Received …` (TypeError, ERR_INVALID_ARG_TYPE); a dotted name (`options.level`) is a "property", as Node says. */
export function invalidArgType(name, what, value) {
  const kind = name.includes(".") ? "property" : "argument";
  return nodeError(TypeError, "ERR_INVALID_ARG_TYPE", `The "${name}" ${kind} must be ${what}. Received ${describeValue(value)}`);
}

/** `The argument 'name' is invalid. Received …` (TypeError, ERR_INVALID_ARG_VALUE). */
export function invalidArgValue(name, value, reason = "is invalid") {
  return nodeError(TypeError, "ERR_INVALID_ARG_VALUE", `The argument '${name}' ${reason}. Received ${quote(value)}`);
}

/** `The value of "name" is out of range. It must be <range>. Received …` (RangeError, ERR_OUT_OF_RANGE). */
export function outOfRange(name, range, value) {
  const received = Number.isInteger(value) && Math.abs(value) > 2 ** 32 ? withSeparators(String(value)) : quote(value);
  return nodeError(RangeError, "ERR_OUT_OF_RANGE", `The value of "${name}" is out of range. It must be ${range}. Received ${received}`);
}

/** Node's validateFunction. */
export function validateFunction(value, name) {
  if (typeof value !== "function") throw invalidArgType(name, "of type function", value);
}

/** Node's validateString. */
export function validateString(value, name) {
  if (typeof value !== "string") throw invalidArgType(name, "of type string", value);
}

/** Node's validateInteger / validateInt32: a number, an integer, within [min, max]. */
export function validateInteger(value, name, min, max) {
  if (typeof value !== "number") throw invalidArgType(name, "of type number", value);
  if (!Number.isInteger(value)) throw outOfRange(name, "an integer", value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}
