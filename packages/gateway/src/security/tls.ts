/**
 * TLS for the public listener: certificate and key files, and optionally client certificates
 * checked against a CA (mutual TLS), whose subject then names the principal.
 */
import { readFileSync } from "node:fs";
import type { ServerOptions } from "node:https";

export type ClientAuth = "none" | "requested" | "required";

export interface TlsSettings {
  cert: Buffer;
  key: Buffer;
  passphrase: string | null;
  /** CA bundle that client certificates must chain to; required unless clientAuth is none. */
  ca: Buffer | null;
  clientAuth: ClientAuth;
}

export interface TlsFiles {
  certLocation: string;
  keyLocation: string;
  keyPassword: string | null;
  caLocation: string | null;
  clientAuth: ClientAuth;
}

export function loadTls(files: TlsFiles): TlsSettings {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
    }
  };
  return {
    cert: read(files.certLocation, "certificate"),
    key: read(files.keyLocation, "private key"),
    passphrase: files.keyPassword,
    ca: files.caLocation ? read(files.caLocation, "CA file") : null,
    clientAuth: files.clientAuth,
  };
}

export function tlsServerOptions(tls: TlsSettings): ServerOptions {
  return {
    cert: tls.cert,
    key: tls.key,
    ...(tls.passphrase ? { passphrase: tls.passphrase } : {}),
    ...(tls.ca ? { ca: tls.ca } : {}),
    minVersion: "TLSv1.2",
    // requested: ask for a certificate and use it when it verifies, but let clients without one
    // (or with an untrusted one) in to try another method; required: no trusted certificate, no handshake.
    requestCert: tls.clientAuth !== "none",
    rejectUnauthorized: tls.clientAuth === "required",
  };
}
