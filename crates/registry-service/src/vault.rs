//! Personal-data protection: keyed hashes (HMAC-SHA-256) to find a subject by identifier
//! without storing it, sealing (AES-256-GCM) to show it again, and a streaming seal (STREAM,
//! over AES-256-GCM) for archived files. All primitives are RustCrypto's; nothing here is a
//! cipher of our own.

use std::fmt;
use std::io::{self, BufRead, Read, Write};

use aead_stream::{DecryptorBE32, EncryptorBE32};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use registry_core::model::IdType;
use registry_store::KeyedHash;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Length of every key, in bytes.
pub const KEY_BYTES: usize = 32;

/// A 256-bit secret. `Debug` shows nothing; serialises as base64.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_BYTES]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> io::Result<SecretKey> {
        let mut bytes = [0u8; KEY_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
        Ok(SecretKey(bytes))
    }

    pub fn from_base64(text: &str) -> Result<SecretKey, String> {
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| "a key is 32 bytes written in base64".to_string())?;
        let bytes: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| "a key is 32 bytes written in base64".to_string())?;
        Ok(SecretKey(bytes))
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

impl Serialize for SecretKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for SecretKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        SecretKey::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

/// The registry's keys: one for look-up hashes, one for sealing. The same keys must be used
/// for the life of a registry (and by every server of it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keys {
    pub identifier_hash_key: SecretKey,
    pub data_encryption_key: SecretKey,
    /// The Ed25519 seed that signs the access log's tree heads. Optional in files written
    /// before the log existed: an embedded registry adds one to its keys file on opening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_signing_key: Option<SecretKey>,
}

impl Keys {
    pub fn generate() -> io::Result<Keys> {
        Ok(Keys {
            identifier_hash_key: SecretKey::generate()?,
            data_encryption_key: SecretKey::generate()?,
            log_signing_key: Some(SecretKey::generate()?),
        })
    }
}

/// What a sealed blob is for: bound in as associated data, so a blob copied into another
/// column does not open.
#[derive(Clone, Copy, Debug)]
pub enum Purpose {
    Identifier,
    Identity,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Identifier => b"credit-registry identifier v1",
            Purpose::Identity => b"credit-registry identity v1",
        }
    }
}

/// A sealed blob: version byte, 96-bit random nonce, ciphertext and tag.
const SEAL_VERSION: u8 = 1;
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error)]
#[error("a sealed value could not be opened: wrong key or damaged data")]
pub struct OpenError;

pub struct Vault {
    hasher: HmacSha256,
    cipher: Aes256Gcm,
    archive_key: SecretKey,
}

impl Vault {
    pub fn new(keys: &Keys) -> Vault {
        // Sealing and archiving use separate subkeys of the data key (HMAC-SHA-256 as the
        // pseudo-random function of a KDF, NIST SP 800-108), so their nonces never meet.
        let seal_key = derive(&keys.data_encryption_key, b"credit-registry seal key v1");
        Vault {
            hasher: <HmacSha256 as hmac::KeyInit>::new_from_slice(keys.identifier_hash_key.as_bytes())
                .expect("HMAC takes keys of any length"),
            cipher: Aes256Gcm::new(seal_key.as_bytes().into()),
            archive_key: derive(&keys.data_encryption_key, b"credit-registry archive key v1"),
        }
    }

