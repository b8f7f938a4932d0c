/**
 * Errors and outcomes the FHIR way: every failure of the FHIR API is an OperationOutcome with
 * the HTTP status the specification gives, and each problem names the element (FHIRPath) or the
 * parameter at fault. Code anywhere in the module throws `FhirError`; http.ts turns it into the
 * answer.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

export interface Issue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: IssueCode;
  diagnostics: string;
  /** FHIRPath of the element at fault, or the search parameter's name. */
  expression?: string | undefined;
}

export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly issues: readonly Issue[],
  ) {
    super(issues.map((i) => (i.expression ? `${i.expression}: ${i.diagnostics}` : i.diagnostics)).join('; '));
    this.name = 'FhirError';
  }

  static of(status: number, code: IssueCode, diagnostics: string, expression?: string): FhirError {
    return new FhirError(status, [{ severity: 'error', code, diagnostics, expression }]);
  }
}

export const notFound = (type: string, id: string): FhirError => FhirError.of(404, 'not-found', `${type}/${id} is not known`);
export const gone = (type: string, id: string): FhirError => FhirError.of(410, 'deleted', `${type}/${id} has been deleted`);
export const invalid = (diagnostics: string, expression?: string): FhirError => FhirError.of(400, 'invalid', diagnostics, expression);

export function operationOutcome(issues: readonly Issue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity,
      code: i.code,
      diagnostics: i.diagnostics,
      ...(i.expression ? { expression: [i.expression] } : {}),
    })),
  };
}

/** An informational outcome, for `Prefer: return=OperationOutcome` and successful deletes. */
export function informational(diagnostics: string): OperationOutcome {
  return operationOutcome([{ severity: 'information', code: 'informational', diagnostics }]);
}
