//! Signing and verification keys.
//!
//! Private keys are read in cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` format
//! (and its legacy `ENCRYPTED COSIGN PRIVATE KEY` label), as encrypted PKCS#8
//! (`ENCRYPTED PRIVATE KEY`), and as plain PKCS#8 (`PRIVATE KEY`) or SEC1
//! (`EC PRIVATE KEY`) PEM. mlprov signs with ECDSA P-256 or P-384.
//!
//! The cosign format is a PEM block around a JSON document: scrypt derives a
//! 32-byte key from the password and a random salt, and NaCl secretbox
//! (XSalsa20-Poly1305) seals the PKCS#8 DER with a random 24-byte nonce.
//! `keygen` writes scrypt N = 65536, r = 8, p = 1; N = 32768 (what older
//! cosign and the sigstore crate write) is read too. sigstore's own reader
//! reports every failure as "unsupported key type" and runs scrypt once per
//! key type it tries, so mlprov opens the box itself and hands the PKCS#8 to
//! sigstore's key types.
//!
//! Public keys are PKIX (`PUBLIC KEY`) PEM: ECDSA P-256, P-384, P-521 and
//! Ed25519. Signatures are checked with sigstore's `CosignVerificationKey`.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{ID_EC_PUBLIC_KEY, SECP_256_R_1, SECP_384_R_1, SECP_521_R_1};
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use serde::{Deserialize, Serialize};
use sigstore::crypto::signing_key::SigStoreSigner;
use sigstore::crypto::signing_key::ecdsa::ECDSAKeys;
use sigstore::crypto::{CosignVerificationKey, Signature, SigningScheme};
use zeroize::Zeroizing;

use crate::digest::Sha256Digest;

/// PEM label of the private key `mlprov keygen` and `cosign generate-key-pair` write.
pub const SIGSTORE_PRIVATE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The label older cosign versions wrote; same content.
pub const COSIGN_PRIVATE_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
const PKCS8_LABEL: &str = "PRIVATE KEY";
const PKCS8_ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";
const SEC1_LABEL: &str = "EC PRIVATE KEY";
const PUBLIC_LABEL: &str = "PUBLIC KEY";

/// scrypt cost written by `keygen` (log2 N = 16).
pub const SCRYPT_N: u32 = 65536;
/// The other cost accepted on read (cosign's older default).
const SCRYPT_N_LEGACY: u32 = 32768;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const KDF_NAME: &str = "scrypt";
const CIPHER_NAME: &str = "nacl/secretbox";

/// Ed25519 (RFC 8410).
const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SECP_256_K_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");

/// A key algorithm mlprov can verify (and, for the ECDSA P-256/P-384 ones, sign with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyAlgorithm {
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    Ed25519,
}

impl KeyAlgorithm {
    /// A short name for people: `ECDSA P-256`.
    pub fn name(self) -> &'static str {
        match self {
            Self::EcdsaP256 => "ECDSA P-256",
            Self::EcdsaP384 => "ECDSA P-384",
            Self::EcdsaP521 => "ECDSA P-521",
            Self::Ed25519 => "Ed25519",
        }
    }

    /// A stable identifier for JSON output: `ecdsa-p256`.
    pub fn id(self) -> &'static str {
        match self {
            Self::EcdsaP256 => "ecdsa-p256",
            Self::EcdsaP384 => "ecdsa-p384",
            Self::EcdsaP521 => "ecdsa-p521",
            Self::Ed25519 => "ed25519",
        }
    }

    fn scheme(self) -> SigningScheme {
        match self {
            Self::EcdsaP256 => SigningScheme::ECDSA_P256_SHA256_ASN1,
            Self::EcdsaP384 => SigningScheme::ECDSA_P384_SHA384_ASN1,
            Self::EcdsaP521 => SigningScheme::ECDSA_P521_SHA512_ASN1,
            Self::Ed25519 => SigningScheme::ED25519,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a key could not be used. Each kind has its own diagnostic code.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum KeyError {
    #[error("cannot read key {path}: {source}")]
    #[diagnostic(code(mlprov::key::io))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: wrong password for this encrypted private key")]
    #[diagnostic(
        code("mlprov::key::wrong-password"),
        help("set MLPROV_PASSWORD (or COSIGN_PASSWORD) to the password the key was created with")
    )]
    WrongPassword { path: String },

    #[error("{path}: the private key is encrypted and no password is available")]
    #[diagnostic(
        code("mlprov::key::no-password"),
        help("set MLPROV_PASSWORD or COSIGN_PASSWORD, or run on a terminal to be prompted")
    )]
    NoPassword { path: String },

    #[error("{path}: cannot read the password: {reason}")]
    #[diagnostic(code(mlprov::key::prompt))]
    Prompt { path: String, reason: String },

    #[error("{path}: not a usable key file: {reason}")]
    #[diagnostic(
        code(mlprov::key::malformed),
        help(
            "the file is damaged, truncated or not a PEM key; restore it or make a new pair with `mlprov keygen`"
        )
    )]
    Malformed { path: String, reason: String },

    #[error("{path}: {what} keys are not supported {purpose}")]
    #[diagnostic(
        code(mlprov::key::unsupported),
        help(
            "mlprov signs with ECDSA P-256 or P-384 keys and verifies ECDSA P-256, P-384, P-521 and Ed25519 public keys; `mlprov keygen` makes a P-256 pair"
        )
    )]
    Unsupported {
        path: String,
        what: String,
        purpose: &'static str,
    },

    #[error("{path}: is a {found}, but a {expected} is needed here")]
    #[diagnostic(code("mlprov::key::wrong-kind"))]
    WrongKind {
        path: String,
        found: &'static str,
        expected: &'static str,
        #[help]
        help: Option<String>,
    },

    #[error("{context}: {reason}")]
    #[diagnostic(code(mlprov::key::crypto))]
    Crypto { context: String, reason: String },
}

