# SPDX-License-Identifier: Apache-2.0
"""What every CA transport shares: the answer of a call, the two failure kinds, credentials."""
import dataclasses
import stat
import os

from . import adcs


@dataclasses.dataclass(frozen=True)
class CaAnswer:
    """One answer of CertServerRequest / ICertRequestD::Request, as it came over the wire."""
    return_code: int          # the call's DWORD / HRESULT result
    request_id: int
    disposition: int          # 0-6, or a failure HRESULT
    cert_chain: bytes         # pctbCert / pctbCertChain: PKCS#7 with the chain
    encoded_cert: bytes       # pctbEncodedCert: the issued certificate, DER
    message: str              # pctbDispositionMessage


class CaUnreachable(Exception):
    """The call did not reach the CA (connect, bind or authentication failed): safe to retry."""


class OutcomeUnknown(Exception):
    """The request went out but no answer came back: the CA may or may not have it."""


@dataclasses.dataclass(frozen=True)
class Credentials:
    """How the bridge authenticates to the CA. Never logged (no __repr__ of secrets)."""
    auth: str                 # ntlm | kerberos | none
    domain: str = ""
    username: str = ""
    password: str = dataclasses.field(default="", repr=False)
    nthash: str = dataclasses.field(default="", repr=False)
    aes_key: str = dataclasses.field(default="", repr=False)

    def apply(self, rpc_transport) -> None:
        """Puts the credentials on an impacket transport (before get_dce_rpc)."""
        if self.auth == "none" or not hasattr(rpc_transport, "set_credentials"):
            return
        rpc_transport.set_credentials(self.username, self.password, self.domain, "", self.nthash, self.aes_key)
        rpc_transport.set_kerberos(self.auth == "kerberos")

    def secure(self, dce) -> None:
        """Packet privacy (sealing) on every authenticated call: the CA may enforce it
        (IF_ENFORCEENCRYPTICERTREQUEST), and it keeps NTLM relay out."""
        from impacket.dcerpc.v5.rpcrt import RPC_C_AUTHN_GSS_NEGOTIATE, RPC_C_AUTHN_LEVEL_PKT_PRIVACY
        if self.auth == "none":
            return
        dce.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
        if self.auth == "kerberos":
            dce.set_auth_type(RPC_C_AUTHN_GSS_NEGOTIATE)


def read_secret_file(path: str) -> str:
    """The first line of a file that only its owner may read."""
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionError("%s is readable by group or others (chmod 600)" % path)
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n")


def credentials_from_keytab(path: str, username: str, domain: str) -> Credentials:
    """Kerberos keys for username@DOMAIN from a keytab (AES preferred, else RC4)."""
    from impacket.krb5.keytab import Enctype, Keytab
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionError("%s is readable by group or others (chmod 600)" % path)
    keytab = Keytab.loadFile(path)
    for enctype in (Enctype.AES256, Enctype.AES128, Enctype.RC4):
        key = keytab.getKey("%s@%s" % (username, domain.upper()), specificEncType=enctype.value)
        if key is None:
            continue
        if enctype is Enctype.RC4:
            return Credentials("kerberos", domain, username, nthash=key.hexlifiedValue().decode("ascii"))
        return Credentials("kerberos", domain, username, aes_key=key.hexlifiedValue().decode("ascii"))
    raise LookupError("no key for %s@%s in %s" % (username, domain.upper(), path))


def describe_return(code: int) -> str:
    return "the CA answered %s" % adcs.hresult_text(code)
