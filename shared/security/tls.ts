/**
 * A development certificate authority made with openssl, and the nats-server
 * `tls` block that uses it. Not for production: there, certificates come from
 * the deployment's own CA.
 *
 *   ca.pem, ca-key.pem           the dev CA (ten years)
 *   server.pem, server-key.pem   nats-server's certificate (localhost, 127.0.0.1, ::1)
 *   clients/<user>.pem, -key.pem client certificates, for servers that verify clients
 */
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The files of a TLS listener. */
export type TlsFiles = { caFile: string; certFile: string; keyFile: string };

export type DevCertificateOptions = {
  /** Names the server certificate is valid for (default localhost, 127.0.0.1, ::1). */
  hosts?: string[];
};

/**
 * Creates the CA and the server certificate under `dir` unless they exist.
 *
 * @example
 * const tls = ensureDevCertificates(".data/nats/tls");
 * const text = renderTls(tls, { verifyClients: false });
 */
export function ensureDevCertificates(dir: string, options: DevCertificateOptions = {}): TlsFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, "ca.pem");
  const caKey = join(dir, "ca-key.pem");
  if (!existsSync(caFile) || !existsSync(caKey)) {
    openssl([
      "req",
      "-x509",
      ...ecKey(caKey),
      "-out",
      caFile,
      "-days",
      "3650",
      "-subj",
      "/CN=Runnerly dev CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
  }
  const certFile = join(dir, "server.pem");
  const keyFile = join(dir, "server-key.pem");
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const hosts = options.hosts ?? ["localhost", "127.0.0.1", "::1"];
    const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(",");
    issue(dir, { cn: hosts[0] ?? "localhost", certFile, keyFile, usage: "serverAuth", san });
  }
  return { caFile, certFile, keyFile };
}

/**
 * A client certificate for `user` signed by the dev CA in `dir` (made once).
 * Returns its certificate and key files.
 *
 * @example
 * const { certFile, keyFile } = ensureClientCertificate(".data/nats/tls", "runs");
 */
export function ensureClientCertificate(dir: string, user: string): { certFile: string; keyFile: string } {
  const clients = join(dir, "clients");
  mkdirSync(clients, { recursive: true, mode: 0o700 });
  const certFile = join(clients, `${user}.pem`);
  const keyFile = join(clients, `${user}-key.pem`);
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    issue(dir, { cn: user, certFile, keyFile, usage: "clientAuth" });
  }
  return { certFile, keyFile };
}

/**
 * The nats-server `tls` block. With it the server requires TLS of every
 * client (a plaintext CONNECT is refused); `verifyClients` also requires a
 * client certificate signed by the CA.
 *
 * @example
 * renderTls({ caFile, certFile, keyFile }, { verifyClients: true });
 */
export function renderTls(files: TlsFiles, options: { verifyClients?: boolean } = {}): string {
  const block = {
    cert_file: files.certFile,
    key_file: files.keyFile,
    ca_file: files.caFile,
    verify: options.verifyClients === true,
    // Seconds for the handshake; the 0.5 s default is tight for a busy test machine.
    timeout: 5,
  };
  return `tls ${JSON.stringify(block, null, 2)}\n`;
}

/** Signs a new P-256 key's certificate with the CA in `dir`. */
function issue(
  dir: string,
  o: { cn: string; certFile: string; keyFile: string; usage: "serverAuth" | "clientAuth"; san?: string },
): void {
  const csr = `${o.certFile}.csr`;
  const ext = `${o.certFile}.ext`;
  const lines = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${o.usage}`,
    ...(o.san ? [`subjectAltName=${o.san}`] : []),
  ];
  writeFileSync(ext, `${lines.join("\n")}\n`);
  try {
    openssl(["req", "-new", ...ecKey(o.keyFile), "-out", csr, "-subj", `/CN=${o.cn}`]);
    openssl([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      join(dir, "ca.pem"),
      "-CAkey",
      join(dir, "ca-key.pem"),
      "-CAcreateserial",
      "-out",
      o.certFile,
      "-days",
      "825",
      "-extfile",
      ext,
    ]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
}

/** Arguments for a new unencrypted P-256 key written to `keyFile` (openssl makes it 0600; `openssl()` makes sure). */
const ecKey = (keyFile: string) => [
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:P-256",
  "-nodes",
  "-keyout",
  keyFile,
];

function openssl(args: string[]): void {
  const run = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) {
    throw new Error(`openssl ${args[0]} failed (${run.exitCode}): ${run.stderr.toString().trim()}`);
  }
  const keyFile = args[args.indexOf("-keyout") + 1];
  if (args.includes("-keyout") && keyFile) chmodSync(keyFile, 0o600);
}