/// Asks for the password of an encrypted key, only when one is needed.
pub type PasswordFn<'a> = dyn FnMut() -> Result<Zeroizing<String>, KeyError> + 'a;

/// A private key ready to sign.
pub struct SigningKey {
    algorithm: KeyAlgorithm,
    pkcs8: Zeroizing<Vec<u8>>,
    spki: Vec<u8>,
    signer: SigStoreSigner,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Make a new key pair.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, KeyError> {
        let scheme = match algorithm {
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => algorithm.scheme(),
            other => {
                return Err(KeyError::Unsupported {
                    path: "keygen".into(),
                    what: other.name().into(),
                    purpose: "for signing",
                });
            }
        };
        let crypto = |e: sigstore::errors::SigstoreError| KeyError::Crypto {
            context: "generating a key".into(),
            reason: e.to_string(),
        };
        let signer = scheme.create_signer().map_err(crypto)?;
        let pair = signer.to_sigstore_keypair().map_err(crypto)?;
        let der = pair.private_key_to_der().map_err(crypto)?;
        Self::from_pkcs8(der, "keygen")
    }

    /// Read a private key file, asking for a password only if it is encrypted.
    pub fn load(path: &Path, password: &mut PasswordFn<'_>) -> Result<Self, KeyError> {
        let label = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| KeyError::Io {
            path: label.clone(),
            source,
        })?;
        Self::from_pem(&bytes, &label, password)
    }

    /// Parse a private key from PEM text; `label` names it in errors.
    pub fn from_pem(
        bytes: &[u8],
        label: &str,
        password: &mut PasswordFn<'_>,
    ) -> Result<Self, KeyError> {
        let block = parse_pem(bytes, label)?;
        let der: Zeroizing<Vec<u8>> = match block.tag() {
            SIGSTORE_PRIVATE_LABEL | COSIGN_PRIVATE_LABEL => {
                let pw = password()?;
                decrypt_cosign(block.contents(), pw.as_bytes(), label)?
            }
            PKCS8_ENCRYPTED_LABEL => {
                use pkcs8::der::Decode as _;
                let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(block.contents())
                    .map_err(|e| malformed(label, format!("encrypted PKCS#8: {e}")))?;
                let pw = password()?;
                // PBES2 has no integrity check of its own: a wrong password
                // shows up as bad padding or as garbage that is not PKCS#8.
                let doc = info
                    .decrypt(pw.as_bytes())
                    .map_err(|_| KeyError::WrongPassword {
                        path: label.to_string(),
                    })?;
                let der = Zeroizing::new(doc.as_bytes().to_vec());
                if pkcs8::PrivateKeyInfoRef::from_der(&der).is_err() {
                    return Err(KeyError::WrongPassword {
                        path: label.to_string(),
                    });
                }
                der
            }
            PKCS8_LABEL => Zeroizing::new(block.contents().to_vec()),
            SEC1_LABEL => sec1_to_pkcs8(block.contents(), label)?,
            PUBLIC_LABEL => {
                return Err(KeyError::WrongKind {
                    path: label.to_string(),
                    found: "public key",
                    expected: "private key",
                    help: Some(
                        "sign with the private key (cosign.key); the .pub file is for verify"
                            .into(),
                    ),
                });
            }
            "CERTIFICATE" => {
                return Err(KeyError::WrongKind {
                    path: label.to_string(),
                    found: "certificate",
                    expected: "private key",
                    help: None,
                });
            }
            other => {
                return Err(malformed(label, format!("unexpected PEM block `{other}`")));
            }
        };
        Self::from_pkcs8(der, label)
    }

    fn from_pkcs8(der: Zeroizing<Vec<u8>>, label: &str) -> Result<Self, KeyError> {
        use pkcs8::der::Decode as _;
        let info = pkcs8::PrivateKeyInfoRef::from_der(&der)
            .map_err(|e| malformed(label, format!("PKCS#8: {e}")))?;
        let oid = info.algorithm.oid;
        let curve = info
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        let algorithm = classify(oid, curve).map_err(|what| KeyError::Unsupported {
            path: label.to_string(),
            what,
            purpose: "for signing",
        })?;
        if !matches!(algorithm, KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384) {
            return Err(KeyError::Unsupported {
                path: label.to_string(),
                what: algorithm.name().to_string(),
                purpose: "for signing (model_signing and cosign verify ECDSA P-256/P-384)",
            });
        }
        let keys = ECDSAKeys::from_der(&der).map_err(|e| malformed(label, e.to_string()))?;
        let spki = keys
            .as_inner()
            .public_key_to_der()
            .map_err(|e| malformed(label, e.to_string()))?;
        let signer = keys
            .to_sigstore_signer()
            .map_err(|e| malformed(label, e.to_string()))?;
        Ok(Self {
            algorithm,
            pkcs8: der,
            spki,
            signer,
        })
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// Sign `msg` (the hash is the curve's: SHA-256 for P-256, SHA-384 for
    /// P-384). Returns an ASN.1 DER signature.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.signer.sign(msg).map_err(|e| KeyError::Crypto {
            context: "signing".into(),
            reason: e.to_string(),
        })
    }

    /// The matching public key.
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        PublicKey::from_spki_der(&self.spki, "signing key")
    }

    /// The private key as cosign's encrypted PEM (scrypt N = 65536).
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<Zeroizing<String>, KeyError> {
        encrypt_cosign(&self.pkcs8, password)
    }

    /// The private key as plain, unencrypted PKCS#8 PEM.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(pem_lf(PKCS8_LABEL, &self.pkcs8))
    }
}

