/**
 * Errors with Confluent Schema Registry's HTTP status and 5-digit `error_code`, turned into
 * `{"error_code","message"}` in exactly one place (app.ts's onError).
 */
export class RegistryError extends Error {
  readonly status: number;
  readonly errorCode: number;

  constructor(status: number, errorCode: number, message: string) {
    super(message);
    this.name = "RegistryError";
    this.status = status;
    this.errorCode = errorCode;
  }
}

export const subjectNotFound = (subject: string) => new RegistryError(404, 40401, `Subject '${subject}' not found.`);

export const versionNotFound = (version: number | string) =>
  new RegistryError(404, 40402, `Version ${version} not found.`);

export const schemaNotFound = (id?: number) =>
  new RegistryError(404, 40403, id === undefined ? "Schema not found" : `Schema ${id} not found`);

export const subjectSoftDeleted = (subject: string) =>
  new RegistryError(404, 40404, `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`);

export const subjectNotSoftDeleted = (subject: string) =>
  new RegistryError(404, 40405, `Subject '${subject}' was not deleted first before being permanently deleted`);

export const versionSoftDeleted = (subject: string, version: number) =>
  new RegistryError(
    404,
    40406,
    `Subject '${subject}' Version ${version} was soft deleted.Set permanent=true to delete permanently`,
  );

export const versionNotSoftDeleted = (subject: string, version: number) =>
  new RegistryError(
    404,
    40407,
    `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`,
  );

export const subjectConfigNotFound = (subject: string) =>
  new RegistryError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);

/**
 * Confluent's registry answered error_code 409 (the HTTP status) for every release up to 8.1;
 * later releases say 40901. Clients branch on the HTTP status, so the long-lived 409 is kept.
 */
export const incompatibleSchema = (subject: string, details: string[]) =>
  new RegistryError(
    409,
    409,
    `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${details.join(", ")}]`,
  );

export const invalidSchema = (detail: string) => new RegistryError(422, 42201, `Invalid schema ${detail}`);

export const invalidVersion = (version: string) =>
  new RegistryError(
    422,
    42202,
    `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  );

export const invalidCompatibilityLevel = () =>
  new RegistryError(
    422,
    42203,
    "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive",
  );

export const referenceExists = (subject: string, version: number) =>
  new RegistryError(422, 42206, `One or more references exist to the schema {subject=${subject},version=${version}}`);

export const badRequest = (message: string) => new RegistryError(400, 400, message);

export const storeError = (message: string) => new RegistryError(500, 50001, message);

export const operationTimeout = (message: string) => new RegistryError(500, 50002, message);
