// The certificate authority the egress proxy uses to read HTTPS requests to hosts with header rules (and only
// those): sandboxes trust it, the proxy issues a short-lived certificate per such host. Made with the host's
// openssl on first start and kept beside the secrets key.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { InternalError } from '../errors/hearth-error.js';
import { runHostCommand } from './host-command.js';

const LEAF_VALIDITY_DAYS = 30;

function openssl(args: string[]): Promise<string> {
  return runHostCommand('openssl', args);
}

export interface LeafCertificate {
  key: string;
  cert: string;
}

export class EgressCertificateAuthority {
  private readonly leaves = new Map<string, Promise<LeafCertificate>>();

  private constructor(
    private readonly keyFile: string,
    private readonly certFile: string,
    /** PEM of the CA certificate, added to every sandbox's trust store. */
    readonly certificatePem: string,
  ) {}

  static async open(dir: string): Promise<EgressCertificateAuthority> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const keyFile = path.join(dir, 'egress-ca.key');
    const certFile = path.join(dir, 'egress-ca.crt');
    if (!existsSync(keyFile) || !existsSync(certFile)) {
      await openssl([
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyFile, '-out', certFile, '-days', '3650', '-subj', '/CN=Hearth egress proxy CA',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ]);
      await fs.chmod(keyFile, 0o600);
    }
    return new EgressCertificateAuthority(keyFile, certFile, await fs.readFile(certFile, 'utf8'));
  }

  /** A certificate for `host` signed by this CA (made once per host while the server runs). */
  leafFor(host: string): Promise<LeafCertificate> {
    let leaf = this.leaves.get(host);
    if (!leaf) {
      leaf = this.issue(host);
      leaf.catch(() => this.leaves.delete(host));
      this.leaves.set(host, leaf);
    }
    return leaf;
  }

  private async issue(host: string): Promise<LeafCertificate> {
    if (!/^[a-z0-9.-]{1,253}$/.test(host)) throw new InternalError(`refusing to issue a certificate for "${host}"`);
    const pem = await openssl([
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', '-',
      '-CA', this.certFile, '-CAkey', this.keyFile, '-subj', `/CN=${host}`,
      '-addext', `subjectAltName=DNS:${host}`, '-addext', 'basicConstraints=CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth',
      '-days', String(LEAF_VALIDITY_DAYS),
    ]);
    const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/.exec(pem)?.[0];
    const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(pem)?.[0];
    if (!key || !cert) throw new InternalError(`openssl returned no certificate for ${host}`);
    return { key, cert: `${cert}${this.certificatePem}` };
  }
}