/// A public key trusted to verify signatures.
#[derive(Clone)]
pub struct PublicKey {
    /// Where it came from (a path), for reports.
    pub label: String,
    pub algorithm: KeyAlgorithm,
    spki: Vec<u8>,
    key: CosignVerificationKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("label", &self.label)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// Read a PKIX PEM public key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let label = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| KeyError::Io {
            path: label.clone(),
            source,
        })?;
        Self::from_pem(&bytes, &label)
    }

    pub fn from_pem(bytes: &[u8], label: &str) -> Result<Self, KeyError> {
        let block = parse_pem(bytes, label)?;
        match block.tag() {
            PUBLIC_LABEL => Self::from_spki_der(block.contents(), label),
            "CERTIFICATE" => Err(KeyError::WrongKind {
                path: label.to_string(),
                found: "certificate",
                expected: "public key",
                help: Some("pass certificate roots with --certificate-chain".into()),
            }),
            t if t.contains("PRIVATE KEY") => Err(KeyError::WrongKind {
                path: label.to_string(),
                found: "private key",
                expected: "public key",
                help: Some(
                    "verify with the public half (cosign.pub); never share the private key".into(),
                ),
            }),
            other => Err(malformed(label, format!("unexpected PEM block `{other}`"))),
        }
    }

    /// From DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8], label: &str) -> Result<Self, KeyError> {
        use x509_cert::der::Decode as _;
        let spki = x509_cert::spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| malformed(label, format!("SubjectPublicKeyInfo: {e}")))?;
        let curve = spki
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        let algorithm =
            classify(spki.algorithm.oid, curve).map_err(|what| KeyError::Unsupported {
                path: label.to_string(),
                what,
                purpose: "for verification",
            })?;
        if spki.subject_public_key.raw_bytes().is_empty() {
            return Err(malformed(label, "empty public key".into()));
        }
        let key = CosignVerificationKey::from_der(der, &algorithm.scheme())
            .map_err(|e| malformed(label, e.to_string()))?;
        Ok(Self {
            label: label.to_string(),
            algorithm,
            spki: der.to_vec(),
            key,
        })
    }

    /// DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The PEM form, with LF line endings and 64-column lines (what cosign,
    /// Python's `cryptography` and `keygen` write).
    pub fn to_pem(&self) -> String {
        pem_lf(PUBLIC_LABEL, &self.spki)
    }

    /// The key hint model_signing puts in a bundle: hex SHA-256 of the PEM.
    pub fn hint(&self) -> String {
        Sha256Digest::of(self.to_pem().as_bytes()).hex()
    }

    /// SHA-256 of the DER public key, for display.
    pub fn fingerprint(&self) -> Sha256Digest {
        Sha256Digest::of(&self.spki)
    }

    /// Does a bundle's key hint name this key? Hex or base64 of the SHA-256
    /// of the PEM (model_signing) or of the DER form are accepted.
    pub fn matches_hint(&self, hint: &str) -> bool {
        let hint = hint.trim();
        let pem = Sha256Digest::of(self.to_pem().as_bytes());
        let der = self.fingerprint();
        [pem, der].iter().any(|d| {
            hint.eq_ignore_ascii_case(&d.hex())
                || crate::sign::dsse::decode_base64(hint).is_some_and(|b| b == d.0)
        })
    }

    /// Does `sig` (ASN.1 DER for ECDSA, raw for Ed25519) verify over `msg`?
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.key.verify_signature(Signature::Raw(sig), msg).is_ok()
    }
}

