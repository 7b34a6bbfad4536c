//! The archive of submitted files: each kept byte for byte, encrypted, under the SHA-256 of
//! its content, for a configurable number of days, so a recent cycle can be replayed or
//! investigated. Files are written to a temporary name and renamed into place, so a crash
//! never leaves a half-written archive under a real name.
//!
//! Files are compressed (LZ4 frames) before they are encrypted: furnishing files shrink about
//! fourfold, and on this hardware the disk, not the CPU, bounds how fast a file is taken in.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::audit::Access;
use crate::disclosure::{Destination, Staged, Unlogged};
use crate::vault::{NonceSource, Vault};
use crate::{Registry, ServiceError, io_error};

const EXTENSION: &str = "cra";
const TEMP_PREFIX: &str = ".incoming-";
/// Temporary files older than this were left by a process that died mid-upload.
const TEMP_AGE_MAX: Duration = Duration::from_hours(24);
const COPY_BUFFER_BYTES: usize = 256 * 1024;
/// Chunks queued for the hashing thread.
const CHUNKS_IN_FLIGHT: usize = 8;

/// A file as archived: its content address and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Archived {
    pub content_sha256: String,
    pub byte_count: u64,
}

/// An archive being written: plaintext in, compressed and encrypted out.
struct ArchiveWriter {
    temp: tempfile::NamedTempFile,
    compressed: lz4_flex::frame::FrameEncoder<crate::vault::ArchiveWriter<BufWriter<File>>>,
    byte_count: u64,
}

impl ArchiveWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.compressed.write_all(bytes)?;
        self.byte_count += bytes.len() as u64;
        Ok(())
    }

    /// Flushes everything to disk; the archive is not in place until `Archive::persist`.
    fn finish(self, content_sha256: String) -> io::Result<PendingArchive> {
        let file = self.compressed.finish().map_err(io::Error::other)?.finish()?;
        let file = file.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        file.sync_all()?;
        let archived = Archived { content_sha256, byte_count: self.byte_count };
        Ok(PendingArchive { temp: self.temp, archived })
    }
}

/// A complete archive on disk under a temporary name.
struct PendingArchive {
    temp: tempfile::NamedTempFile,
    archived: Archived,
}

/// One entry of the archive listing.
#[derive(Clone, Debug)]
pub struct ArchiveEntry {
    pub content_sha256: String,
    pub stored_bytes: u64,
    pub archived_at: SystemTime,
}

pub struct Archive {
    dir: PathBuf,
    retention: Duration,
}

impl Archive {
    pub fn open(dir: &Path, retention_days: u32) -> io::Result<Archive> {
        crate::create_private_dir(dir)?;
        Ok(Archive { dir: dir.to_owned(), retention: Duration::from_secs(u64::from(retention_days) * 24 * 3600) })
    }

    /// Copies `source` into the archive, encrypted, and returns its content hash and size.
    pub fn store(
        &self,
        source: &mut dyn Read,
        vault: &Vault,
        rng: &mut NonceSource,
        progress: &mut dyn FnMut(u64),
    ) -> io::Result<Archived> {
        let mut writer = self.writer(vault, rng)?;
        // SHA-256 runs on a thread of its own while this one compresses and encrypts: the two
        // take about as long, and ingest waits for both.
        let digest = std::thread::scope(|scope| -> io::Result<String> {
            let (chunks, received) = std::sync::mpsc::sync_channel::<Arc<[u8]>>(CHUNKS_IN_FLIGHT);
            let hashing = scope.spawn(move || {
                let mut hasher = Sha256::new();
                for chunk in received {
                    hasher.update(&chunk);
                }
                hex::encode(hasher.finalize())
            });
            let mut buffer = vec![0u8; COPY_BUFFER_BYTES];
            loop {
                let n = match source.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                let chunk: Arc<[u8]> = buffer[..n].into();
                chunks.send(chunk.clone()).map_err(|_| io::Error::other("the hashing thread stopped"))?;
                writer.write(&chunk)?;
                progress(writer.byte_count);
            }
            drop(chunks);
            hashing.join().map_err(|_| io::Error::other("the hashing thread panicked"))
        })?;
        self.persist(writer.finish(digest)?)
    }

    /// Starts an archive to be fed piece by piece.
    fn writer(&self, vault: &Vault, rng: &mut NonceSource) -> io::Result<ArchiveWriter> {
        let temp = tempfile::Builder::new().prefix(TEMP_PREFIX).tempfile_in(&self.dir)?;
        let file = temp.reopen()?;
        let sealed = vault.archive_writer(BufWriter::with_capacity(COPY_BUFFER_BYTES, file), rng)?;
        Ok(ArchiveWriter { temp, compressed: lz4_flex::frame::FrameEncoder::new(sealed), byte_count: 0 })
    }

    /// Moves a finished archive into place under its content hash.
    fn persist(&self, pending: PendingArchive) -> io::Result<Archived> {
        // Renaming over an existing archive of the same content also restarts its retention.
        pending.temp.persist(self.path_of(&pending.archived.content_sha256)).map_err(|e| e.error)?;
        Ok(pending.archived)
    }

