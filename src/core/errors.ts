/**
 * The small hierarchy of errors a user may see. Each carries an HTTP status and, where the
 * problem is one input, the name of the field, so the API and the pages can say exactly what
 * to fix. Anything else that escapes is an internal error: logged, and answered with a 500
 * that reveals nothing.
 */

export interface FieldProblem {
  /** Dotted path of the input, e.g. `role` or `members.0.startDate`. */
  field: string;
  message: string;
}

export class UserError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: FieldProblem[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input that is well-formed but breaks a rule (422). */
export class ValidationError extends UserError {
  constructor(problems: FieldProblem[]) {
    super(422, problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
  }

  static field(field: string, message: string): ValidationError {
    return new ValidationError([{ field, message }]);
  }
}

export class NotFoundError extends UserError {
  constructor(what: string) {
    super(404, `${what} was not found`);
  }
}

export class ConflictError extends UserError {
  constructor(message: string, problems: FieldProblem[] = []) {
    super(409, message, problems);
  }
}