/// Which supported algorithm a key's AlgorithmIdentifier names; otherwise a
/// description of what it is.
fn classify(
    oid: ObjectIdentifier,
    curve: Option<ObjectIdentifier>,
) -> Result<KeyAlgorithm, String> {
    if oid == ID_EC_PUBLIC_KEY {
        return match curve {
            Some(SECP_256_R_1) => Ok(KeyAlgorithm::EcdsaP256),
            Some(SECP_384_R_1) => Ok(KeyAlgorithm::EcdsaP384),
            Some(SECP_521_R_1) => Ok(KeyAlgorithm::EcdsaP521),
            Some(SECP_256_K_1) => Err("ECDSA secp256k1 (curve 1.3.132.0.10)".into()),
            Some(other) => Err(format!("ECDSA on curve {other}")),
            None => Err("ECDSA without a named curve".into()),
        };
    }
    if oid == ID_ED25519 {
        return Ok(KeyAlgorithm::Ed25519);
    }
    if oid == RSA_ENCRYPTION {
        return Err("RSA".into());
    }
    Err(format!("algorithm {oid}"))
}

fn malformed(label: &str, reason: String) -> KeyError {
    KeyError::Malformed {
        path: label.to_string(),
        reason,
    }
}

fn parse_pem(bytes: &[u8], label: &str) -> Result<pem::Pem, KeyError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(malformed(label, "the file is empty".into()));
    }
    pem::parse(bytes).map_err(|e| {
        let reason = match e {
            pem::PemError::MalformedFraming
            | pem::PemError::MissingEndTag
            | pem::PemError::MissingData => {
                "PEM framing is incomplete (is the file truncated?)".to_string()
            }
            pem::PemError::MissingBeginTag => "no `-----BEGIN …-----` line".to_string(),
            other => format!("PEM: {other}"),
        };
        malformed(label, reason)
    })
}