    fn path_of(&self, content_sha256: &str) -> PathBuf {
        self.dir.join(format!("{content_sha256}.{EXTENSION}"))
    }

    /// Opens an archived file for reading, decrypted and decompressed.
    pub fn reader(&self, content_sha256: &str, vault: &Vault) -> io::Result<impl BufRead + Send + use<>> {
        if content_sha256.len() != 64 || !content_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "a content hash is 64 hexadecimal digits"));
        }
        let file = File::open(self.path_of(content_sha256))?;
        let decrypted = vault.archive_reader(BufReader::with_capacity(COPY_BUFFER_BYTES, file))?;
        Ok(BufReader::with_capacity(COPY_BUFFER_BYTES, lz4_flex::frame::FrameDecoder::new(decrypted)))
    }

    pub fn list(&self) -> io::Result<Vec<ArchiveEntry>> {
        let mut entries = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(&format!(".{EXTENSION}"))) else { continue };
            let meta = entry.metadata()?;
            entries.push(ArchiveEntry { content_sha256: stem.to_owned(), stored_bytes: meta.len(), archived_at: meta.modified()? });
        }
        entries.sort_by(|a, b| a.archived_at.cmp(&b.archived_at).then_with(|| a.content_sha256.cmp(&b.content_sha256)));
        Ok(entries)
    }

    /// Deletes archived files older than the retention period (and stale temporary files).
    /// Returns how many archived files were deleted.
    pub fn purge_expired(&self, now: SystemTime) -> io::Result<u64> {
        let mut purged = 0;
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let age = now.duration_since(entry.metadata()?.modified()?).unwrap_or_default();
            if name.starts_with(TEMP_PREFIX) && age > TEMP_AGE_MAX {
                fs::remove_file(entry.path())?;
            } else if name.ends_with(&format!(".{EXTENSION}")) && age > self.retention {
                fs::remove_file(entry.path())?;
                purged += 1;
            }
        }
        Ok(purged)
    }
}

impl Registry {
    /// The archived files, oldest first: content hashes, sizes and times, nothing personal.
    pub fn archived_files(&self) -> Result<Vec<ArchiveEntry>, ServiceError> {
        self.archive.list().map_err(io_error("listing the archive failed"))
    }

    /// An archived file, decrypted, to `destination` (a file is created readable by its owner
    /// only), for the reader `access` names: decrypted privately first and handed over only
    /// once the read is logged (one entry naming nobody: a file holds a furnisher's cycle).
    /// `NotFound` when it expired or never was; nothing is logged then. Returns its size.
    pub fn archived_file(&self, access: &Access, content_sha256: &str, destination: Destination<'_>) -> Result<u64, ServiceError> {
        let reader = self.archive.reader(content_sha256, &self.vault).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ServiceError::NotFound(format!("no archived file {content_sha256} (expired or never submitted)")),
            io::ErrorKind::InvalidInput => ServiceError::InvalidInput(e.to_string()),
            _ => io_error("opening the archived file failed")(e),
        })?;
        let mut staged = Unlogged::new(Staged::for_destination(&destination)?, Vec::new());
        let bytes = staged
            .absorb(Unlogged::new(reader, Vec::new()), |staged, mut reader| io::copy(&mut reader, staged.file()))
            .map_err(io_error("decrypting the archived file failed"))?;
        self.deliver(access, staged, destination)?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::Keys;

    #[test]
    fn stores_encrypted_under_the_content_hash_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path(), 90).unwrap();
        let vault = Vault::new(&Keys::generate().unwrap());
        let mut rng = NonceSource::new().unwrap();
        let content = b"{\"account\":\"A\"}\n".repeat(10_000);
        let mut last_progress = 0;
        let archived = archive.store(&mut &content[..], &vault, &mut rng, &mut |b| last_progress = b).unwrap();
        assert_eq!(archived.byte_count, content.len() as u64);
        assert_eq!(last_progress, content.len() as u64);
        assert_eq!(archived.content_sha256, hex::encode(Sha256::digest(&content)));
        let on_disk = fs::read(dir.path().join(format!("{}.cra", archived.content_sha256))).unwrap();
        assert!(!on_disk.windows(13).any(|w| w == b"\"account\":\"A"), "stored encrypted");
        let mut back = Vec::new();
        archive.reader(&archived.content_sha256, &vault).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, content);
        assert_eq!(archive.list().unwrap().len(), 1);
        // Nothing temporary is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn purges_only_what_is_older_than_the_retention() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path(), 90).unwrap();
        let vault = Vault::new(&Keys::generate().unwrap());
        let mut rng = NonceSource::new().unwrap();
        archive.store(&mut &b"x\n"[..], &vault, &mut rng, &mut |_| {}).unwrap();
        let now = SystemTime::now();
        assert_eq!(archive.purge_expired(now + Duration::from_hours(2136)).unwrap(), 0);
        assert_eq!(archive.purge_expired(now + Duration::from_hours(2184)).unwrap(), 1);
        assert!(archive.list().unwrap().is_empty());
    }

    #[test]
    fn refuses_a_malformed_hash() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path(), 90).unwrap();
        let vault = Vault::new(&Keys::generate().unwrap());
        assert!(archive.reader("../../etc/passwd", &vault).is_err());
    }
}
