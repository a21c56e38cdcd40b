/** A throwaway certificate authority for TLS tests, made with the system's `openssl`. */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** PEM files written by {@link makeTestCa}. */
export interface TestCa {
  /** The CA certificate: what clients trust (`NATS_TLS_CA`). */
  ca: string;
  /** Server certificate for 127.0.0.1 and localhost, signed by the CA. */
  serverCert: string;
  serverKey: string;
  /** Client certificate signed by the CA, for mutual TLS. */
  clientCert: string;
  clientKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * A CA and a server and client certificate signed by it, in `dir` (created).
 * EC P-256 keys, valid one day; the server certificate names 127.0.0.1 and
 * localhost.
 */
export function makeTestCa(dir: string): TestCa {
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => join(dir, name);
  const key = (name: string) =>
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name], dir);
  key("ca-key.pem");
  openssl(
    ["req", "-x509", "-new", "-key", "ca-key.pem", "-out", "ca.pem", "-days", "1"].concat([
      "-subj",
      "/CN=rookery test CA",
    ]),
    dir,
  );
  const sign = (name: string, cn: string, ext: string) => {
    key(`${name}-key.pem`);
    openssl(
      ["req", "-new", "-key", `${name}-key.pem`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`],
      dir,
    );
    openssl(
      ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca-key.pem"]
        .concat(["-CAcreateserial", "-out", `${name}.pem`, "-days", "1"])
        .concat(["-extensions", "v3", "-extfile", writeExt(dir, name, ext)]),
      dir,
    );
  };
  sign(
    "server",
    "127.0.0.1",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
  );
  sign("client", "rookery test client", "extendedKeyUsage=clientAuth");
  return {
    ca: file("ca.pem"),
    serverCert: file("server.pem"),
    serverKey: file("server-key.pem"),
    clientCert: file("client.pem"),
    clientKey: file("client-key.pem"),
  };
}

function writeExt(dir: string, name: string, body: string): string {
  const path = join(dir, `${name}.ext`);
  writeFileSync(path, `[v3]\n${body}\n`);
  return path;
}
