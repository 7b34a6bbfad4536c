//! The one door personal data leaves the registry by. Whatever is opened about people (a
//! subject's file, a furnisher's cycle, an archived file, an account's versions) comes out of
//! the reading code as `Unlogged`, which nothing outside this module can open: the only way to
//! the data is `Registry::disclose`, which writes the read to the access log first. Work that
//! streams personal data out as it reads (batch scoring, a development sample) needs a `Logged`
//! receipt, which only `Registry::log_before` gives, before it may start.
//!
//! Data bound for a file or a stream is written to a private temporary file first (`Staged`),
//! so that a read that fails half-way hands nothing over and logs nothing; once logged, the
//! file is moved into place (owner-only) or copied to the stream.

use std::fs::File;
use std::io::{self, Seek, Write};
use std::path::Path;

use registry_core::report::SubjectKey;

use crate::audit::Access;
use crate::{Registry, ServiceError, io_error};

/// Personal data read but not yet handed to anyone, with the subjects the read names (none: a
/// read of many people at once, logged as one entry that names nobody).
#[must_use = "personal data read and neither disclosed nor dropped"]
pub(crate) struct Unlogged<T> {
    value: T,
    names: Vec<SubjectKey>,
}

impl<T> Unlogged<T> {
    /// Data just opened about `names`.
    pub(crate) fn new(value: T, names: Vec<SubjectKey>) -> Unlogged<T> {
        Unlogged { value, names }
    }

    /// What is made from the data stays unlogged, about the same people.
    pub(crate) fn map<U>(self, make: impl FnOnce(T) -> U) -> Unlogged<U> {
        Unlogged { value: make(self.value), names: self.names }
    }

    /// What is made from the data, when making it can fail (writing it out): the failure says
    /// what went wrong, never what the data holds.
    pub(crate) fn try_map<U, E>(self, make: impl FnOnce(T) -> Result<U, E>) -> Result<Unlogged<U>, E> {
        Ok(Unlogged { value: make(self.value)?, names: self.names })
    }

    /// A decision about the data (does the identity match, is the account on the report) that
    /// hands none of it over.
    pub(crate) fn test(&self, question: impl FnOnce(&T) -> bool) -> bool {
        question(&self.value)
    }

    /// Folds `other` into this data (a record into the file being written): it stays unlogged,
    /// naming whom this read names.
    pub(crate) fn absorb<U, R>(&mut self, other: Unlogged<U>, fold: impl FnOnce(&mut T, U) -> R) -> R {
        fold(&mut self.value, other.value)
    }

    /// The data without a log entry: for tests, benchmarks and comparisons only.
    #[cfg(feature = "testing")]
    pub(crate) fn unlogged_for_tests(self) -> T {
        self.value
    }
}

/// Proof that a read was written to the access log before it starts; only
/// `Registry::log_before` makes one.
pub(crate) struct Logged {
    _only_log_before: (),
}

/// Where personal data written out goes.
pub enum Destination<'d> {
    /// A file, created (or replaced) readable by its owner only.
    File(&'d Path),
    /// A stream, such as standard output.
    Stream(&'d mut dyn Write),
}

/// Personal data written to a private temporary file (mode 0600), not yet anyone's.
pub(crate) struct Staged {
    temp: tempfile::NamedTempFile,
}

impl Staged {
    /// A new temporary file beside `destination` (so that moving it into place is a rename), or
    /// in the system's temporary directory for a stream.
    pub(crate) fn for_destination(destination: &Destination<'_>) -> Result<Staged, ServiceError> {
        let temp = match destination {
            Destination::File(path) => {
                let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                tempfile::NamedTempFile::new_in(dir)
            }
            Destination::Stream(_) => tempfile::NamedTempFile::new(),
        };
        Ok(Staged { temp: temp.map_err(io_error("creating a private file for the output failed"))? })
    }

    pub(crate) fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    fn deliver(mut self, destination: Destination<'_>) -> Result<(), ServiceError> {
        let file = self.temp.as_file_mut();
        file.sync_all().map_err(io_error("writing the output failed"))?;
        match destination {
            Destination::File(path) => {
                self.temp.persist(path).map_err(|e| io_error("moving the output into place failed")(e.error))?;
            }
            Destination::Stream(out) => {
                file.rewind().map_err(io_error("reading back the output failed"))?;
                io::copy(file, out).map_err(io_error("writing the output failed"))?;
                out.flush().map_err(io_error("writing the output failed"))?;
            }
        }
        Ok(())
    }
}

impl Registry {
    /// Hands personal data over: the read is written to the access log first (one entry per
    /// subject it names, or one naming nobody); if the log cannot be written, nothing is given.
    pub(crate) fn disclose<T>(&self, access: &Access, unlogged: Unlogged<T>) -> Result<T, ServiceError> {
        self.log_reads(access, &unlogged.names)?;
        Ok(unlogged.value)
    }

    /// Logs a staged file's read, then moves it to `destination`.
    pub(crate) fn deliver(&self, access: &Access, staged: Unlogged<Staged>, destination: Destination<'_>) -> Result<(), ServiceError> {
        self.disclose(access, staged)?.deliver(destination)
    }

    /// Logs a read that streams personal data out as it goes (one entry naming nobody), before
    /// the first subject is read.
    pub(crate) fn log_before(&self, access: &Access) -> Result<Logged, ServiceError> {
        self.log_reads(access, &[])?;
        Ok(Logged { _only_log_before: () })
    }
}

/// Moves a staged file to `destination` as part of a read already logged (the sample a logged
/// development run also writes out).
pub(crate) fn deliver_logged(_logged: &Logged, staged: Unlogged<Staged>, destination: Destination<'_>) -> Result<(), ServiceError> {
    staged.value.deliver(destination)
}
