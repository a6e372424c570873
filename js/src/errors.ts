/** What went wrong, for a {@link PchatGuardError}. */
export type PchatGuardErrorKind =
  /** The module refused a check request (`status: "error"`): a bad option, a date that does not exist... */
  | 'request'
  /** The module refused a pack given to `loadBundle`. */
  | 'bundle'
  /** The module cannot run (for example a damaged pack image): every call fails. */
  | 'module'
  /** The module speaks another ABI version than this package. */
  | 'abi'
  /** The module could not be loaded (fetch, file or compile error); the cause is attached. */
  | 'init'
  /** `check`, `describe`, `schema` or `loadBundle` was called before `init`. */
  | 'not-initialized';

/** An error of the pchat-guard module, or of using it. */
export class PchatGuardError extends Error {
  /** What went wrong. */
  readonly kind: PchatGuardErrorKind;

  constructor(message: string, kind: PchatGuardErrorKind, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PchatGuardError';
    this.kind = kind;
  }
}
