/**
 * DOMException (WebIDL §2.8.1, https://webidl.spec.whatwg.org/#idl-DOMException):
 * an Error subclass whose `name`, `message` and `code` are prototype getters,
 * with the legacy code constants on the constructor and the prototype.
 *
 * @example
 * throw new DOMException("The operation was aborted", "AbortError"); // .code === 20
 */

/** Error names with a legacy code (WebIDL "DOMException names" table). */
const CODES: Record<string, number> = {
  IndexSizeError: 1,
  HierarchyRequestError: 3,
  WrongDocumentError: 4,
  InvalidCharacterError: 5,
  NoModificationAllowedError: 7,
  NotFoundError: 8,
  NotSupportedError: 9,
  InUseAttributeError: 10,
  InvalidStateError: 11,
  SyntaxError: 12,
  InvalidModificationError: 13,
  NamespaceError: 14,
  InvalidAccessError: 15,
  TypeMismatchError: 17,
  SecurityError: 18,
  NetworkError: 19,
  AbortError: 20,
  URLMismatchError: 21,
  QuotaExceededError: 22,
  TimeoutError: 23,
  InvalidNodeTypeError: 24,
  DataCloneError: 25,
};

const CONSTANTS: Array<[string, number]> = [
  ["INDEX_SIZE_ERR", 1],
  ["DOMSTRING_SIZE_ERR", 2],
  ["HIERARCHY_REQUEST_ERR", 3],
  ["WRONG_DOCUMENT_ERR", 4],
  ["INVALID_CHARACTER_ERR", 5],
  ["NO_DATA_ALLOWED_ERR", 6],
  ["NO_MODIFICATION_ALLOWED_ERR", 7],
  ["NOT_FOUND_ERR", 8],
  ["NOT_SUPPORTED_ERR", 9],
  ["INUSE_ATTRIBUTE_ERR", 10],
  ["INVALID_STATE_ERR", 11],
  ["SYNTAX_ERR", 12],
  ["INVALID_MODIFICATION_ERR", 13],
  ["NAMESPACE_ERR", 14],
  ["INVALID_ACCESS_ERR", 15],
  ["VALIDATION_ERR", 16],
  ["TYPE_MISMATCH_ERR", 17],
  ["SECURITY_ERR", 18],
  ["NETWORK_ERR", 19],
  ["ABORT_ERR", 20],
  ["URL_MISMATCH_ERR", 21],
  ["QUOTA_EXCEEDED_ERR", 22],
  ["TIMEOUT_ERR", 23],
  ["INVALID_NODE_TYPE_ERR", 24],
  ["DATA_CLONE_ERR", 25],
];

let isDOMExceptionImpl: (value: unknown) => value is DOMException;

const captureStackTrace = (Error as unknown as { captureStackTrace?: (o: object, f?: Function) => void }).captureStackTrace;

export class DOMException extends Error {
  #name: string;
  #message: string;

  constructor(message?: unknown, options?: unknown) {
    const msg = message === undefined ? "" : String(message);
    let name = "Error";
    let cause: { cause: unknown } | undefined;
    if (options !== null && typeof options === "object") {
      // The options-dictionary form (WebIDL: `DOMException(message, { name, cause })`).
      const o = options as { name?: unknown; cause?: unknown };
      const n = o.name;
      if (n !== undefined) name = String(n);
      if ("cause" in o) cause = { cause: o.cause };
    } else if (options !== undefined) {
      name = String(options);
    }
    super(msg, cause);
    this.#name = name;
    this.#message = msg;
    // `message` is a prototype getter per WebIDL, not an own property. Re-capture
    // the stack so its first line reads "<name>: <message>" like V8's DOMException.
    delete (this as { message?: string }).message;
    captureStackTrace?.(this, DOMException);
  }

  // WebIDL makes `name` and `message` prototype accessors, not own fields.
  get name(): string {
    return brand(this).#name;
  }

  get message(): string {
    return brand(this).#message;
  }

  get code(): number {
    return CODES[brand(this).#name] ?? 0;
  }

  static {
    isDOMExceptionImpl = (value: unknown): value is DOMException => typeof value === "object" && value !== null && #name in value;
  }
}

/** Brand check for trusted guest code (structuredClone, error reduction): user code cannot fake it. */
export function isDOMException(value: unknown): value is DOMException {
  return isDOMExceptionImpl(value);
}

function brand(v: DOMException): DOMException {
  if (!isDOMExceptionImpl(v)) throw new TypeError("Illegal invocation");
  return v;
}

// One defineProperties per object (every new isolate runs this; 50 defineProperty calls cost more).
const constants: PropertyDescriptorMap = {};
for (const [k, v] of CONSTANTS) constants[k] = { value: v, writable: false, enumerable: true, configurable: false };
Object.defineProperties(DOMException, constants);
Object.defineProperties(DOMException.prototype, constants);
for (const k of ["name", "message", "code"]) {
  Object.defineProperty(DOMException.prototype, k, { enumerable: true });
}
Object.defineProperty(DOMException.prototype, Symbol.toStringTag, { value: "DOMException", configurable: true });
