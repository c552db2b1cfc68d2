/** Why the stack could not be started or driven; callers branch on `code`, never on the message. */
export type StackErrorCode =
  | "STACK_BAD_OPTION"
  | "STACK_ALREADY_RUNNING"
  | "STACK_NOT_RUNNING"
  | "STACK_PORT_IN_USE"
  | "STACK_MISSING_TOOL"
  | "STACK_PROCESS_EXITED"
  | "STACK_START_TIMEOUT"
  | "STACK_STOP_TIMEOUT"
  | "STACK_COMMAND_FAILED";

export class StackError extends Error {
  readonly code: StackErrorCode;

  constructor(code: StackErrorCode, message: string) {
    super(message);
    this.name = "StackError";
    this.code = code;
  }
}