    fn keyed_hash(&self, parts: &[&[u8]]) -> KeyedHash {
        // A fresh copy of the keyed state per hash: the key schedule is computed once.
        let mut mac = self.hasher.clone();
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// Look-up hash of a national identifier.
    pub fn id_hash(&self, id_type: IdType, id: &str) -> KeyedHash {
        self.keyed_hash(&[b"identifier", id_type.as_str().as_bytes(), id.as_bytes()])
    }

    /// Deduplication hash of an identity's canonical bytes.
    pub fn identity_hash(&self, canonical: &[u8]) -> KeyedHash {
        self.keyed_hash(&[b"identity", canonical])
    }

    /// Shows whether two vaults have the same keys, without revealing them.
    pub fn fingerprint(&self) -> String {
        let tag = self.keyed_hash(&[b"fingerprint"]);
        let sealed_tag = derive(&self.archive_key, b"fingerprint");
        format!("{}:{}", hex::encode(&tag[..8]), hex::encode(&sealed_tag.as_bytes()[..8]))
    }

    pub fn seal(&self, purpose: Purpose, plaintext: &[u8], rng: &mut NonceSource) -> Vec<u8> {
        let nonce_bytes = rng.next_nonce();
        let nonce = Nonce::from(nonce_bytes);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, Payload { msg: plaintext, aad: purpose.label() })
            .expect("AES-GCM encrypts any message under 64 GiB");
        let mut sealed = Vec::with_capacity(1 + NONCE_BYTES + ciphertext.len());
        sealed.push(SEAL_VERSION);
        sealed.extend_from_slice(&nonce_bytes);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    pub fn open(&self, purpose: Purpose, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < 1 + NONCE_BYTES || sealed[0] != SEAL_VERSION {
            return Err(OpenError);
        }
        let nonce_bytes: [u8; NONCE_BYTES] = sealed[1..=NONCE_BYTES].try_into().map_err(|_| OpenError)?;
        self.cipher
            .decrypt(&Nonce::from(nonce_bytes), Payload { msg: &sealed[1 + NONCE_BYTES..], aad: purpose.label() })
            .map_err(|_| OpenError)
    }

    /// Wraps `out` so that everything written to it is stored encrypted (see `ArchiveWriter`).
    pub fn archive_writer<W: Write>(&self, out: W, rng: &mut NonceSource) -> io::Result<ArchiveWriter<W>> {
        ArchiveWriter::new(out, &self.archive_key, rng)
    }

    pub fn archive_reader<R: BufRead>(&self, input: R) -> io::Result<ArchiveReader<R>> {
        ArchiveReader::new(input, &self.archive_key)
    }
}

fn derive(key: &SecretKey, label: &[u8]) -> SecretKey {
    let mut mac = <HmacSha256 as hmac::KeyInit>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(label);
    SecretKey(mac.finalize().into_bytes().into())
}

/// Nonces for sealing: a ChaCha20 stream seeded from the operating system, so that sealing
/// millions of values does not cost a system call each.
pub struct NonceSource(ChaCha20Rng);

impl NonceSource {
    pub fn new() -> io::Result<NonceSource> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
        Ok(NonceSource(ChaCha20Rng::from_seed(seed)))
    }

    pub fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    fn next_nonce(&mut self) -> [u8; NONCE_BYTES] {
        let mut nonce = [0u8; NONCE_BYTES];
        self.0.fill_bytes(&mut nonce);
        nonce
    }
}

/// File header of an archived submission, then a 7-byte STREAM nonce prefix.
const ARCHIVE_MAGIC: &[u8; 8] = b"CRARCH1\n";
const ARCHIVE_NONCE_PREFIX_BYTES: usize = 7;
/// Plaintext bytes per encrypted chunk; each chunk carries a 16-byte tag.
const ARCHIVE_CHUNK_BYTES: usize = 64 * 1024;
const TAG_BYTES: usize = 16;
const ARCHIVE_AAD: &[u8] = b"credit-registry archive v1";

/// Encrypts a stream in 64 KiB chunks with the STREAM construction (each chunk authenticated,
/// truncation and reordering detected). Call `finish` to write the final chunk.
pub struct ArchiveWriter<W: Write> {
    out: W,
    encryptor: Option<EncryptorBE32<Aes256Gcm>>,
    buffer: Vec<u8>,
}