/// PEM with LF line endings and 64-column lines.
pub fn pem_lf(label: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// Convert an RFC 5915 (SEC1) EC private key to PKCS#8.
fn sec1_to_pkcs8(der: &[u8], label: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair,
    };
    for alg in [
        &ECDSA_P256_SHA256_ASN1_SIGNING,
        &ECDSA_P384_SHA384_ASN1_SIGNING,
    ] {
        if let Ok(kp) = EcdsaKeyPair::from_private_key_der(alg, der)
            && let Ok(doc) = kp.to_pkcs8v1()
        {
            return Ok(Zeroizing::new(doc.as_ref().to_vec()));
        }
    }
    Err(KeyError::Unsupported {
        path: label.to_string(),
        what: "this SEC1 EC private key (not P-256 or P-384, or damaged)".into(),
        purpose: "for signing",
    })
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u32,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn scrypt_key(password: &[u8], salt: &[u8], n: u32) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let crypto = |reason: String| KeyError::Crypto {
        context: "scrypt".into(),
        reason,
    };
    let params = scrypt::Params::new(n.trailing_zeros() as u8, SCRYPT_R, SCRYPT_P)
        .map_err(|e| crypto(e.to_string()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, &params, key.as_mut_slice())
        .map_err(|e| crypto(e.to_string()))?;
    Ok(key)
}

/// Seal PKCS#8 DER in cosign's encrypted PEM format.
pub fn encrypt_cosign(pkcs8: &[u8], password: &[u8]) -> Result<Zeroizing<String>, KeyError> {
    let crypto = |reason: String| KeyError::Crypto {
        context: "encrypting the private key".into(),
        reason,
    };
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut salt).map_err(|e| crypto(e.to_string()))?;
    aws_lc_rs::rand::fill(&mut nonce).map_err(|e| crypto(e.to_string()))?;
    let key = scrypt_key(password, &salt, SCRYPT_N)?;
    let cipher = XSalsa20Poly1305::new(crypto_secretbox::Key::from_slice(key.as_slice()));
    let ciphertext = cipher
        .encrypt(crypto_secretbox::Nonce::from_slice(&nonce), pkcs8)
        .map_err(|e| crypto(e.to_string()))?;
    let sealed = Sealed {
        kdf: Kdf {
            name: KDF_NAME.into(),
            params: KdfParams {
                n: SCRYPT_N,
                r: SCRYPT_R,
                p: SCRYPT_P,
            },
            salt: B64.encode(salt),
        },
        cipher: Cipher {
            name: CIPHER_NAME.into(),
            nonce: B64.encode(nonce),
        },
        ciphertext: B64.encode(ciphertext),
    };
    let json = serde_json::to_vec(&sealed).map_err(|e| crypto(e.to_string()))?;
    Ok(Zeroizing::new(pem_lf(SIGSTORE_PRIVATE_LABEL, &json)))
}

