/**
 * A throw-away certificate authority made with `openssl` for the local stack and the tests: a CA,
 * certificates it signs for servers (SAN 127.0.0.1 and localhost) and clients (mutual TLS).
 * Keys are unencrypted PKCS#8, which both Kafka's PEM keystore and Node read.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "./processes.ts";

export interface CertificateFiles {
  cert: string;
  key: string;
  /** Key and certificate in one file: Kafka's `ssl.keystore.type=PEM` keystore. */
  keystore: string;
}

export interface TestCa {
  dir: string;
  caCert: string;
  caKey: string;
  issue(name: string, options: { cn: string; server?: boolean }): Promise<CertificateFiles>;
}

async function openssl(args: string[]): Promise<void> {
  await runCommand("openssl", args);
}

export async function createTestCa(dir: string, name = "Wharf test CA"): Promise<TestCa> {
  mkdirSync(dir, { recursive: true });
  const caKey = join(dir, "ca.key");
  const caCert = join(dir, "ca.pem");
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", caKey]);
  await openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    caKey,
    "-sha256",
    "-days",
    "30",
    "-subj",
    `/CN=${name}`,
    "-out",
    caCert,
  ]);
  let serial = 1;
  return {
    dir,
    caCert,
    caKey,
    async issue(file, options) {
      const key = join(dir, `${file}.key`);
      const csr = join(dir, `${file}.csr`);
      const cert = join(dir, `${file}.pem`);
      const ext = join(dir, `${file}.ext`);
      writeFileSync(
        ext,
        options.server
          ? "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
          : "extendedKeyUsage=clientAuth\n",
      );
      await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
      await openssl(["req", "-new", "-key", key, "-subj", `/O=Wharf/CN=${options.cn}`, "-out", csr]);
      await openssl([
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        caCert,
        "-CAkey",
        caKey,
        "-set_serial",
        String(++serial),
        "-days",
        "30",
        "-sha256",
        "-extfile",
        ext,
        "-out",
        cert,
      ]);
      const keystore = join(dir, `${file}-keystore.pem`);
      writeFileSync(keystore, `${readFileSync(key, "utf8")}${readFileSync(cert, "utf8")}`);
      return { cert, key, keystore };
    },
  };
}