impl<W: Write> ArchiveWriter<W> {
    fn new(mut out: W, key: &SecretKey, rng: &mut NonceSource) -> io::Result<ArchiveWriter<W>> {
        let mut prefix = [0u8; ARCHIVE_NONCE_PREFIX_BYTES];
        rng.0.fill_bytes(&mut prefix);
        out.write_all(ARCHIVE_MAGIC)?;
        out.write_all(&prefix)?;
        let cipher = Aes256Gcm::new(key.as_bytes().into());
        let encryptor = EncryptorBE32::from_aead(cipher, &prefix.into());
        Ok(ArchiveWriter { out, encryptor: Some(encryptor), buffer: Vec::with_capacity(ARCHIVE_CHUNK_BYTES + TAG_BYTES) })
    }

    fn seal_chunk(&mut self) -> io::Result<()> {
        let encryptor = self.encryptor.as_mut().ok_or_else(|| io::Error::other("archive already finished"))?;
        encryptor.encrypt_next_in_place(ARCHIVE_AAD, &mut self.buffer).map_err(|_| io::Error::other("archive encryption failed"))?;
        self.out.write_all(&self.buffer)?;
        self.buffer.clear();
        Ok(())
    }

    /// Writes the last chunk and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        let encryptor = self.encryptor.take().ok_or_else(|| io::Error::other("archive already finished"))?;
        encryptor.encrypt_last_in_place(ARCHIVE_AAD, &mut self.buffer).map_err(|_| io::Error::other("archive encryption failed"))?;
        self.out.write_all(&self.buffer)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ArchiveWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = ARCHIVE_CHUNK_BYTES - self.buffer.len();
        let taken = room.min(data.len());
        self.buffer.extend_from_slice(&data[..taken]);
        if self.buffer.len() == ARCHIVE_CHUNK_BYTES {
            self.seal_chunk()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Decrypts an archived stream, refusing any chunk that was altered, dropped or moved.
pub struct ArchiveReader<R: BufRead> {
    input: R,
    decryptor: Option<DecryptorBE32<Aes256Gcm>>,
    chunk: Vec<u8>,
    position: usize,
}

fn damaged() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "the archived file is damaged or was sealed with another key")
}

impl<R: BufRead> ArchiveReader<R> {
    fn new(mut input: R, key: &SecretKey) -> io::Result<ArchiveReader<R>> {
        let mut header = [0u8; ARCHIVE_MAGIC.len() + ARCHIVE_NONCE_PREFIX_BYTES];
        input.read_exact(&mut header).map_err(|_| damaged())?;
        if &header[..ARCHIVE_MAGIC.len()] != ARCHIVE_MAGIC {
            return Err(damaged());
        }
        let prefix: [u8; ARCHIVE_NONCE_PREFIX_BYTES] = header[ARCHIVE_MAGIC.len()..].try_into().map_err(|_| damaged())?;
        let cipher = Aes256Gcm::new(key.as_bytes().into());
        let decryptor = DecryptorBE32::from_aead(cipher, &prefix.into());
        Ok(ArchiveReader { input, decryptor: Some(decryptor), chunk: Vec::new(), position: 0 })
    }

    /// Reads and opens the next chunk; false at the end of the stream.
    fn next_chunk(&mut self) -> io::Result<bool> {
        if self.decryptor.is_none() {
            return Ok(false);
        }
        self.chunk.clear();
        self.position = 0;
        let mut limited = (&mut self.input).take((ARCHIVE_CHUNK_BYTES + TAG_BYTES) as u64);
        limited.read_to_end(&mut self.chunk)?;
        // A full chunk followed by more bytes is a middle chunk; anything else is the last.
        let is_last = self.chunk.len() < ARCHIVE_CHUNK_BYTES + TAG_BYTES || self.input.fill_buf()?.is_empty();
        if is_last {
            let decryptor = self.decryptor.take().ok_or_else(damaged)?;
            decryptor.decrypt_last_in_place(ARCHIVE_AAD, &mut self.chunk).map_err(|_| damaged())?;
        } else {
            let decryptor = self.decryptor.as_mut().ok_or_else(damaged)?;
            decryptor.decrypt_next_in_place(ARCHIVE_AAD, &mut self.chunk).map_err(|_| damaged())?;
        }
        Ok(true)
    }
}

