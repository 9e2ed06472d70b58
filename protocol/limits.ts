/**
 * Bounds on what one message may hold, checked where frames and bodies are
 * decoded (the node's gateway). Part of wire protocol v1: a message within
 * them is never refused for its shape.
 *
 * Depth counts containers (arrays, objects, maps) from the message itself:
 * the message object is level 1, its `args` array level 2, an argument's own
 * arrays and objects level 3 and below. A batch's outer array is not counted
 * (it has a limit of its own, the node's --max-batch). An HTTP call's body
 * (the `args` array) is level 2, as in a message.
 */
export interface WireLimits {
  /** Deepest nesting of one message. Past it: E_BAD_REQUEST. */
  readonly maxDepth: number;
  /** Longest identifier, in characters: actor type, method, actor key, idem key, topic, string id. Past it: E_BAD_REQUEST. */
  readonly maxKey: number;
  /** Longest string or binary value (and object key): UTF-8 bytes in msgpack, characters in JSON. Past it: E_TOO_LARGE. */
  readonly maxString: number;
  /** Most elements of one array, or entries of one object or map. Past it: E_TOO_LARGE. */
  readonly maxCollection: number;
}

/**
 * Defaults. Depth 64 is several times what real documents nest (a message
 * takes 2 levels, leaving 62 to its arguments) and far below where the
 * runtime's recursive encoders run out of stack (over 1300 levels); key 1 KiB
 * fits any id, path or composite key and keeps grid keys and idempotency
 * entries small. Strings and collections are bounded by the frame size
 * already (a frame of at most 16 MiB cannot hold more), so their defaults
 * add nothing: a node tightens them for its own application.
 */
export const DEFAULT_LIMITS: WireLimits = Object.freeze({
  maxDepth: 64,
  maxKey: 1024,
  maxString: 16 * 1024 * 1024,
  maxCollection: 16 * 1024 * 1024,
});