/// Open cosign's sealed JSON (the PEM contents) with `password`.
pub fn decrypt_cosign(
    contents: &[u8],
    password: &[u8],
    label: &str,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let sealed: Sealed = serde_json::from_slice(contents)
        .map_err(|e| malformed(label, format!("encrypted key document: {e}")))?;
    if sealed.kdf.name != KDF_NAME {
        return Err(malformed(
            label,
            format!("unknown KDF `{}`", sealed.kdf.name),
        ));
    }
    if sealed.cipher.name != CIPHER_NAME {
        return Err(malformed(
            label,
            format!("unknown cipher `{}`", sealed.cipher.name),
        ));
    }
    let KdfParams { n, r, p } = sealed.kdf.params;
    // Fixed costs only: a key file must not be able to make mlprov spend
    // gigabytes of memory or minutes of CPU.
    if !(n == SCRYPT_N || n == SCRYPT_N_LEGACY) || r != SCRYPT_R || p != SCRYPT_P {
        return Err(malformed(
            label,
            format!("unexpected scrypt parameters N={n}, r={r}, p={p}"),
        ));
    }
    let b64 = |what: &str, s: &str| {
        B64.decode(s)
            .map_err(|e| malformed(label, format!("{what} is not base64: {e}")))
    };
    let salt = b64("salt", &sealed.kdf.salt)?;
    let nonce = b64("nonce", &sealed.cipher.nonce)?;
    let ciphertext = b64("ciphertext", &sealed.ciphertext)?;
    if nonce.len() != NONCE_LEN {
        return Err(malformed(
            label,
            format!("nonce is {} bytes, not 24", nonce.len()),
        ));
    }
    let key = scrypt_key(password, &salt, n)?;
    let cipher = XSalsa20Poly1305::new(crypto_secretbox::Key::from_slice(key.as_slice()));
    let plain = cipher
        .decrypt(
            crypto_secretbox::Nonce::from_slice(&nonce),
            ciphertext.as_slice(),
        )
        .map_err(|_| KeyError::WrongPassword {
            path: label.to_string(),
        })?;
    Ok(Zeroizing::new(plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &'static str) -> impl FnMut() -> Result<Zeroizing<String>, KeyError> {
        move || Ok(Zeroizing::new(s.to_string()))
    }

    #[test]
    fn encrypted_roundtrip_and_sigstore_reads_it() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let pem = key.to_encrypted_pem(b"hunter2").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let doc: serde_json::Value =
            serde_json::from_slice(pem::parse(pem.as_bytes()).unwrap().contents()).unwrap();
        assert_eq!(
            doc["kdf"]["params"],
            serde_json::json!({"N": 65536, "r": 8, "p": 1})
        );
        assert_eq!(doc["cipher"]["name"], "nacl/secretbox");
        // An independent reader (the sigstore crate) opens it.
        let pair = sigstore::crypto::signing_key::SigStoreKeyPair::from_encrypted_pem(
            pem.as_bytes(),
            b"hunter2",
        )
        .unwrap();
        assert_eq!(pair.public_key_to_der().unwrap(), key.spki);
        let back = SigningKey::from_pem(pem.as_bytes(), "k", &mut pw("hunter2")).unwrap();
        let sig = back.sign(b"msg").unwrap();
        assert!(key.public_key().unwrap().verify(b"msg", &sig));
        assert!(!key.public_key().unwrap().verify(b"other", &sig));
    }

    #[test]
    fn wrong_password_is_its_own_error() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let pem = key.to_encrypted_pem(b"right").unwrap();
        let err = SigningKey::from_pem(pem.as_bytes(), "k", &mut pw("wrong")).unwrap_err();
        assert!(matches!(err, KeyError::WrongPassword { .. }), "{err:?}");
    }

    #[test]
    fn truncated_key_is_malformed() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let pem = key.to_encrypted_pem(b"pw").unwrap();
        let cut = &pem.as_bytes()[..pem.len() / 2];
        let err = SigningKey::from_pem(cut, "k", &mut pw("pw")).unwrap_err();
        assert!(matches!(err, KeyError::Malformed { .. }), "{err:?}");
        let err = SigningKey::from_pem(b"", "k", &mut pw("pw")).unwrap_err();
        assert!(matches!(err, KeyError::Malformed { .. }), "{err:?}");
    }

    #[test]
    fn plain_pkcs8_and_sec1_and_p384() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP384).unwrap();
        let plain = key.to_pkcs8_pem();
        let mut never = || -> Result<Zeroizing<String>, KeyError> { panic!("no password needed") };
        let back = SigningKey::from_pem(plain.as_bytes(), "k", &mut never).unwrap();
        assert_eq!(back.algorithm(), KeyAlgorithm::EcdsaP384);
        // SEC1 form of the same key, made with aws-lc-rs.
        use aws_lc_rs::encoding::AsDer as _;
        use aws_lc_rs::signature::{ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair};
        let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, &key.pkcs8).unwrap();
        let sec1 = kp.private_key().as_der().unwrap();
        let sec1_pem = pem_lf("EC PRIVATE KEY", sec1.as_ref());
        let back = SigningKey::from_pem(sec1_pem.as_bytes(), "k", &mut never).unwrap();
        assert_eq!(back.spki, key.spki);
    }

    #[test]
    fn public_key_hint_matches_model_signing_form() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let public = key.public_key().unwrap();
        let pem = public.to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(public.matches_hint(&public.hint()));
        assert!(public.matches_hint(&B64.encode(Sha256Digest::of(pem.as_bytes()).0)));
        assert!(!public.matches_hint(&Sha256Digest::of(b"x").hex()));
        let reread = PublicKey::from_pem(pem.as_bytes(), "p").unwrap();
        assert_eq!(reread.hint(), public.hint());
    }

    #[test]
    fn secp256k1_public_key_is_unsupported() {
        // SPKI of a secp256k1 key (generator point), built by hand.
        let mut der = hex::decode("3056301006072a8648ce3d020106052b8104000a034200").unwrap();
        der.extend(hex::decode("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8").unwrap());
        let err = PublicKey::from_spki_der(&der, "k1.pub").unwrap_err();
        assert!(matches!(err, KeyError::Unsupported { .. }), "{err:?}");
        assert!(err.to_string().contains("secp256k1"), "{err}");
    }
}