impl<R: BufRead> Read for ArchiveReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for ArchiveReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.position >= self.chunk.len() {
            if !self.next_chunk()? {
                return Ok(&[]);
            }
        }
        Ok(&self.chunk[self.position..])
    }

    fn consume(&mut self, amount: usize) {
        self.position = (self.position + amount).min(self.chunk.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::new(&Keys::generate().unwrap())
    }

    #[test]
    fn hashes_are_keyed_and_stable() {
        let keys = Keys::generate().unwrap();
        let (a, b) = (Vault::new(&keys), Vault::new(&keys));
        assert_eq!(a.id_hash(IdType::Ssn, "123456789"), b.id_hash(IdType::Ssn, "123456789"));
        assert_ne!(a.id_hash(IdType::Ssn, "123456789"), a.id_hash(IdType::Other, "123456789"));
        assert_ne!(a.id_hash(IdType::Ssn, "123456789"), vault().id_hash(IdType::Ssn, "123456789"));
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), vault().fingerprint());
    }

    #[test]
    fn sealing_round_trips_and_binds_purpose_and_key() {
        let v = vault();
        let mut rng = NonceSource::new().unwrap();
        let sealed = v.seal(Purpose::Identifier, b"11010519491231002X", &mut rng);
        assert!(!sealed.windows(18).any(|w| w == b"11010519491231002X"));
        assert_eq!(v.open(Purpose::Identifier, &sealed).unwrap(), b"11010519491231002X");
        assert!(v.open(Purpose::Identity, &sealed).is_err());
        assert!(vault().open(Purpose::Identifier, &sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(v.open(Purpose::Identifier, &tampered).is_err());
        assert_ne!(sealed, v.seal(Purpose::Identifier, b"11010519491231002X", &mut rng), "fresh nonce each time");
    }

    fn archive(v: &Vault, data: &[u8]) -> Vec<u8> {
        let mut rng = NonceSource::new().unwrap();
        let mut writer = v.archive_writer(Vec::new(), &mut rng).unwrap();
        // Odd write sizes cross chunk boundaries.
        for piece in data.chunks(7_777) {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap()
    }

    fn unarchive(v: &Vault, sealed: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        v.archive_reader(io::BufReader::with_capacity(1000, sealed))?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn archives_round_trip_at_every_size() {
        let v = vault();
        for size in [0, 1, ARCHIVE_CHUNK_BYTES - 1, ARCHIVE_CHUNK_BYTES, ARCHIVE_CHUNK_BYTES + 1, 3 * ARCHIVE_CHUNK_BYTES + 5] {
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let sealed = archive(&v, &data);
            assert_eq!(unarchive(&v, &sealed).unwrap(), data, "size {size}");
        }
    }

    #[test]
    fn damaged_or_truncated_archives_are_refused() {
        let v = vault();
        let data = vec![b'x'; 2 * ARCHIVE_CHUNK_BYTES + 10];
        let sealed = archive(&v, &data);
        let mut flipped = sealed.clone();
        flipped[100] ^= 1;
        assert!(unarchive(&v, &flipped).is_err());
        // Dropping the last chunk must not pass as a shorter file.
        let truncated = &sealed[..sealed.len() - (10 + TAG_BYTES)];
        assert!(unarchive(&v, truncated).is_err());
        assert!(unarchive(&vault(), &sealed).is_err());
        assert!(unarchive(&v, b"not an archive").is_err());
    }

    #[test]
    fn keys_never_show_in_debug_and_round_trip_as_base64() {
        let keys = Keys::generate().unwrap();
        let debug = format!("{keys:?}");
        assert!(!debug.contains(&keys.identifier_hash_key.to_base64()));
        let text = toml::to_string(&keys).unwrap();
        assert_eq!(toml::from_str::<Keys>(&text).unwrap(), keys);
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
    }
}
